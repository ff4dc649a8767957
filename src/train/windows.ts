// Training windows at random offsets: the runs of consecutive training steps of every
// series (isTrainStep decides, so a blocked split's validation blocks and gaps are never
// trained on), and a seeded sampler of windows inside them, each with the burn-in that
// precedes it in the same run. Built once per run; sampling allocates nothing.
import { isTrainStep, type Dataset } from './dataset.js';

/** A stretch [start, end) of consecutive training steps of series `series`. */
export interface TrainRun {
  readonly series: number;
  readonly start: number;
  readonly end: number;
}

/** The maximal runs of consecutive training steps, series by series, in time order. */
export function trainingRuns(ds: Dataset): TrainRun[] {
  const runs: TrainRun[] = [];
  ds.series.forEach((s, si) => {
    let start = -1;
    for (let t = 0; t <= s.n; t++) {
      const train = t < s.n && isTrainStep(s, ds.shift, t);
      if (train && start < 0) start = t;
      else if (!train && start >= 0) {
        runs.push({ series: si, start, end: t });
        start = -1;
      }
    }
  });
  return runs;
}

/** One sampled window: burn-in steps [burnStart, start) run without gradient, then [start, start + steps) trained. */
export interface Window {
  series: number;
  burnStart: number;
  start: number;
  steps: number;
}

export interface WindowSampler {
  /** Training steps over all runs. */
  readonly trainSteps: number;
  /** Draws a window uniformly among all window positions; writes it into `w`. */
  sample(w: Window, rand: () => number): void;
}

/**
 * Windows of up to `T` steps inside the runs (a run shorter than T gives one window of
 * its whole length), each preceded by up to `burnIn` steps of the same run. Every start
 * position of every run is equally likely.
 */
export function windowSampler(runs: readonly TrainRun[], T: number, burnIn: number): WindowSampler {
  if (runs.length === 0) throw new Error('windowSampler: no training steps');
  const cum = new Float64Array(runs.length); // cumulative count of start positions
  let total = 0, trainSteps = 0;
  runs.forEach((r, i) => {
    total += Math.max(1, r.end - r.start - T + 1);
    trainSteps += r.end - r.start;
    cum[i] = total;
  });
  return {
    trainSteps,
    sample(w, rand) {
      const p = Math.floor(rand() * total);
      let lo = 0, hi = runs.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cum[mid] > p) hi = mid; else lo = mid + 1;
      }
      const r = runs[lo];
      const start = r.start + p - (lo > 0 ? cum[lo - 1] : 0);
      w.series = r.series;
      w.start = start;
      w.steps = Math.min(T, r.end - start);
      w.burnStart = Math.max(r.start, start - burnIn);
    },
  };
}
