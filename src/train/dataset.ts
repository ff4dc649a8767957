// From parsed columns to training series: one series per device (never mixed), a
// time-ordered validation split of each device's series (its tail, or interleaved blocks:
// split.ts), normalisation statistics from the training split only, and the per-step targets.
import { parseCellNumber } from '../protocol/cell-number.js';
import { TrainDataError } from './errors.js';
import { chooseBlockPhase, DEFAULT_VAL_BLOCKS, defaultValGap, lastTrainRow, ROLE_TRAIN, splitRoles, trainStepAt, valStepAt, type SplitSpec, type ValMode } from './split.js';

export type TaskSpec =
  | {
    readonly task: 'regression';
    /** Target column names and values (one array per column, one value per row). */
    readonly targetNames: readonly string[];
    readonly targets: readonly (ArrayLike<number>)[];
    /** Forecast the targets this many steps ahead (>= 1). */
    readonly horizon: number;
    /**
     * Residual forecasting: learn the change target[t + horizon] − input[t] of each target
     * from the input of the same name (every target must be an input); the model file says
     * outputs.residual and the runtime adds the current reading back.
     */
    readonly residual?: boolean;
  }
  | {
    readonly task: 'classification';
    readonly labelName: string;
    /** The label of each row (as text, e.g. "0", "1"). */
    readonly labels: readonly string[];
  };

export interface DatasetInput {
  readonly inputNames: readonly string[];
  /** One array per input column, one value per row, rows in time order within a device. */
  readonly inputs: readonly (ArrayLike<number>)[];
  /** Device of each row; absent: all rows are one series. */
  readonly devices?: readonly string[];
  readonly target: TaskSpec;
  /** Fraction of each device's series kept for validation (its last part), 0 < val < 1. */
  readonly valFraction: number;
  /** Where validation rows are: the tail of each device (default) or interleaved blocks. */
  readonly valMode?: ValMode;
  /** Blocks mode: validation blocks per device (default 5). */
  readonly valBlocks?: number;
  /** Rows dropped between training and validation parts (default: 0 in tail mode, max(seqLen, horizon) in blocks mode). */
  readonly valGap?: number;
  /**
   * Blocks mode: a class per row (e.g. an event column) the blocks are placed by, so that
   * each class has rows in both parts where the recording allows. Classification: its labels.
   */
  readonly strata?: readonly string[];
  /** Truncated-BPTT window; every device's training part must hold at least one. */
  readonly seqLen: number;
  /** The flag that set seqLen, for the error messages (default "--seq-len"; train --window: "--window"). */
  readonly seqLenFlag?: string;
}

export interface Series {
  readonly device: string;
  /** Steps (rows) in this device's series. */
  readonly n: number;
  /**
   * Tail mode: rows [0, trainEnd) are the training part. In any mode, one past the last
   * training row; which rows train and validate is `role` (read it through isTrainStep / isValStep).
   */
  readonly trainEnd: number;
  /** Role of each row: ROLE_TRAIN, ROLE_VAL or ROLE_GAP (split.ts). */
  readonly role: Uint8Array;
  /** Normalised inputs [n, I], computed exactly as the runtime does: f32((f32(x) - mean) / std). */
  readonly x: Float32Array;
  /** Raw inputs as the runtime receives them, f32(x) [n, I] (residual outputs add these back). */
  readonly xRaw: Float32Array;
  /**
   * Regression: normalised target of step t [n, O]: the targets' values at t + horizon, or
   * (residual) their change from the current input, target[t + horizon] − f32(input[t]).
   */
  readonly y: Float32Array;
  /** Regression: raw target columns at step t [n, O] (metrics, persistence baseline). */
  readonly raw: Float64Array;
  /** Classification: class index of step t [n]. */
  readonly cls: Int32Array;
}

export interface Dataset {
  readonly task: 'regression' | 'classification';
  readonly inputNames: readonly string[];
  /** Regression: target names; classification: [label column]. */
  readonly outputNames: readonly string[];
  /** Classification: class labels in output order. */
  readonly labels?: readonly string[];
  /** Steps between input and target: the horizon (regression) or 0 (classification). */
  readonly shift: number;
  readonly inputMean: Float32Array;
  readonly inputStd: Float32Array;
  /** Smallest and largest value of each input over the training rows (f32), for the runtime's input guard. */
  readonly inputMin: Float32Array;
  readonly inputMax: Float32Array;
  /** Regression: statistics of the targets (residual: of their changes), training split only. */
  readonly targetMean?: Float32Array;
  readonly targetStd?: Float32Array;
  /** Residual regression: for each output, the index of the input it is the change of. */
  readonly residualInputs?: Int32Array;
  /** Classification: training-split count of each class. */
  readonly classCounts?: readonly number[];
  readonly series: readonly Series[];
  readonly valFraction: number;
  /** The split as built (mode, blocks, gap, fraction). */
  readonly split: SplitSpec;
  readonly rows: number;
  readonly trainSteps: number;
  readonly valSteps: number;
}

