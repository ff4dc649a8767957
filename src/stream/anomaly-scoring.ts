// `run --anomaly` in the stream: each prediction's reading scored against the forecast made
// for it `horizon` readings earlier, from its device's forecast ring (the ring lives in the
// device table, src/stream/device-table.ts, and is cleared with the state). The scorer
// follows the model serving now: a pushed model brings its own horizon, scales and threshold
// (unless the threshold is overridden), and a model without outputs.anomaly is refused.
import type { Model } from '../model/types.js';
import { anomalyProblem, anomalyScorer, type AnomalyScorer } from '../runtime/anomaly.js';
import { NOT_SCORED, type AnomalyResult } from '../protocol/prediction.js';
import type { AnomalyOptions, DeviceEntry } from './device-table.js';

export class AnomalyScoring {
  private model: Model | null = null;
  private scorer: AnomalyScorer | null = null;

  /** Throws (the model's problem, one line) when the starting model cannot be scored. */
  constructor(model: Model, private readonly options: AnomalyOptions) {
    this.scorerOf(model);
  }

  /** Why a model offered as a swap cannot serve this stream, or null. */
  refuses(model: Model): string | null {
    return anomalyProblem(model);
  }

  /** Scores the reading `x` of `entry` against its pending forecast, and keeps `y` for later. */
  score(model: Model, entry: DeviceEntry, x: ArrayLike<number>, y: Float32Array): AnomalyResult {
    const s = this.scorerOf(model);
    const ring = entry.ring;
    if (!ring || !ring.fits(s)) throw new Error(`anomaly: the device's forecast ring does not fit model ${model.name} v${model.modelVersion}`);
    const score = ring.advance(s, x, y);
    return Number.isNaN(score) ? NOT_SCORED : { score, flag: score > s.threshold };
  }

  private scorerOf(model: Model): AnomalyScorer {
    if (model !== this.model) {
      this.scorer = anomalyScorer(model, this.options.threshold);
      this.model = model;
    }
    return this.scorer!;
  }
}
