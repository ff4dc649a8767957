// Float vs int8, side by side (issue 6): both models step over the same recorded readings,
// one state per device, through each device's whole stream, so error that builds up in
// the recurrent state shows. Pure: data in, numbers out; the CLI reads the CSV. Lives in
// src/eval (issue 14): it judges models, and nothing on the serving path needs it.
// A windowed model (issue 19) has a result only at the rows that end a hop: only those rows
// are compared and scored, each against its own row's target or label (the window's last
// reading; a model trained with train --window-label any is still scored this way here).
import type { Model } from '../model/types.js';
import { createSession, type Session, type StreamState } from '../runtime/session.js';
import { isWindowSession } from '../runtime/session-window.js';
import { ROLE_VAL, splitRoles, type SplitSpec } from '../train/split.js';

export interface CompareData {
  /** Raw readings [N, I] in the model's input order, rows in arrival order. */
  readonly inputs: Float32Array;
  /** Device of each row [N]; omitted: one stream. */
  readonly devices?: readonly string[];
  /**
   * Regression: the columns named by the model's outputs [N, O] (NaN where absent). For a
   * forecaster (outputs.horizon = k) row t is scored against the same device's row t + k.
   */
  readonly targets?: Float64Array | Float32Array;
  /** Classification: the true label of each row [N] ('' where absent). */
  readonly labels?: readonly string[];
  /**
   * Score the task metric only on the last fraction of each device's stream, as
   * `train --val` holds it out (n - floor(n * f) training steps first). Every stream is
   * still stepped from its start, and the output differences cover every row.
   */
  readonly validationFraction?: number;
  /** How the validation rows lie (train --val-mode, --val-blocks, --val-gap); default: the tail. */
  readonly validationSplit?: Omit<SplitSpec, 'valFraction'>;
}

export interface ErrorPair {
  readonly rmse: number;
  readonly mae: number;
}

export interface RegressionMetric {
  readonly kind: 'regression';
  /** Rows with a target (a forecaster's last k rows per device have none). */
  readonly scored: number;
  /** Set when only each stream's validation rows were scored. */
  readonly validationFraction?: number;
  /** Set when those rows were train --val-mode blocks' blocks, not the tail. */
  readonly validationMode?: 'blocks';
  readonly horizon: number;
  readonly perOutput: readonly { readonly name: string; readonly float: ErrorPair; readonly int8: ErrorPair }[];
}

/** One model's score on the labelled rows (not per class: that is train's PerClassMetrics). */
export interface ClassifierScore {
  readonly accuracy: number;
  /** Macro F1 over the classes that occur in the labels or the predictions. */
  readonly macroF1: number;
}

export interface ClassificationMetric {
  readonly kind: 'classification';
  readonly scored: number;
  readonly validationFraction?: number;
  readonly validationMode?: 'blocks';
  readonly float: ClassifierScore;
  readonly int8: ClassifierScore;
  /** Fraction of scored rows where both models pick the same label. */
  readonly agreement: number;
}

export type TaskMetric = RegressionMetric | ClassificationMetric;

export interface SideBySide {
  readonly rows: number;
  /** A windowed model: the rows that ended a window (the only ones with outputs, compared and scored). */
  readonly windowResults?: number;
  readonly streams: number;
  readonly outputs: readonly string[];
  /** |y_float - y_int8| over every row and output, in output units (de-normalised). */
  readonly maxAbsDiff: number;
  readonly meanAbsDiff: number;
  readonly perOutput: readonly { readonly name: string; readonly maxAbsDiff: number; readonly meanAbsDiff: number }[];
  /**
   * Mean |diff| by position in each device's stream, in quarters (first 25% of every
   * stream's steps, ...): a rising sequence means error builds up through the state.
   */
  readonly meanAbsDiffByQuarter: readonly number[];
  readonly metric: TaskMetric | null;
  /** Why no task metric was computed, when it was not. */
  readonly metricNote?: string;
}

function argmax(a: ArrayLike<number>, off: number, n: number): number {
  let best = 0;
  for (let k = 1; k < n; k++) if (a[off + k] > a[off + best]) best = k;
  return best;
}

