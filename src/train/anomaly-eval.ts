// From a trained forecaster to its anomaly flag (issue 15): the scale written into the model
// (outputs.anomaly: validation RMSE per target and a default threshold) and, where the data
// has event labels (train --event-column), the precision and recall of the flag against them.
// The scores are computed by the runtime's own code (a session stepped over each device's
// series with a ForecastRing, src/runtime/anomaly.ts), exactly as `run --anomaly` and
// `predict --anomaly` compute them. Pure: no I/O.
import type { Model } from '../model/types.js';
import { tensorF32 } from '../model/tensor.js';
import { anomalyScorer, ForecastRing } from '../runtime/anomaly.js';
import { createSession } from '../runtime/session.js';
import { isTrainStep, isValStep, type Dataset } from './dataset.js';
import type { Metrics } from './metrics.js';

/**
 * Default threshold: this quantile of the scores of the validation readings, so the flag is
 * raised on 0.5 % of readings like those. A quantile rather than k sigma: forecast errors of
 * sensor data are heavy-tailed (events, glitches), so a sigma rule says little about how
 * often the flag fires, while a quantile states it.
 */
export const DEFAULT_ANOMALY_QUANTILE = 0.995;

/** A 0/1 event label per step of every series (train --event-column), in the dataset's series order. */
export interface EventLabels {
  readonly column: string;
  readonly bySeries: readonly Uint8Array[];
}

/** The flag against the labels over a set of scored readings. */
export interface FlagScore {
  readonly readings: number;
  /** Readings labelled as events. */
  readonly labelled: number;
  readonly flagged: number;
  readonly truePositives: number;
  /** Flagged readings that are events; null when nothing was flagged. */
  readonly precision: number | null;
  /** Events that were flagged; null when there is no labelled reading. */
  readonly recall: number | null;
  /** Readings without an event that were flagged; null when every reading is an event. */
  readonly falsePositiveRate: number | null;
}

export interface AnomalyCalibration {
  /** How the score is computed, in words (for the card). */
  readonly score: string;
  /** Validation RMSE per target (the metrics'), stored as outputs.anomaly.rmse. */
  readonly rmse: readonly number[];
  readonly quantile: number;
  readonly threshold: number;
  /** Validation readings scored, and how many of them the threshold flags. */
  readonly validationReadings: number;
  readonly validationFlagged: number;
  /**
   * The same threshold on the training readings: far above 1 − quantile when validation is
   * calmer than training (a tail split of a recording whose end is quiet), so it may fire
   * more often in service than on validation.
   */
  readonly trainingReadings: number;
  readonly trainingFlagged: number;
  readonly events?: {
    readonly column: string;
    /** Labelled rows in the whole data. */
    readonly labelledRows: number;
    readonly validation: FlagScore;
    /** Every scored reading, the training part included (the model was fitted on it: optimistic). */
    readonly allReadings: FlagScore;
  };
}

export type AnomalyOutcome =
  | { readonly ok: true; readonly model: Model; readonly calibration: AnomalyCalibration }
  | { readonly ok: false; readonly reason: string };

export interface AnomalyEvalOptions {
  /** Quantile of the validation scores taken as the threshold (default DEFAULT_ANOMALY_QUANTILE). */
  readonly quantile?: number;
  readonly events?: EventLabels;
}

/** Splits per-row 0/1 labels into the dataset's series (rows grouped by device in first-seen order, as buildDataset does). */
export function eventsBySeries(ds: Dataset, devices: readonly string[] | undefined, events: ArrayLike<number>): Uint8Array[] {
  const index = new Map(ds.series.map((s, i) => [s.device, i]));
  const out = ds.series.map((s) => new Uint8Array(s.n));
  const at = new Int32Array(ds.series.length);
  for (let r = 0; r < events.length; r++) {
    const si = index.get(devices ? devices[r] : '');
    if (si === undefined) throw new RangeError(`event row ${r}: device ${JSON.stringify(devices?.[r])} is not in the dataset`);
    out[si][at[si]++] = events[r] ? 1 : 0;
  }
  ds.series.forEach((s, i) => {
    if (at[i] !== s.n) throw new RangeError(`events: ${at[i]} labels for the ${s.n} rows of series ${JSON.stringify(s.device)}`);
  });
  return out;
}

/** Nearest-rank quantile of `values` (sorted in place). */
function quantileOf(values: Float64Array, q: number): number {
  values.sort();
  return values[Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1))];
}

class FlagTally {
  readings = 0; labelled = 0; flagged = 0; truePositives = 0;
  add(flag: boolean, event: boolean): void {
    this.readings++;
    if (event) this.labelled++;
    if (flag) this.flagged++;
    if (flag && event) this.truePositives++;
  }
  result(): FlagScore {
    const { readings, labelled, flagged, truePositives } = this;
    const negatives = readings - labelled;
    return {
      readings, labelled, flagged, truePositives,
      precision: flagged > 0 ? truePositives / flagged : null,
      recall: labelled > 0 ? truePositives / labelled : null,
      falsePositiveRate: negatives > 0 ? (flagged - truePositives) / negatives : null,
    };
  }
}

