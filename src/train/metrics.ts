// Validation metrics in the data's own units, computed from de-normalised predictions.
import { persistenceForecasts, scoreForecasts } from './baselines.js';
import { isValStep, type Dataset } from './dataset.js';

export interface TargetMetrics {
  readonly name: string;
  readonly rmse: number;
  readonly mae: number;
  /** Persistence baseline: predict that the value `horizon` steps ahead equals the last one observed. */
  readonly persistenceRmse: number;
  readonly persistenceMae: number;
  /** 1 - rmse / persistenceRmse: the share of the baseline's RMSE the model removes (> 0: better). */
  readonly rmseImprovement: number;
}

export interface RegressionMetrics {
  readonly task: 'regression';
  readonly horizon: number;
  readonly steps: number;
  readonly targets: readonly TargetMetrics[];
}

/** One class's row of the validation report (the quantization report's whole-model score is eval's ClassifierScore). */
export interface PerClassMetrics {
  readonly label: string;
  readonly support: number;
  /** null when undefined (no step predicted / present in this class). */
  readonly precision: number | null;
  readonly recall: number | null;
  readonly f1: number | null;
}

export interface ClassificationMetrics {
  readonly task: 'classification';
  readonly steps: number;
  readonly accuracy: number;
  readonly classes: readonly PerClassMetrics[];
  /** confusion[true][predicted], counts of validation steps. */
  readonly confusion: readonly (readonly number[])[];
}

export type Metrics = RegressionMetrics | ClassificationMetrics;

/**
 * Metrics over the validation steps. `predict(s)` gives a series' model outputs [n, O]:
 * de-normalised forecasts (regression) or class probabilities (classification).
 */
export function validationMetrics(ds: Dataset, predict: (seriesIndex: number) => ArrayLike<number>): Metrics {
  if (ds.task === 'regression') {
    const model = scoreForecasts(ds, predict);
    const buf = new Float64Array(Math.max(...ds.series.map((s) => s.n)) * ds.outputNames.length);
    const persistence = scoreForecasts(ds, (si) => persistenceForecasts(ds, ds.series[si], buf));
    const targets = ds.outputNames.map((name, o) => {
      const rmse = model.rmse[o], persistenceRmse = persistence.rmse[o];
      return {
        name, rmse, mae: model.mae[o], persistenceRmse, persistenceMae: persistence.mae[o],
        rmseImprovement: persistenceRmse > 0 ? 1 - rmse / persistenceRmse : 0,
      };
    });
    return { task: 'regression', horizon: ds.shift, steps: model.steps, targets };
  }
  const C = ds.labels!.length;
  const confusion = Array.from({ length: C }, () => new Array<number>(C).fill(0));
  ds.series.forEach((s, si) => {
    const p = predict(si);
    for (let t = 0; t < s.n; t++) {
      if (!isValStep(s, 0, t)) continue;
      let best = 0;
      for (let c = 1; c < C; c++) if (p[t * C + c] > p[t * C + best]) best = c;
      confusion[s.cls[t]][best]++;
    }
  });
  return confusionMetrics(ds.labels!, confusion);
}

/** Accuracy and per-class precision, recall and F1 from confusion[true][predicted]. */
export function confusionMetrics(labels: readonly string[], confusion: number[][]): ClassificationMetrics {
  let steps = 0, correct = 0;
  confusion.forEach((row, c) => { for (const n of row) steps += n; correct += row[c]; });
  const classes = labels.map((label, c) => {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c], 0);
    const precision = predicted > 0 ? tp / predicted : null;
    const recall = support > 0 ? tp / support : null;
    const f1 = precision !== null && recall !== null ? (precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0) : null;
    return { label, support, precision, recall, f1 };
  });
  return { task: 'classification', steps, accuracy: steps ? correct / steps : 0, classes, confusion };
}