/** Steps both models over `data`; returns every output of each [N, O] plus the diff summary. */
export function compareModels(float: Model, int8: Model, data: CompareData): SideBySide & { yFloat: Float32Array; yInt8: Float32Array } {
  const a = createSession(float);
  const b = createSession(int8);
  if (a.inputSize !== b.inputSize || a.outputSize !== b.outputSize) {
    throw new RangeError(`compareModels: the models differ in shape (${a.inputSize}->${a.outputSize} vs ${b.inputSize}->${b.outputSize})`);
  }
  const I = a.inputSize, O = a.outputSize;
  const N = data.inputs.length / I;
  if (!Number.isInteger(N)) throw new RangeError(`compareModels: ${data.inputs.length} inputs is not a multiple of ${I}`);
  if (data.devices && data.devices.length !== N) throw new RangeError(`compareModels: ${data.devices.length} devices for ${N} rows`);

  const streams = new Map<string, { sa: StreamState; sb: StreamState; rows: number[] }>();
  const yFloat = new Float32Array(N * O), yInt8 = new Float32Array(N * O);
  const position = new Int32Array(N);
  // Rows with an output: every row, or for a windowed model the rows that end a window.
  const produced = new Uint8Array(N).fill(1);
  const windowed = isWindowSession(a) && isWindowSession(b);
  const advance = (s: Session, st: StreamState, x: Float32Array, y: Float32Array): boolean =>
    isWindowSession(s) ? s.window.push(st, x, undefined, y) : (s.step(st, x, y), true);
  for (let r = 0; r < N; r++) {
    const device = data.devices?.[r] ?? '';
    let s = streams.get(device);
    if (!s) streams.set(device, (s = { sa: a.createState(), sb: b.createState(), rows: [] }));
    position[r] = s.rows.length;
    s.rows.push(r);
    const x = data.inputs.subarray(r * I, (r + 1) * I);
    const ended = advance(a, s.sa, x, yFloat.subarray(r * O, (r + 1) * O));
    advance(b, s.sb, x, yInt8.subarray(r * O, (r + 1) * O)); // same window: both end at the same rows
    if (!ended) produced[r] = 0;
  }

  const maxO = new Float64Array(O), sumO = new Float64Array(O);
  const qSum = new Float64Array(4), qCount = new Float64Array(4);
  let max = 0, sum = 0, compared = 0;
  for (let r = 0; r < N; r++) {
    if (!produced[r]) continue;
    compared++;
    const len = streams.get(data.devices?.[r] ?? '')!.rows.length;
    const quarter = Math.min(3, Math.floor((4 * position[r]) / len));
    for (let o = 0; o < O; o++) {
      const d = Math.abs(yFloat[r * O + o] - yInt8[r * O + o]);
      if (d > maxO[o]) maxO[o] = d;
      sumO[o] += d;
      if (d > max) max = d;
      sum += d;
      qSum[quarter] += d;
      qCount[quarter]++;
    }
  }
  const names = float.outputs.labels ?? float.outputs.names;
  const f = data.validationFraction;
  if (f !== undefined && !(f > 0 && f < 1)) throw new RangeError(`compareModels: validationFraction must be in (0, 1), got ${f}`);
  const inScope = new Uint8Array(N).fill(1);
  if (f !== undefined) {
    const spec: SplitSpec = { mode: 'tail', blocks: 1, gap: 0, ...data.validationSplit, valFraction: f };
    for (const { rows } of streams.values()) {
      const role = splitRoles(rows.length, spec);
      for (let p = 0; p < rows.length; p++) if (role[p] !== ROLE_VAL) inScope[rows[p]] = 0;
    }
  }
  const rowScope = inScope.map((v, r) => v & produced[r]);
  const { metric, note } = taskMetric(float, data, yFloat, yInt8, streams, O, rowScope, inScope);
  return {
    rows: N, ...(windowed ? { windowResults: compared } : {}), streams: streams.size, outputs: [...names],
    maxAbsDiff: max, meanAbsDiff: compared > 0 ? sum / (compared * O) : 0,
    perOutput: names.map((name, o) => ({ name, maxAbsDiff: maxO[o], meanAbsDiff: compared > 0 ? sumO[o] / compared : 0 })),
    meanAbsDiffByQuarter: Array.from(qSum, (s, k) => (qCount[k] > 0 ? s / qCount[k] : 0)),
    metric, ...(note ? { metricNote: note } : {}),
    yFloat, yInt8,
  };
}

