// Validation metrics of a windowed model: one sample per validation window (window-samples.ts),
// in the shapes of metrics.ts so the card and --json read them as any model's.
import type { Dataset } from './dataset.js';
import { confusionMetrics, type ClassificationMetrics, type RegressionMetrics } from './metrics.js';

/** Argmax class of each window against its window label. out(si): probabilities [ends.length, C]. */
export function classificationMetrics(
  labels: readonly string[], ends: readonly Int32Array[], out: (si: number) => ArrayLike<number>, truth: (si: number, e: number) => number,
): ClassificationMetrics {
  const C = labels.length;
  const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  ends.forEach((list, si) => {
    const p = out(si);
    for (let k = 0; k < list.length; k++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (p[k * C + c] > p[k * C + best]) best = c;
      confusion[truth(si, list[k])][best]++;
    }
  });
  return confusionMetrics(labels, confusion);
}

/** RMSE and MAE per target over the windows, against persistence (the target's value at the window's last reading). */
export function regressionMetrics(ds: Dataset, ends: readonly Int32Array[], out: (si: number) => ArrayLike<number>): RegressionMetrics {
  const O = ds.outputNames.length, h = ds.shift;
  const se = new Float64Array(O), ae = new Float64Array(O), pse = new Float64Array(O), pae = new Float64Array(O);
  let steps = 0;
  ends.forEach((list, si) => {
    const s = ds.series[si], y = out(si);
    for (let k = 0; k < list.length; k++) {
      const e = list[k];
      steps++;
      for (let o = 0; o < O; o++) {
        const target = s.raw[(e + h) * O + o];
        const d = y[k * O + o] - target, p = s.raw[e * O + o] - target;
        se[o] += d * d; ae[o] += Math.abs(d); pse[o] += p * p; pae[o] += Math.abs(p);
      }
    }
  });
  const targets = ds.outputNames.map((name, o) => {
    const rmse = Math.sqrt(se[o] / steps), persistenceRmse = Math.sqrt(pse[o] / steps);
    return { name, rmse, mae: ae[o] / steps, persistenceRmse, persistenceMae: pae[o] / steps, rmseImprovement: persistenceRmse > 0 ? 1 - rmse / persistenceRmse : 0 };
  });
  return { task: 'regression', horizon: h, steps, targets };
}
