// The training-window sampler: runs of consecutive training steps found through
// isTrainStep, windows and their burn-ins inside one run, every start position drawn.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/model/init.js';
import { buildDataset, type Dataset } from '../../src/train/index.js';
import { trainingRuns, windowSampler, type Window } from '../../src/train/windows.js';

function dataset(rows: number[], horizon: number): Dataset {
  // Two devices of the given lengths, one input that is also the target.
  const v: number[] = [], dev: string[] = [];
  rows.forEach((n, d) => { for (let t = 0; t < n; t++) { v.push(Math.sin(t) + d); dev.push(`d${d}`); } });
  return buildDataset({ inputNames: ['v'], inputs: [v], devices: dev, valFraction: 0.25, seqLen: 4, target: { task: 'regression', targetNames: ['v'], targets: [v], horizon } });
}

describe('training windows', () => {
  it('one run per device in tail mode: steps [0, trainEnd - horizon)', () => {
    const ds = dataset([40, 24], 2);
    // trainEnd 30 and 18; the last 2 training rows have their target in validation.
    expect(trainingRuns(ds)).toEqual([{ series: 0, start: 0, end: 28 }, { series: 1, start: 0, end: 16 }]);
  });

  it('windows and burn-ins stay inside their run, every start position is drawn, and a seed repeats the draws', () => {
    const runs = [{ series: 0, start: 0, end: 12 }, { series: 1, start: 5, end: 8 }, { series: 0, start: 20, end: 30 }];
    const T = 4, B = 3;
    const sampler = windowSampler(runs, T, B);
    expect(sampler.trainSteps).toBe(12 + 3 + 10);
    // Start positions: 0..8 of run 0 (9), 5 of run 1 (shorter than T: one window, 3 steps), 20..26 of run 2 (7).
    const seen = new Map<string, number>();
    const w: Window = { series: 0, burnStart: 0, start: 0, steps: 0 };
    const rand = seededRandom(3);
    const draws: string[] = [];
    for (let i = 0; i < 4000; i++) {
      sampler.sample(w, rand);
      const run = runs.find((r) => r.series === w.series && w.start >= r.start && w.start < r.end)!;
      expect(w.start + w.steps).toBeLessThanOrEqual(run.end);
      expect(w.steps).toBe(Math.min(T, run.end - w.start));
      expect(w.burnStart).toBe(Math.max(run.start, w.start - B));
      const key = `${w.series}:${w.start}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      if (i < 20) draws.push(key);
    }
    expect(seen.size).toBe(9 + 1 + 7);
    expect(seen.get('1:5')).toBeGreaterThan(4000 / 17 / 2); // uniform: ~235 each
    const again = seededRandom(3);
    expect(Array.from({ length: 20 }, () => { sampler.sample(w, again); return `${w.series}:${w.start}`; })).toEqual(draws);
  });
});
