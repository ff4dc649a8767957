// Is the validation split like the training split? Per-part statistics (regression: spread
// of each target's value and of its h-step change; classification: class counts), the
// per-device table, and warnings when validation cannot judge the model: a class present in
// training that validation never holds, or target changes of a very different size.
import { isTrainStep, isValStep, type Dataset } from './dataset.js';
import { ROLE_GAP, ROLE_TRAIN, ROLE_VAL } from './split.js';

/** Validation's change spread this many times smaller or larger than training's draws a warning. */
export const SPREAD_WARNING_RATIO = 4;

export interface PartStats {
  readonly rows: number;
  readonly steps: number;
  /** Regression, per target: population std of the value over the part's rows, and of the h-step change over its steps. */
  readonly valueStd?: readonly number[];
  readonly changeStd?: readonly number[];
  /** Classification: rows of each class (label order). */
  readonly classCounts?: readonly number[];
}

export interface SplitReport {
  readonly train: PartStats;
  readonly validation: PartStats;
  readonly devices: readonly { readonly device: string; readonly rows: number; readonly train: number; readonly validation: number; readonly gap: number }[];
  readonly warnings: readonly string[];
}

function std(sum: number, sumSq: number, n: number): number {
  if (n === 0) return NaN;
  const m = sum / n;
  return Math.sqrt(Math.max(0, sumSq / n - m * m));
}

function partStats(ds: Dataset, role: number): PartStats {
  const k = ds.shift;
  const isStep = role === ROLE_TRAIN ? isTrainStep : isValStep;
  let rows = 0, steps = 0;
  if (ds.task === 'classification') {
    const counts = ds.labels!.map(() => 0);
    for (const s of ds.series) {
      for (let t = 0; t < s.n; t++) {
        if (s.role[t] === role) { rows++; counts[s.cls[t]]++; }
        if (isStep(s, k, t)) steps++;
      }
    }
    return { rows, steps, classCounts: counts };
  }
  const O = ds.outputNames.length;
  // Centred on the first value seen, so the sums of squares do not lose the spread to the level.
  const v = [new Float64Array(O), new Float64Array(O), new Float64Array(O)], c = [new Float64Array(O), new Float64Array(O)];
  const first = ds.series[0].raw;
  for (const s of ds.series) {
    for (let t = 0; t < s.n; t++) {
      if (s.role[t] === role) {
        rows++;
        for (let o = 0; o < O; o++) { const d = s.raw[t * O + o] - first[o]; v[0][o] += d; v[1][o] += d * d; }
      }
      if (isStep(s, k, t)) {
        steps++;
        for (let o = 0; o < O; o++) { const d = s.raw[(t + k) * O + o] - s.raw[t * O + o]; c[0][o] += d; c[1][o] += d * d; }
      }
    }
  }
  return {
    rows, steps,
    valueStd: Array.from({ length: O }, (_, o) => std(v[0][o], v[1][o], rows)),
    changeStd: Array.from({ length: O }, (_, o) => std(c[0][o], c[1][o], steps)),
  };
}

const p3 = (x: number) => String(Number(x.toPrecision(3)));

export function splitReport(ds: Dataset): SplitReport {
  const train = partStats(ds, ROLE_TRAIN), validation = partStats(ds, ROLE_VAL);
  const warnings: string[] = [];
  const hint = ds.split.mode === 'tail' ? '; --val-mode blocks spreads validation over the whole recording' : '';
  if (ds.task === 'classification') {
    ds.labels!.forEach((label, i) => {
      const inTrain = train.classCounts![i], inVal = validation.classCounts![i];
      if (inTrain > 0 && inVal === 0) {
        warnings.push(`validation holds no rows of class "${label}" (training holds ${inTrain}): the card cannot say how well the model finds it${hint}`);
      }
    });
  } else {
    ds.outputNames.forEach((name, o) => {
      const a = train.changeStd![o], b = validation.changeStd![o];
      if (!(a > 0 && b > 0)) return;
      const r = b / a;
      if (r > SPREAD_WARNING_RATIO || r < 1 / SPREAD_WARNING_RATIO) {
        const how = r < 1 ? `${p3(1 / r)}x smaller` : `${p3(r)}x larger`;
        warnings.push(`validation's ${ds.shift}-step changes of ${name} are ${how} than training's (std ${p3(b)} vs ${p3(a)}): validation is not like training, so its scores say little about the model${hint}`);
      }
    });
  }
  const devices = ds.series.map((s) => {
    let tr = 0, va = 0, gap = 0;
    for (let t = 0; t < s.n; t++) {
      if (s.role[t] === ROLE_TRAIN) tr++;
      else if (s.role[t] === ROLE_VAL) va++;
      else if (s.role[t] === ROLE_GAP) gap++;
    }
    return { device: s.device, rows: s.n, train: tr, validation: va, gap };
  });
  return { train, validation, devices, warnings };
}

