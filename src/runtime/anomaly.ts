// Anomaly scores for forecasters (issue 15): each stepped reading of a device is compared
// with the forecast the model made for it `horizon` stepped readings earlier. The pending
// forecasts of a device wait in a ring of `horizon` slots, allocated once with the device;
// scoring a reading and storing the next forecast allocate nothing. Used by the stream
// (`run --anomaly`, `predict --anomaly`) and by the trainer, which calibrates the threshold
// with this same code. No I/O, no clock.
//
//   score = max over outputs o of |reading[input(o)] − forecast[o]| / rmse[o]
//
// rmse[o] is the model's validation RMSE (outputs.anomaly.rmse), so a score of 3 means the
// worst output missed by three times its typical error; the max (rather than an RMS over
// outputs) lets a spike in any one output stand out however many outputs there are.
import type { Model } from '../model/types.js';

/** What scores readings for one model: its horizon, outputs, their input columns and scales. */
export interface AnomalyScorer {
  readonly horizon: number;
  /** Outputs per forecast (O). */
  readonly width: number;
  /** [O] index into the reading (the model's inputs) of each output's actual value. */
  readonly inputIndex: Int32Array;
  /** [O] validation RMSE per output, in its units. */
  readonly rmse: Float32Array;
  /** Flag when score > threshold. */
  readonly threshold: number;
}

/** Why `model` cannot be scored for anomalies, or null when it can. */
export function anomalyProblem(model: Model): string | null {
  if (model.task !== 'regression') return `model ${model.name} v${model.modelVersion} is a classifier; anomaly scores need a forecaster`;
  if (!model.outputs.anomaly) {
    return `model ${model.name} v${model.modelVersion} has no outputs.anomaly (validation RMSE and threshold); retrain it with edge-rnn train, which writes them`;
  }
  return null; // the decoder checked the rest: a horizon, every output an input, rmse > 0
}

/** The scorer of `model`; `threshold` overrides the model's. Throws when the model has no anomaly scale. */
export function anomalyScorer(model: Model, threshold?: number): AnomalyScorer {
  const why = anomalyProblem(model);
  if (why) throw new Error(why);
  if (threshold !== undefined && !(Number.isFinite(threshold) && threshold > 0)) throw new RangeError(`anomaly threshold must be a finite number > 0, got ${threshold}`);
  const a = model.outputs.anomaly!;
  const names = model.outputs.names;
  return {
    horizon: model.outputs.horizon!,
    width: names.length,
    inputIndex: Int32Array.from(names, (n) => model.inputs.names.indexOf(n)),
    rmse: a.rmse.data,
    threshold: threshold ?? a.threshold,
  };
}

/** max_o |x[inputIndex[o]] − forecast[offset + o]| / rmse[o]. */
export function anomalyScore(s: AnomalyScorer, x: ArrayLike<number>, forecast: Float32Array, offset: number): number {
  let worst = 0;
  for (let o = 0; o < s.width; o++) {
    const e = Math.abs(x[s.inputIndex[o]] - forecast[offset + o]) / s.rmse[o];
    if (e > worst) worst = e;
  }
  return worst;
}

/**
 * One device's pending forecasts: the last `horizon` outputs, oldest first from `head`.
 * When it holds `horizon` of them, the oldest is the forecast for the reading arriving now.
 */
export class ForecastRing {
  /** [horizon, width] forecasts, slot-major. */
  readonly slots: Float32Array;
  private head = 0;
  private held = 0;

  constructor(readonly horizon: number, readonly width: number) {
    this.slots = new Float32Array(horizon * width);
  }

  /** Forecasts waiting for their reading (0 after clear(); horizon once warm). */
  get pending(): number {
    return this.held;
  }

  /** Forget every pending forecast: the next `horizon` readings get no score. */
  clear(): void {
    this.head = 0;
    this.held = 0;
  }

  /** Whether this ring holds forecasts of `s`'s shape. */
  fits(s: AnomalyScorer): boolean {
    return this.horizon === s.horizon && this.width === s.width;
  }

  /**
   * Score reading x (the model's inputs, raw) against the forecast made for it, then keep y
   * [width], the forecast made at this reading, for the reading `horizon` steps ahead.
   * Returns NaN while fewer than `horizon` forecasts are pending (after a clear).
   */
  advance(s: AnomalyScorer, x: ArrayLike<number>, y: ArrayLike<number>): number {
    const W = this.width;
    const at = this.head * W;
    const score = this.held === this.horizon ? anomalyScore(s, x, this.slots, at) : NaN;
    for (let o = 0; o < W; o++) this.slots[at + o] = y[o];
    this.head = this.head + 1 === this.horizon ? 0 : this.head + 1;
    if (this.held < this.horizon) this.held++;
    return score;
  }
}
