// The hyper-parameter search (src/train/search.ts): the candidates (the grid, plus a base
// outside it) and their order (one axis from the best first, each group by seeded rank),
// the grid narrowed to what the user fixed and the data holds, the score, and searchTrain:
// a trial cap gives the same trials, winner and model bytes every time; trial 1 is plain
// train; each later trial steps one axis from the best so far while it can; the winner is
// the best by the 1 % rule, within 1 % of the lowest score in the table; a budget always allows the first trial and starts no trial
// its estimate says cannot finish.
import { describe, expect, it } from 'vitest';
import { encodeModel } from '../../src/model/index.js';
import {
  axesApart, buildDataset, candidateOrder, searchGrid, searchSpace, searchTrain, seededRanks, settingsKey, train, validationScore, SEARCH_GRID,
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

describe('searchGrid and candidateOrder', () => {
  it('the grid holds every setting once, and a base outside it in front', () => {
    const g = searchGrid(baseSettings, grid);
    expect(g).toHaveLength(2 * 2 * 2 * 2 * 2); // the base is a grid point
    expect(new Set(g.map(key)).size).toBe(g.length);
    const outside = { ...baseSettings, lr: 0.004 };
    const g2 = searchGrid(outside, grid);
    expect(g2).toHaveLength(33);
    expect(g2[0]).toEqual(outside);
  });
  it('orders the untried: one axis from the best first (1 + 1 + 1 + 1 + 1 of them here), then the rest', () => {
    const g = searchGrid(baseSettings, grid);
    const order = candidateOrder(g, baseSettings, new Set([settingsKey(baseSettings)]), seededRanks(g, 1));
    expect(order).toHaveLength(31);
    expect(order.slice(0, 5).map((s) => axesApart(s, baseSettings))).toEqual([1, 1, 1, 1, 1]);
    expect(order.slice(5).every((s) => axesApart(s, baseSettings) > 1)).toBe(true);
    // Tried settings are left out, whichever group they were in.
    const tried = new Set([settingsKey(baseSettings), settingsKey(order[0]), settingsKey(order[7])]);
    expect(candidateOrder(g, baseSettings, tried, seededRanks(g, 1))).toEqual(order.filter((_, i) => i !== 0 && i !== 7));
  });
  it('ranks by the seed: the same seed repeats the order, another seed changes it', () => {
    const b = { cell: 'lstm', hidden: 32, residual: false, lr: 0.005, seqLen: 50 } as const;
    const g = searchGrid(b, SEARCH_GRID);
    expect(g).toHaveLength(108);
    const order = (seed: number) => candidateOrder(g, b, new Set(), seededRanks(g, seed)).map(key);
    expect(order(1)).toEqual(order(1));
    expect(order(2)).not.toEqual(order(1));
    expect([...order(2)].sort()).toEqual([...order(1)].sort());
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

  it('runs the cap, starts with the plain run, and writes the best trial by the 1 % rule', () => {
    const r = run(8);
    expect(r.trials.map((t) => t.trial)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(r.trials[0].settings).toEqual(baseSettings);
    // Trial 1 is exactly what plain train does with the base settings.
    const plain = train(buildDataset(input()), base);
    expect(r.trials[0].bestValLoss).toBe(plain.bestValLoss);
    expect(r.trials[0].metrics).toEqual(plain.metrics);
    // The chosen trial, recomputed from the table: RMSE / persistence RMSE, a trial replacing
    // the best so far when more than 1 % lower; so within 1 % of the lowest, never above trial 1.
    const scores = r.trials.map((t) => (t.metrics.task === 'regression' ? t.metrics.targets[0].rmse / t.metrics.targets[0].persistenceRmse : NaN));
    let best = 0;
    scores.forEach((v, i) => { if (v < scores[best] * 0.99) best = i; });
    expect(r.chosen).toBe(best);
    expect(best).toBeGreaterThan(0); // the case is not trivial: a later trial did win
    expect(scores[best]).toBeLessThanOrEqual(Math.min(...scores) / 0.99);
    expect(r.trials[r.chosen].score).toBeLessThanOrEqual(r.trials[0].score);
    // What is returned is the chosen trial's training, on its dataset and options.
    const c = r.trials[r.chosen].settings;
    expect(r.options).toMatchObject({ cell: c.cell, hidden: c.hidden, lr: c.lr, seqLen: c.seqLen });
    expect(Boolean(r.dataset.residualInputs)).toBe(c.residual);
    expect(r.result.metrics).toEqual(r.trials[r.chosen].metrics);
    expect(Boolean(r.result.model.outputs.residual)).toBe(c.residual);
  });

  it('steps one axis from the best so far while the best has an untried neighbour', () => {
    const r = run(12);
    const g = searchGrid(baseSettings, grid);
    for (let k = 1; k < r.trials.length; k++) {
      const before = r.trials.slice(0, k);
      const best = before.reduce((b, t) => (t.score < b.score * 0.99 ? t : b)).settings;
      const tried = new Set(before.map((t) => key(t.settings)));
      const open = g.filter((s) => axesApart(s, best) === 1 && !tried.has(key(s)));
      if (open.length > 0) expect(axesApart(r.trials[k].settings, best)).toBe(1);
      expect(tried.has(key(r.trials[k].settings))).toBe(false);
    }
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

  describe('the time budget (a clock that advances one second per training epoch)', () => {
    // Same cell and hidden size in every candidate unless told, so every trial costs the same per epoch.
    const timed = (budgetSeconds: number, fixed: ('cell' | 'hidden')[] = ['cell', 'hidden']) => {
      let now = 0;
      return searchTrain(input(), base, {
        grid, fixed, budgetSeconds, clock: () => now,
        onEvent: (e) => { if (e.type === 'epoch' && e.stats.epoch > 0) now++; },
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
      expect(timed(1e9).trials.some((t) => t.stoppedByBudget)).toBe(false);
    });
    it('stops a later trial that is still running when the budget ends, never the first', () => {
      // After trial 1 (hidden 6, 3 s) 1.8 s are left: only a hidden-4 trial is estimated to fit
      // (3 s x its smaller epoch cost, 1.6 s); it takes 1 s per epoch, so the budget ends after its epoch 2.
      const r = timed(4.8, ['cell']);
      expect(r.trials).toHaveLength(2);
      expect(r.trials[0]).toMatchObject({ epochsRun: 3, stoppedByBudget: false });
      expect(r.trials[1]).toMatchObject({ settings: { ...baseSettings, hidden: 4 }, epochsRun: 2, stoppedByBudget: true });
      expect(timed(0, ['cell']).trials[0]).toMatchObject({ epochsRun: 3, stoppedByBudget: false });
    });
  });
});