/**
 * The anomaly scale of a trained regression forecaster: `model` with outputs.anomaly
 * (rmse from `metrics`, threshold the `quantile` of the validation scores), and what the
 * flag does on the validation readings (and against `events`, when given). Not ok when the
 * model cannot be scored: a classifier, a target that is not an input, a zero RMSE.
 */
export function calibrateAnomaly(ds: Dataset, model: Model, metrics: Metrics, options: AnomalyEvalOptions = {}): AnomalyOutcome {
  if (ds.task !== 'regression' || metrics.task !== 'regression') return { ok: false, reason: 'anomaly scores are for regression forecasters' };
  const notInput = ds.outputNames.find((n) => !ds.inputNames.includes(n));
  if (notInput !== undefined) return { ok: false, reason: `target "${notInput}" is not an input, so no reading holds its actual value to score` };
  const rmse = metrics.targets.map((t) => t.rmse);
  const zero = rmse.findIndex((v) => !(Math.fround(v) > 0));
  if (zero >= 0) return { ok: false, reason: `the validation RMSE of "${ds.outputNames[zero]}" is ${rmse[zero]}: no scale to measure errors in` };
  const q = options.quantile ?? DEFAULT_ANOMALY_QUANTILE;
  if (!(q > 0 && q < 1)) throw new RangeError(`anomaly quantile must be in (0, 1), got ${q}`);

  // Every reading's score, with a provisional threshold; the real one comes from the validation scores.
  const O = ds.outputNames.length, I = ds.inputNames.length, k = ds.shift;
  const provisional: Model = { ...model, outputs: { ...model.outputs, anomaly: { rmse: tensorF32([O], rmse), threshold: 1 } } };
  const session = createSession(provisional);
  const scorer = anomalyScorer(provisional);
  const scores = ds.series.map((s) => {
    const state = session.createState();
    const ring = new ForecastRing(k, O);
    const y = new Float32Array(O);
    const out = new Float64Array(s.n);
    for (let u = 0; u < s.n; u++) {
      const x = s.xRaw.subarray(u * I, (u + 1) * I);
      session.step(state, x, y);
      out[u] = ring.advance(scorer, x, y);
    }
    return out;
  });
  // Reading u is a validation reading when the forecast scored there (made at u − k) is a validation step.
  const isVal = (si: number, u: number) => u >= k && isValStep(ds.series[si], k, u - k);
  const val: number[] = [];
  scores.forEach((sc, si) => { for (let u = 0; u < sc.length; u++) if (isVal(si, u)) val.push(sc[u]); });
  const threshold = quantileOf(Float64Array.from(val), q);
  if (!(threshold > 0)) return { ok: false, reason: `the ${q} quantile of the validation scores is ${threshold}: no threshold above zero` };

  let validationFlagged = 0, trainingReadings = 0, trainingFlagged = 0;
  for (const v of val) if (v > threshold) validationFlagged++;
  scores.forEach((sc, si) => {
    for (let u = k; u < sc.length; u++) {
      if (!isTrainStep(ds.series[si], k, u - k)) continue;
      trainingReadings++;
      if (sc[u] > threshold) trainingFlagged++;
    }
  });
  let events: AnomalyCalibration['events'];
  if (options.events) {
    const valTally = new FlagTally(), allTally = new FlagTally();
    let labelledRows = 0;
    scores.forEach((sc, si) => {
      const ev = options.events!.bySeries[si];
      for (let u = 0; u < sc.length; u++) {
        if (ev[u]) labelledRows++;
        if (Number.isNaN(sc[u])) continue;
        const flag = sc[u] > threshold, event = ev[u] === 1;
        allTally.add(flag, event);
        if (isVal(si, u)) valTally.add(flag, event);
      }
    });
    events = { column: options.events.column, labelledRows, validation: valTally.result(), allReadings: allTally.result() };
  }
  return {
    ok: true,
    model: { ...model, outputs: { ...model.outputs, anomaly: { rmse: tensorF32([O], rmse), threshold } } },
    calibration: {
      score: `max over targets of |reading − forecast made ${k} step(s) earlier| / validation RMSE of that target`,
      rmse, quantile: q, threshold, validationReadings: val.length, validationFlagged, trainingReadings, trainingFlagged, ...(events ? { events } : {}),
    },
  };
}

/** Event labels of a training run: one 0/1 per kept CSV row, with the rows' devices. */
export interface RunEvents {
  readonly column: string;
  readonly rows: ArrayLike<number>;
  readonly devices?: readonly string[];
}

/** `train`'s anomaly step: undefined for a classifier, else the calibration (or why there is none). */
export function anomalyForRun(
  ds: Dataset, result: { readonly model: Model; readonly metrics: Metrics },
  o: { readonly quantile?: number; readonly events?: RunEvents },
): AnomalyOutcome | undefined {
  if (ds.task !== 'regression') return undefined;
  const events = o.events ? { column: o.events.column, bySeries: eventsBySeries(ds, o.events.devices, o.events.rows) } : undefined;
  return calibrateAnomaly(ds, result.model, result.metrics, { ...(o.quantile !== undefined ? { quantile: o.quantile } : {}), ...(events ? { events } : {}) });
}