function taskMetric(
  model: Model, data: CompareData, yFloat: Float32Array, yInt8: Float32Array,
  streams: Map<string, { rows: number[] }>, O: number, inScope: Uint8Array, targetScope: Uint8Array,
): { metric: TaskMetric | null; note?: string } {
  const N = yFloat.length / O;
  const val = data.validationFraction !== undefined
    ? { validationFraction: data.validationFraction, ...(data.validationSplit?.mode === 'blocks' ? { validationMode: 'blocks' as const } : {}) }
    : {};
  if (model.task === 'classification') {
    if (!data.labels) return { metric: null, note: 'no label column in the data' };
    return { metric: { ...classification(model.outputs.labels!, data.labels, yFloat, yInt8, O, inScope), ...val } };
  }
  if (!data.targets) return { metric: null, note: 'no target columns in the data' };
  if (data.targets.length !== N * O) throw new RangeError(`compareModels: ${data.targets.length} targets for ${N} rows of ${O} outputs`);
  const k = model.outputs.horizon ?? 0;
  // target row of each row: the same device's row k steps later (k = 0: itself), or -1.
  const targetRow = new Int32Array(N).fill(-1);
  for (const { rows } of streams.values()) for (let p = 0; p + k < rows.length; p++) targetRow[rows[p]] = rows[p + k];
  const sq = [new Float64Array(O), new Float64Array(O)], ab = [new Float64Array(O), new Float64Array(O)];
  const count = new Float64Array(O);
  let scored = 0;
  for (let r = 0; r < N; r++) {
    const t = targetRow[r];
    // Scored as training scores: the reading and its target both in validation (isValStep).
    if (t < 0 || !inScope[r] || !targetScope[t]) continue;
    let any = false;
    for (let o = 0; o < O; o++) {
      const target = data.targets[t * O + o];
      if (!Number.isFinite(target)) continue;
      any = true;
      count[o]++;
      [yFloat, yInt8].forEach((y, m) => {
        const e = y[r * O + o] - target;
        sq[m][o] += e * e;
        ab[m][o] += Math.abs(e);
      });
    }
    if (any) scored++;
  }
  if (scored === 0) return { metric: null, note: k > 0 ? `no device stream is longer than the horizon (${k} steps)` : 'no row has a target value' };
  const pair = (m: number, o: number): ErrorPair => ({ rmse: Math.sqrt(sq[m][o] / count[o]), mae: ab[m][o] / count[o] });
  return {
    metric: {
      kind: 'regression', scored, horizon: k, ...val,
      perOutput: model.outputs.names.map((name, o) => ({ name, float: pair(0, o), int8: pair(1, o) })),
    },
  };
}

function classification(
  classes: readonly string[], labels: readonly string[], yFloat: Float32Array, yInt8: Float32Array, O: number,
  inScope: Uint8Array,
): ClassificationMetric {
  const N = yFloat.length / O;
  if (labels.length !== N) throw new RangeError(`compareModels: ${labels.length} labels for ${N} rows`);
  const rows: number[] = [];
  for (let r = 0; r < N; r++) if (labels[r] !== '' && inScope[r]) rows.push(r);
  const scores = (y: Float32Array): ClassifierScore => {
    const tp = new Map<string, number>(), fp = new Map<string, number>(), fn = new Map<string, number>();
    const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
    let correct = 0;
    for (const r of rows) {
      const pred = classes[argmax(y, r * O, O)], truth = labels[r];
      if (pred === truth) {
        correct++;
        inc(tp, truth);
      } else {
        inc(fp, pred);
        inc(fn, truth);
      }
    }
    const seen = new Set([...tp.keys(), ...fp.keys(), ...fn.keys()]);
    let f1 = 0;
    for (const c of seen) {
      const t = tp.get(c) ?? 0;
      f1 += (2 * t) / (2 * t + (fp.get(c) ?? 0) + (fn.get(c) ?? 0));
    }
    return { accuracy: rows.length ? correct / rows.length : 0, macroF1: seen.size ? f1 / seen.size : 0 };
  };
  let agree = 0;
  for (const r of rows) if (argmax(yFloat, r * O, O) === argmax(yInt8, r * O, O)) agree++;
  return {
    kind: 'classification', scored: rows.length,
    float: scores(yFloat), int8: scores(yInt8), agreement: rows.length ? agree / rows.length : 0,
  };
}