const r4 = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(4)) : null);
const pct = (v: number) => `${(100 * v).toFixed(1)} %`;

function kind(ds: Dataset): string {
  const s = ds.split;
  if (s.mode === 'tail') {
    return s.gap === 0
      ? 'time-ordered per device: the last part of each device series is validation'
      : `time-ordered per device: the last part of each device series is validation, after a gap of ${s.gap} rows`;
  }
  return `time-ordered per device: ${s.blocks} interleaved validation blocks per device series, each with a gap of ${s.gap} rows on both sides`;
}

/** The card's `split` object. */
export function splitJson(ds: Dataset, r: SplitReport): Record<string, unknown> {
  const part = (p: PartStats) => ({
    rows: p.rows, steps: p.steps,
    ...(p.valueStd ? { valueStd: p.valueStd.map(r4), changeStd: p.changeStd!.map(r4) } : {}),
    ...(p.classCounts ? { classCounts: p.classCounts } : {}),
  });
  const s = ds.split;
  return {
    kind: kind(ds), valFraction: ds.valFraction,
    ...(s.mode !== 'tail' || s.gap !== 0 ? { mode: s.mode, ...(s.mode === 'blocks' ? { blocks: s.blocks, phase: s.phase ?? 0 } : {}), gap: s.gap } : {}),
    trainSteps: ds.trainSteps, valSteps: ds.valSteps,
    devices: r.devices.map((d) => ({ device: d.device, rows: d.rows, train: d.train, validation: d.validation, ...(d.gap ? { gap: d.gap } : {}) })),
    statistics: { train: part(r.train), validation: part(r.validation) },
    ...(r.warnings.length ? { warnings: r.warnings } : {}),
  };
}

/** The card's "Split" section. */
export function splitMarkdown(ds: Dataset, r: SplitReport): string[] {
  const s = ds.split;
  const md: string[] = ['## Split', ''];
  const where = s.mode === 'tail'
    ? `the last ${pct(ds.valFraction)} of each device's series is validation${s.gap ? `, after a gap of ${s.gap} dropped rows` : ''}`
    : `${pct(ds.valFraction)} of each device's series is validation, in ${s.blocks} blocks spread over it${s.phase ? ` (each ending ${s.phase} of a segment before the segment's end, the phase that puts the most classes or strata in both parts)` : ''}, each with ${s.gap} dropped rows on both sides so that no training target reaches into validation`;
  md.push(`Time-ordered per device: ${where} (no shuffling across time, so no leakage). ${ds.trainSteps} training steps, ${ds.valSteps} validation steps.`, '');
  const gaps = r.devices.some((d) => d.gap > 0);
  md.push(`| device | rows | train | validation |${gaps ? ' gap |' : ''}`, `|---|---:|---:|---:|${gaps ? '---:|' : ''}`);
  for (const d of r.devices) md.push(`| ${d.device || '(all)'} | ${d.rows} | ${d.train} | ${d.validation} |${gaps ? ` ${d.gap} |` : ''}`);
  md.push('');
  if (ds.task === 'classification') {
    md.push('| part | rows | ' + ds.labels!.map((l) => `class ${l}`).join(' | ') + ' |', `|---|---:|${ds.labels!.map(() => '---:').join('|')}|`);
    for (const [name, p] of [['train', r.train], ['validation', r.validation]] as const) md.push(`| ${name} | ${p.rows} | ${p.classCounts!.join(' | ')} |`);
  } else {
    md.push(`| part | target | rows | std of value | std of ${ds.shift}-step change |`, '|---|---|---:|---:|---:|');
    for (const [name, p] of [['train', r.train], ['validation', r.validation]] as const) {
      ds.outputNames.forEach((t, o) => md.push(`| ${name} | ${t} | ${p.rows} | ${r4(p.valueStd![o])} | ${r4(p.changeStd![o])} |`));
    }
  }
  if (r.warnings.length) md.push('', ...r.warnings.map((w) => `**Warning:** ${w}.`));
  md.push('');
  return md;
}
