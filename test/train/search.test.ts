// The hyper-parameter search (src/train/search.ts): the candidate order (the run's own
// settings first, then every grid point once, seeded), the grid narrowed to what the user
// fixed and the data holds, the score, and searchTrain: a trial cap gives the same trials,
// winner and model bytes every time; the winner is the lowest score in the table; a budget
// always allows the first trial and starts no trial its estimate says cannot finish.
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/model/index.js';
import {
  buildDataset, searchCandidates, searchSpace, searchTrain, train, validationScore, SEARCH_GRID,
  type DatasetInput, type Metrics, type SearchSettings, type SearchSpace, type TrainOptions,
} from '../../src/train/index.js';

/** Two devices of noisy sines; `temp` and `hum` are inputs and targets, so residual outputs are possible. */
function input(rowsPerDevice = 120, residual = false): DatasetInput {
  const temp: number[] = [], hum: number[] = [], devices: string[] = [];
  for (let t = 0; t < rowsPerDevice; t++) {
    for (const [d, phase] of [['a', 0], ['b', 1.3]] as const) {
      temp.push(20 + 3 * Math.sin(t / 6 + phase) + 0.1 * Math.sin(t * 1.7 + phase * 5));
      hum.push(50 - 5 * Math.cos(t / 6 + phase));
      devices.push(d);
    }
  }
  return {
    inputNames: ['temp', 'hum'], inputs: [temp, hum], devices, valFraction: 0.25, seqLen: 12,
    target: { task: 'regression', targetNames: ['temp'], targets: [temp], horizon: 2, ...(residual ? { residual: true } : {}) },
  };
}

const base: TrainOptions = { name: 'syn', cell: 'lstm', hidden: 6, layers: 1, seqLen: 12, batch: 4, epochs: 3, lr: 0.01, clip: 1, patience: 0, seed: 5 };
const baseSettings: SearchSettings = { cell: 'lstm', hidden: 6, residual: false, lr: 0.01, seqLen: 12 };
const grid: SearchSpace = { cell: ['lstm', 'gru'], hidden: [4, 6], residual: [false, true], lr: [0.01, 0.03], seqLen: [8, 12] };
const key = (s: SearchSettings) => JSON.stringify([s.cell, s.hidden, s.residual, s.lr, s.seqLen]);

describe('searchCandidates', () => {
  it('puts the base first and every other grid point exactly once after it', () => {
    const c = searchCandidates(baseSettings, grid, 1);
    expect(c[0]).toEqual(baseSettings);
    expect(c).toHaveLength(2 * 2 * 2 * 2 * 2); // the base is a grid point
    expect(new Set(c.map(key)).size).toBe(c.length);
    for (const s of c) {
      expect(grid.cell).toContain(s.cell);
      expect(grid.hidden).toContain(s.hidden);
      expect(grid.lr).toContain(s.lr);
    }
  });
  it('adds a base that lies outside the grid', () => {
    const outside = { ...baseSettings, lr: 0.004 };
    const c = searchCandidates(outside, grid, 1);
    expect(c[0]).toEqual(outside);
    expect(c).toHaveLength(33);
  });
  it('orders by the seed: the same seed repeats the order, another seed changes it', () => {
    const b = { cell: 'lstm', hidden: 32, residual: false, lr: 0.005, seqLen: 50 } as const;
    const a1 = searchCandidates(b, SEARCH_GRID, 1).map(key);
    expect(searchCandidates(b, SEARCH_GRID, 1).map(key)).toEqual(a1);
    const a2 = searchCandidates(b, SEARCH_GRID, 2).map(key);
    expect(a2).not.toEqual(a1);
    expect([...a2].sort()).toEqual([...a1].sort());
  });
});

describe('searchSpace', () => {
  const ds = buildDataset(input());
  it('holds a fixed axis at the base value and keeps the others', () => {
    const s = searchSpace(baseSettings, ['cell', 'lr'], ds, grid);
    expect(s).toEqual({ ...grid, cell: ['lstm'], lr: [0.01] });
  });
  it('offers residual outputs only when every target is an input', () => {
    const i = input();
    const notInput = buildDataset({ ...i, inputNames: ['hum'], inputs: [i.inputs[1]] });
    expect(searchSpace(baseSettings, [], notInput, grid).residual).toEqual([false]);
    expect(searchSpace(baseSettings, [], ds, grid).residual).toEqual([false, true]);
  });
  it('drops windows longer than a device\'s training part (less the horizon) holds', () => {
    // 120 rows per device, 30 validation: training part 90, horizon 2 -> windows up to 88.
    const s = searchSpace(baseSettings, [], ds, { ...grid, seqLen: [12, 88, 89, 100] });
    expect(s.seqLen).toEqual([12, 88]);
  });
});