/** Output width: targets (regression) or classes (classification). */
export function outputWidth(d: Dataset): number {
  return d.task === 'regression' ? d.outputNames.length : d.labels!.length;
}

/** Regression, in place: normalised outputs [n, O] of s to the data's units (classification: unchanged). */
export function denormaliseOutputs(ds: Dataset, s: Series, out: Float32Array): Float32Array {
  if (ds.task === 'regression') {
    const O = ds.outputNames.length, mean = ds.targetMean!, std = ds.targetStd!;
    for (let t = 0; t < s.n; t++) for (let o = 0; o < O; o++) out[t * O + o] = out[t * O + o] * std[o] + mean[o];
    const from = ds.residualInputs, I = ds.inputNames.length;
    if (from) for (let t = 0; t < s.n; t++) for (let o = 0; o < O; o++) out[t * O + o] = s.xRaw[t * I + from[o]] + out[t * O + o];
  }
  return out;
}

/**
 * Whether step t of s has a training target (input and target rows both training rows, the
 * target within the series: a series cut short, n < role.length, ends its steps at n).
 */
export function isTrainStep(s: Series, shift: number, t: number): boolean {
  return t + shift < s.n && trainStepAt(s.role, shift, t);
}

/** Whether step t of s is a validation step (input and target rows both validation rows). */
export function isValStep(s: Series, shift: number, t: number): boolean {
  return t + shift < s.n && valStepAt(s.role, shift, t);
}

// Labels that all read as numbers (by the CSV number rule) sort as numbers: "2" before "10".
function sortLabels(values: Iterable<string>): string[] {
  const list = [...new Set(values)];
  const value = new Map<string, number>();
  for (const v of list) {
    const n = parseCellNumber(v);
    if (!n.ok) return list.sort();
    value.set(v, n.value);
  }
  return list.sort((a, b) => value.get(a)! - value.get(b)!);
}

/** Mean, population std, min and max over the training rows of each column, rounded to f32 as stored. */
function trainStats(
  columns: readonly (ArrayLike<number>)[], names: readonly string[], groups: readonly number[][],
  include: readonly ((t: number) => boolean)[], what: string,
): { mean: Float32Array; std: Float32Array; min: Float32Array; max: Float32Array } {
  const mean = new Float32Array(columns.length);
  const std = new Float32Array(columns.length);
  const min = new Float32Array(columns.length).fill(Infinity);
  const max = new Float32Array(columns.length).fill(-Infinity);
  columns.forEach((col, c) => {
    let n = 0, sum = 0;
    groups.forEach((rows, g) => {
      for (let t = 0; t < rows.length; t++) {
        if (!include[g](t)) continue;
        const v = col[rows[t]];
        sum += v;
        n++;
        if (v < min[c]) min[c] = v;
        if (v > max[c]) max[c] = v;
      }
    });
    const m = sum / n;
    let ss = 0;
    groups.forEach((rows, g) => { for (let t = 0; t < rows.length; t++) { if (include[g](t)) { const d = col[rows[t]] - m; ss += d * d; } } });
    const sd = Math.sqrt(ss / n);
    // Relative to the mean's size: float noise in a constant column must count as constant.
    if (!(sd > 1e-9 * Math.max(1, Math.abs(m)))) {
      throw new TrainDataError(
        `${what} column "${names[c]}" is constant on the training split (std 0, every value ${m}): it carries no information; leave it out`,
      );
    }
    mean[c] = m;
    std[c] = sd;
  });
  return { mean, std, min, max };
}

function blockPhaseFor(labels: readonly string[], groups: readonly number[][], spec: SplitSpec): number {
  const list = sortLabels(labels);
  const index = new Map(list.map((l, i) => [l, i]));
  return chooseBlockPhase(groups.map((g) => Int32Array.from(g, (r) => index.get(labels[r])!)), list.length, spec);
}

