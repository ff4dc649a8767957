// The samples of a windowed model (issue 19): one per window of W consecutive readings of a
// device, named by the reading it ends at, e. Its target is
//   classification, --window-label last: the class of reading e;
//   classification, --window-label any:  the highest class (in label order) of any reading
//     in the window, so with labels 0/1 a window is 1 when an event touches any of its readings;
//   regression: the target of reading e (its value `horizon` readings after e).
// Training windows lie wholly inside a run of training steps (no validation reading is an
// input of a training window); validation windows end at a validation step and read the W-1
// readings before it whatever their role, as the runtime would. Built once; sampling
// allocates nothing.
import { isValStep, type Dataset, type Series } from './dataset.js';
import type { TrainRun } from './windows.js';

export type WindowLabel = 'last' | 'any';

/** The class of the window ending at e (classification). */
export function windowClass(s: Series, W: number, e: number, label: WindowLabel): number {
  if (label === 'last') return s.cls[e];
  let c = s.cls[e];
  for (let t = e - W + 1; t < e; t++) if (s.cls[t] > c) c = s.cls[t];
  return c;
}

/** Window ends e of series s, in order, whose sample is a validation sample. */
export function validationEnds(ds: Dataset, s: Series, W: number): Int32Array {
  const ends: number[] = [];
  for (let e = W - 1; e < s.n; e++) if (isValStep(s, ds.shift, e)) ends.push(e);
  return Int32Array.from(ends);
}

export interface WindowEndSampler {
  /** Training windows over all runs. */
  readonly count: number;
  /** Draws a training window uniformly; returns its series index and writes nothing else. */
  sample(rand: () => number): { series: number; end: number };
}

/** Uniform over every training window: ends e with [e - W + 1, e] inside one run. */
export function windowEndSampler(runs: readonly TrainRun[], W: number): WindowEndSampler {
  const fit = runs.filter((r) => r.end - r.start >= W);
  if (fit.length === 0) throw new Error(`windowEndSampler: no run of ${W} consecutive training steps`);
  const cum = new Float64Array(fit.length);
  let total = 0;
  fit.forEach((r, i) => { total += r.end - r.start - W + 1; cum[i] = total; });
  const out = { series: 0, end: 0 };
  return {
    count: total,
    sample(rand) {
      const p = Math.floor(rand() * total);
      let lo = 0, hi = fit.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cum[mid] > p) hi = mid; else lo = mid + 1;
      }
      const r = fit[lo];
      out.series = r.series;
      out.end = r.start + W - 1 + p - (lo > 0 ? cum[lo - 1] : 0);
      return out;
    },
  };
}