describe('validationScore', () => {
  const target = (name: string, rmse: number, persistenceRmse: number) => ({ name, rmse, mae: 0, persistenceRmse, persistenceMae: 0, rmseImprovement: 1 - rmse / persistenceRmse });
  it('regression: the mean over targets of RMSE / persistence RMSE', () => {
    const m: Metrics = { task: 'regression', horizon: 1, steps: 10, targets: [target('a', 1, 2), target('b', 3, 4)] };
    expect(validationScore(m, 99)).toBeCloseTo((0.5 + 0.75) / 2, 15);
  });
  it('classification: the validation loss; a diverged (NaN) run scores Infinity', () => {
    const m: Metrics = { task: 'classification', steps: 10, accuracy: 0.5, classes: [], confusion: [] };
    expect(validationScore(m, 0.42)).toBe(0.42);
    expect(validationScore(m, NaN)).toBe(Infinity);
  });
});

describe('searchTrain', () => {
  const run = (maxTrials: number, seed = 5) => searchTrain(input(), { ...base, seed }, { grid, maxTrials });

  it('runs the cap, starts with the plain run, and writes the trial with the lowest score', () => {
    const r = run(5);
    expect(r.trials.map((t) => t.trial)).toEqual([1, 2, 3, 4, 5]);
    expect(r.trials[0].settings).toEqual(baseSettings);
    // Trial 1 is exactly what plain train does with the base settings.
    const plain = train(buildDataset(input()), base);
    expect(r.trials[0].bestValLoss).toBe(plain.bestValLoss);
    expect(r.trials[0].metrics).toEqual(plain.metrics);
    // The chosen trial: the lowest RMSE / persistence RMSE in the table, recomputed here.
    const scores = r.trials.map((t) => (t.metrics.task === 'regression' ? t.metrics.targets[0].rmse / t.metrics.targets[0].persistenceRmse : NaN));
    expect(r.chosen).toBe(scores.indexOf(Math.min(...scores)));
    expect(r.trials[r.chosen].score).toBeLessThanOrEqual(r.trials[0].score);
    // What is returned is the chosen trial's training, on its dataset and options.
    const c = r.trials[r.chosen].settings;
    expect(r.options).toMatchObject({ cell: c.cell, hidden: c.hidden, lr: c.lr, seqLen: c.seqLen });
    expect(Boolean(r.dataset.residualInputs)).toBe(c.residual);
    expect(r.result.metrics).toEqual(r.trials[r.chosen].metrics);
    expect(Boolean(r.result.model.outputs.residual)).toBe(c.residual);
  });

  it('is deterministic under a seed and a trial cap: same trials, same winner, same model bytes', () => {
    const a = run(4), b = run(4);
    expect(b.trials).toEqual(a.trials);
    expect(b.chosen).toBe(a.chosen);
    expect(encodeModel(b.result.model)).toEqual(encodeModel(a.result.model));
    expect(run(4, 6).trials.slice(1).map((t) => key(t.settings))).not.toEqual(a.trials.slice(1).map((t) => key(t.settings)));
  });

  it('starts from a residual base when the input asks for residual outputs', () => {
    const r = searchTrain(input(120, true), base, { grid, maxTrials: 1 });
    expect(r.trials[0].settings.residual).toBe(true);
    expect(r.result.model.outputs.residual).toBe(true);
  });

  describe('the time budget (a clock that advances one second per epoch)', () => {
    const timed = (budgetSeconds: number) => {
      let now = 0;
      // Same cell and hidden size in every candidate, so every trial costs the same per epoch.
      return searchTrain(input(), base, {
        grid, fixed: ['cell', 'hidden'], budgetSeconds, clock: () => now,
        onEvent: (e) => { if (e.type === 'epoch') now++; },
      });
    };
    it('always runs the first trial, even with no budget at all', () => {
      const r = timed(0);
      expect(r.trials).toHaveLength(1);
      expect(r.trials[0].seconds).toBe(base.epochs);
      expect(r.seconds).toBe(base.epochs);
    });
    it('does not start a trial whose estimate (epochs so far x seconds per epoch) exceeds what is left', () => {
      // After trial 1 (3 s), 1.5 s are left; the next trial is estimated at 3 s.
      expect(timed(4.5).trials).toHaveLength(1);
      // Exactly 3 s left: estimated to fit, so it runs; then nothing is left.
      expect(timed(6).trials).toHaveLength(2);
      expect(timed(1e9).trials).toHaveLength(8); // 2 residual x 2 lr x 2 windows
    });
  });
});