export function buildDataset(input: DatasetInput): Dataset {
  const { inputNames, inputs, target, valFraction, seqLen } = input;
  const rows = inputs.length > 0 ? inputs[0].length : 0;
  if (inputNames.length === 0 || inputNames.length !== inputs.length) throw new TrainDataError('need at least one input column, each with a name');
  if (!(valFraction > 0 && valFraction < 1)) throw new TrainDataError(`--val must be a fraction between 0 and 1 (exclusive), got ${valFraction}`);
  const seqFlag = input.seqLenFlag ?? '--seq-len';
  if (!(Number.isInteger(seqLen) && seqLen >= 1)) throw new TrainDataError(`${seqFlag} must be a positive integer, got ${seqLen}`);
  const shift = target.task === 'regression' ? target.horizon : 0;
  if (target.task === 'regression' && !(Number.isInteger(shift) && shift >= 1)) {
    throw new TrainDataError(`--horizon must be a positive integer, got ${shift}`);
  }
  const all = target.task === 'regression' ? [...inputs, ...target.targets] : inputs;
  const allNames = target.task === 'regression' ? [...inputNames, ...target.targetNames] : inputNames;
  all.forEach((col, c) => {
    if (col.length !== rows) throw new TrainDataError(`column "${allNames[c]}" has ${col.length} values, expected ${rows}`);
    for (let r = 0; r < rows; r++) {
      if (!Number.isFinite(col[r])) throw new TrainDataError(`row ${r + 1}, column "${allNames[c]}": ${col[r]} is not a finite number`);
    }
  });

  // Group rows by device, in first-seen order; rows keep their file order inside a device.
  const groups = new Map<string, number[]>();
  for (let r = 0; r < rows; r++) {
    const dev = input.devices ? input.devices[r] : '';
    let g = groups.get(dev);
    if (!g) groups.set(dev, (g = []));
    g.push(r);
  }
  const devices = [...groups.keys()];
  const rowGroups = [...groups.values()];
  const mode = input.valMode ?? 'tail';
  if (mode !== 'tail' && mode !== 'blocks') throw new TrainDataError(`--val-mode must be tail or blocks, got ${String(mode)}`);
  const blocks = input.valBlocks ?? DEFAULT_VAL_BLOCKS;
  if (!(Number.isInteger(blocks) && blocks >= 1)) throw new TrainDataError(`--val-blocks must be a positive integer, got ${blocks}`);
  const gap = input.valGap ?? defaultValGap(mode, seqLen, shift);
  if (!(Number.isInteger(gap) && gap >= 0)) throw new TrainDataError(`--val-gap must be an integer >= 0, got ${gap}`);
  // Blocks mode for a classification: the block phase that puts the most classes in both parts.
  const strata = input.strata ?? (target.task === 'classification' ? target.labels : undefined);
  if (input.strata && input.strata.length !== rows) throw new TrainDataError(`the strata column has ${input.strata.length} values, expected ${rows}`);
  const phase = mode === 'blocks' && strata && strata.length === rows
    ? blockPhaseFor(strata, rowGroups, { valFraction, mode, blocks, gap })
    : 0;
  const split: SplitSpec = { valFraction, mode, blocks, gap, ...(phase ? { phase } : {}) };
  const roles = rowGroups.map((g, i) => {
    const n = g.length;
    const name = devices[i] === '' ? 'the data' : `device "${devices[i]}"`;
    const role = splitRoles(n, split);
    if (mode === 'tail') {
      const trainEnd = n - Math.floor(n * valFraction);
      const needTrain = seqLen + shift, needVal = gap + shift + 1;
      if (trainEnd < needTrain || n - trainEnd < needVal) {
        const need = Math.max(needTrain + needVal, Math.ceil((needTrain) / (1 - valFraction)));
        throw new TrainDataError(
          `${name} has ${n} rows: too few for ${seqFlag} ${seqLen}` + (shift ? ` and horizon ${shift}` : '') +
          ` with --val ${valFraction}${gap ? ` and --val-gap ${gap}` : ''} (its training part must hold at least ${needTrain} rows and its validation part ${needVal}; about ${need} rows needed)`,
        );
      }
      return role;
    }
    let trainSteps = 0, valSteps = 0;
    for (let t = 0; t < n; t++) {
      if (trainStepAt(role, shift, t)) trainSteps++;
      else if (valStepAt(role, shift, t)) valSteps++;
    }
    if (trainSteps < seqLen || valSteps < 1) {
      throw new TrainDataError(
        `${name} has ${n} rows: too few for --val-mode blocks with --val-blocks ${blocks}, --val-gap ${gap} and --val ${valFraction}` +
        ` (${trainSteps} training steps, at least ${seqFlag} ${seqLen} needed; ${valSteps} validation steps, at least 1 needed); use fewer blocks or a smaller gap`,
      );
    }
    return role;
  });
  const trainEnds = roles.map((r) => lastTrainRow(r) + 1);
  const trainRow = roles.map((r) => (t: number) => r[t] === ROLE_TRAIN);

  let residualInputs: Int32Array | undefined;
  if (target.task === 'regression' && target.residual) {
    const missing = target.targetNames.find((n) => !inputNames.includes(n));
    if (missing !== undefined) {
      throw new TrainDataError(
        `--residual: target "${missing}" is not an input (a residual forecaster predicts each target's change from the input of the same name; inputs: ${inputNames.join(', ')})`,
      );
    }
    residualInputs = Int32Array.from(target.targetNames, (n) => inputNames.indexOf(n));
  }
  // Residual: the change of target o from step t to t + shift, by the row of step t (NaN
  // where t + shift is past the device's end; those rows are never read).
  const deltas = residualInputs && target.task === 'regression'
    ? target.targets.map((col, o) => {
      const d = new Float64Array(rows).fill(NaN);
      const inCol = inputs[residualInputs![o]];
      for (const g of rowGroups) for (let t = 0; t + shift < g.length; t++) d[g[t]] = col[g[t + shift]] - Math.fround(inCol[g[t]]);
      return d;
    })
    : undefined;

  const { mean: inputMean, std: inputStd, min: inputMin, max: inputMax } = trainStats(inputs, inputNames, rowGroups, trainRow, 'input');
  let targetMean: Float32Array | undefined, targetStd: Float32Array | undefined;
  let labels: string[] | undefined, classCounts: number[] | undefined;
  if (target.task === 'regression') {
    ({ mean: targetMean, std: targetStd } = deltas
      // Over the training steps: those whose target also lies in the training part.
      ? trainStats(deltas, target.targetNames.map((n) => `${n} (change over ${shift} steps)`), rowGroups, roles.map((r) => (t: number) => trainStepAt(r, shift, t)), 'target')
      : trainStats(target.targets, target.targetNames, rowGroups, trainRow, 'target'));
  } else {
    if (target.labels.length !== rows) throw new TrainDataError(`label column "${target.labelName}" has ${target.labels.length} values, expected ${rows}`);
    labels = sortLabels(target.labels);
    if (labels.length < 2) throw new TrainDataError(`label column "${target.labelName}" has a single class (${labels[0]}): nothing to classify`);
    classCounts = labels.map(() => 0);
    const index = new Map(labels.map((l, i) => [l, i]));
    rowGroups.forEach((g, i) => { for (let t = 0; t < g.length; t++) if (trainRow[i](t)) classCounts![index.get(target.labels[g[t]])!]++; });
  }

  const I = inputNames.length;
  const O = target.task === 'regression' ? target.targetNames.length : 0;
  const labelIndex = labels ? new Map(labels.map((l, i) => [l, i])) : undefined;
  let trainSteps = 0, valSteps = 0;
  const series: Series[] = rowGroups.map((g, si) => {
    const n = g.length;
    const x = new Float32Array(n * I);
    const xRaw = new Float32Array(n * I);
    for (let t = 0; t < n; t++) {
      // Readings reach the runtime as float32 (predict, MQTT): round them the same way here.
      for (let i = 0; i < I; i++) {
        xRaw[t * I + i] = inputs[i][g[t]];
        x[t * I + i] = (xRaw[t * I + i] - inputMean[i]) / inputStd[i];
      }
    }
    const y = new Float32Array(n * O);
    const raw = new Float64Array(n * O);
    const cls = new Int32Array(target.task === 'classification' ? n : 0);
    if (target.task === 'regression') {
      for (let t = 0; t < n; t++) {
        for (let o = 0; o < O; o++) {
          raw[t * O + o] = target.targets[o][g[t]];
          if (t + shift >= n) continue;
          const v = deltas ? deltas[o][g[t]] : target.targets[o][g[t + shift]];
          y[t * O + o] = (v - targetMean![o]) / targetStd![o];
        }
      }
    } else {
      for (let t = 0; t < n; t++) cls[t] = labelIndex!.get(target.labels[g[t]])!;
    }
    const s: Series = { device: devices[si], n, trainEnd: trainEnds[si], role: roles[si], x, xRaw, y, raw, cls };
    for (let t = 0; t < n; t++) {
      if (isTrainStep(s, shift, t)) trainSteps++;
      else if (isValStep(s, shift, t)) valSteps++;
    }
    return s;
  });

  return {
    task: target.task,
    inputNames: [...inputNames],
    outputNames: target.task === 'regression' ? [...target.targetNames] : [target.labelName],
    ...(labels ? { labels, classCounts } : {}),
    shift, inputMean, inputStd, inputMin, inputMax,
    ...(targetMean ? { targetMean, targetStd } : {}),
    ...(residualInputs ? { residualInputs } : {}),
    series, valFraction, split, rows, trainSteps, valSteps,
  };
}
