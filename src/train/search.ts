// Hyper-parameter search for `train --search`: a small grid of cell, hidden size, residual
// outputs, learning rate and window. The run's own settings are trial 1; each later trial
// is a setting one axis away from the best so far (a greedy walk downhill on validation),
// or, at a local best, any untried setting, in an order fixed by the seed. Trials run one
// after another while a trial cap and a time budget last. Pure: time comes from an
// injected clock, so under a trial cap the same seed gives the same trials and winner.
import { seededRandom } from '../model/init.js';
import type { RecurrentType } from '../model/types.js';
import { buildDataset, isTrainStep, type Dataset, type DatasetInput } from './dataset.js';
import { TrainDataError } from './errors.js';
import type { Metrics } from './metrics.js';
import { train, type TrainEvent, type TrainOptions, type TrainResult } from './trainer.js';

/** The settings a search varies; everything else is the run's own option. */
export interface SearchSettings {
  readonly cell: RecurrentType;
  readonly hidden: number;
  /** Regression: predict each target's change from the input of the same name. */
  readonly residual: boolean;
  readonly lr: number;
  readonly seqLen: number;
}

export type SearchAxis = keyof SearchSettings;
export type SearchSpace = { readonly [K in SearchAxis]: readonly SearchSettings[K][] };

/** Axes in table order. A new axis (e.g. an `init` choice) is one entry here, in SearchSettings and in SEARCH_GRID. */
export const SEARCH_AXES: readonly SearchAxis[] = ['cell', 'hidden', 'residual', 'lr', 'seqLen'];

/** 2 · 3 · 2 · 3 · 3 = 108 settings: small enough that a minute visits a useful share of it. */
export const SEARCH_GRID: SearchSpace = {
  cell: ['lstm', 'gru'],
  hidden: [16, 32, 64],
  residual: [false, true],
  lr: [0.002, 0.005, 0.01],
  seqLen: [25, 50, 100],
};

/** Whether residual outputs are possible: regression with every target also an input. */
export function residualPossible(ds: Dataset): boolean {
  return ds.task === 'regression' && ds.outputNames.every((n) => ds.inputNames.includes(n));
}

/** The longest window every device's training steps fill (tail split: its training part less the horizon, as buildDataset requires). */
export function maxSeqLen(ds: Dataset): number {
  return Math.min(...ds.series.map((s) => {
    let steps = 0;
    for (let t = 0; t < s.n; t++) if (isTrainStep(s, ds.shift, t)) steps++;
    return steps;
  }));
}

/**
 * The grid for this run: a `fixed` axis (the user gave that flag) holds only the base value;
 * residual outputs only where possible; windows only as long as the data holds.
 */
export function searchSpace(base: SearchSettings, fixed: readonly SearchAxis[], ds: Dataset, grid: SearchSpace = SEARCH_GRID): SearchSpace {
  const pick = <K extends SearchAxis>(k: K, ok: (v: SearchSettings[K]) => boolean): readonly SearchSettings[K][] =>
    fixed.includes(k) ? [base[k]] : grid[k].filter(ok);
  const longest = maxSeqLen(ds);
  return {
    cell: pick('cell', () => true),
    hidden: pick('hidden', () => true),
    residual: pick('residual', (r) => !r || residualPossible(ds)),
    lr: pick('lr', () => true),
    seqLen: pick('seqLen', (n) => n <= longest),
  };
}

/** A setting's identity (for "tried" and the seeded order). */
export const settingsKey = (s: SearchSettings): string => SEARCH_AXES.map((k) => String(s[k])).join('|');

/**
 * Every candidate: each setting of `space`, plus `base` when it lies outside (a default the
 * grid does not hold). The candidate list hook: a new kind of candidate joins here.
 */
export function searchGrid(base: SearchSettings, space: SearchSpace): SearchSettings[] {
  let grid: Record<string, unknown>[] = [{}];
  for (const k of SEARCH_AXES) grid = grid.flatMap((p) => space[k].map((v) => ({ ...p, [k]: v })));
  const all = grid as unknown as SearchSettings[];
  return all.some((s) => settingsKey(s) === settingsKey(base)) ? all : [base, ...all];
}

/** A fixed seeded rank for every candidate: the order among equals. */
export function seededRanks(grid: readonly SearchSettings[], seed: number): Map<string, number> {
  const order = grid.map(settingsKey);
  const rand = seededRandom((seed ^ 0x2545f491) >>> 0);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return new Map(order.map((k, i) => [k, i]));
}

/** How many axes two settings differ in. */
export const axesApart = (a: SearchSettings, b: SearchSettings): number => SEARCH_AXES.filter((k) => a[k] !== b[k]).length;

/**
 * The untried candidates in the order the next trial takes them: those one axis away from
 * `best` first, then the rest; each group by seeded rank.
 */
export function candidateOrder(
  grid: readonly SearchSettings[], best: SearchSettings, tried: ReadonlySet<string>, ranks: ReadonlyMap<string, number>,
): SearchSettings[] {
  const near = (s: SearchSettings) => (axesApart(s, best) === 1 ? 0 : 1);
  return grid.filter((s) => !tried.has(settingsKey(s)))
    .sort((a, b) => near(a) - near(b) || ranks.get(settingsKey(a))! - ranks.get(settingsKey(b))!);
}

/**
 * A trial replaces the best so far (the one written, and the one the walk steps from) only
 * if its score is lower by more than this share: a noise-sized gain must not swap the
 * default for a bigger model, nor send the walk off to explore around it. The best is then
 * always within this share of the lowest score in the table.
 */
export const MIN_GAIN = 0.01;

/**
 * A trial's trainer options: the run's own with the searched settings (residual lives in
 * the dataset). A new axis (e.g. the start: persistence or linear AR) maps here.
 */
export function trialOptions(base: TrainOptions, s: SearchSettings, baseResidual: boolean): TrainOptions {
  // A start built for the base's shape (train --init's AR model, a ReLU activation) only
  // fits a trial of the same cell, size and outputs; any other trial starts fresh.
  const { initFrom, rnnActivation, ...rest } = base;
  const sameShape = s.cell === base.cell && s.hidden === base.hidden && s.residual === baseResidual;
  return {
    ...rest, ...(sameShape && initFrom ? { initFrom } : {}), ...(s.cell === 'rnn' && rnnActivation ? { rnnActivation } : {}),
    cell: s.cell, hidden: s.hidden, lr: s.lr, seqLen: s.seqLen,
  };
}

/**
 * The score a trial is chosen on (lower is better). Regression: the mean over targets of the
 * validation RMSE relative to persistence, a unit-free number comparable across residual and
 * level models (their losses are in different normalisations); with one target it ranks as
 * the RMSE. Classification: the validation loss (same class weights in every trial).
 */
export function validationScore(m: Metrics, valLoss: number): number {
  const score = m.task === 'regression'
    ? m.targets.reduce((sum, t) => sum + t.rmse / (t.persistenceRmse > 0 ? t.persistenceRmse : 1), 0) / m.targets.length
    : valLoss;
  return Number.isFinite(score) ? score : Infinity;
}

/** Relative cost of an epoch: the recurrent and dense weights a step touches. */
export function epochCost(s: SearchSettings, inputs: number, outputs: number): number {
  const gates = s.cell === 'lstm' ? 4 : s.cell === 'gru' ? 3 : 1;
  return gates * s.hidden * (inputs + s.hidden + 2) + outputs * (s.hidden + 1);
}

export interface SearchTrial {
  /** 1-based, in the order run. */
  readonly trial: number;
  readonly settings: SearchSettings;
  readonly score: number;
  readonly bestValLoss: number;
  readonly metrics: Metrics;
  readonly epochsRun: number;
  readonly bestEpoch: number;
  /** Wall-clock seconds by the injected clock (0 without one). */
  readonly seconds: number;
  /** Stopped by the budget before its epochs or patience ran out (its best epoch so far kept). */
  readonly stoppedByBudget: boolean;
}

export interface SearchOptions {
  /** Axes the user set: held at the base value. */
  readonly fixed?: readonly SearchAxis[];
  readonly grid?: SearchSpace;
  /** Most trials to run (default: every candidate). */
  readonly maxTrials?: number;
  /** Time budget in seconds of `clock` (default: none). The first trial always runs. */
  readonly budgetSeconds?: number;
  /** Monotonic seconds; required for a budget to mean anything (default: always 0). */
  readonly clock?: () => number;
  /** Called after each trial. */
  readonly onTrial?: (t: SearchTrial, candidates: number) => void;
  /** Every trial's training events. */
  readonly onEvent?: (e: TrainEvent) => void;
}

export interface SearchRun {
  readonly trials: readonly SearchTrial[];
  /** Index into `trials` of the chosen one: the best by MIN_GAIN's rule, so within 1 % of the lowest score. */
  readonly chosen: number;
  /** Size of the candidate list. */
  readonly candidates: number;
  readonly maxTrials?: number;
  readonly budgetSeconds?: number;
  /** Total seconds by the clock. */
  readonly seconds: number;
  /** The chosen trial's dataset (residual or not), options and training. */
  readonly dataset: Dataset;
  readonly options: TrainOptions;
  readonly result: TrainResult;
}

/**
 * Runs the search. `input` and `base` are the run as given: their residual, cell, hidden,
 * lr and seqLen are trial 1. Each later trial is the first of candidateOrder around the best
 * so far whose estimated time (from the trials so far) fits in what is left of the budget;
 * a candidate that would not finish is not started.
 */
export function searchTrain(input: DatasetInput, base: TrainOptions, so: SearchOptions = {}): SearchRun {
  const baseResidual = input.target.task === 'regression' && input.target.residual === true;
  const datasets = new Map<boolean, Dataset>([[baseResidual, buildDataset(input)]]);
  const ds0 = datasets.get(baseResidual)!;
  // The other output kind may not build (e.g. a target whose change is constant): then it is no candidate.
  const other = !baseResidual;
  if (residualPossible(ds0) && input.target.task === 'regression') {
    try {
      datasets.set(other, buildDataset({ ...input, target: { ...input.target, residual: other } }));
    } catch (e) {
      if (!(e instanceof TrainDataError)) throw e;
    }
  }
  const baseSettings: SearchSettings = { cell: base.cell, hidden: base.hidden, residual: baseResidual, lr: base.lr, seqLen: base.seqLen };
  const space = searchSpace(baseSettings, so.fixed ?? [], ds0, so.grid);
  const grid = searchGrid(baseSettings, space).filter((s) => datasets.has(s.residual));
  const ranks = seededRanks(grid, base.seed);
  const clock = so.clock ?? (() => 0);
  const I = input.inputNames.length, O = ds0.outputNames.length;
  const maxTrials = so.maxTrials ?? Infinity;
  const start = clock();

  const trials: SearchTrial[] = [];
  const results: { dataset: Dataset; options: TrainOptions; result: TrainResult }[] = [];
  const tried = new Set<string>();
  let chosen = 0, work = 0, spent = 0, epochs = 0;
  /** Expected seconds of a trial: seconds per unit of epoch cost so far, times its cost, times the mean epochs run. */
  const estimate = (s: SearchSettings) => (work > 0 ? (spent / work) * epochCost(s, I, O) * (epochs / trials.length) : 0);
  while (trials.length < maxTrials) {
    const left = so.budgetSeconds === undefined ? Infinity : so.budgetSeconds - (clock() - start);
    // The first trial always runs; a later one is the first in order whose estimate fits in what is left.
    const s = trials.length === 0 ? baseSettings
      : left > 0 ? candidateOrder(grid, trials[chosen].settings, tried, ranks).find((c) => estimate(c) <= left) : undefined;
    if (s === undefined) break;
    tried.add(settingsKey(s));
    const dataset = datasets.get(s.residual)!;
    // Later trials also stop at the budget's end (the first runs to its end, so there is always the default).
    const budget = so.budgetSeconds;
    const own = base.shouldStop;
    const stop = trials.length > 0 && budget !== undefined ? () => (own?.() ?? false) || clock() - start >= budget : own;
    const options = trialOptions(base, s, baseSettings.residual);
    let stoppedByBudget = false;
    const t0 = clock();
    const result = train(dataset, stop ? { ...options, shouldStop: stop } : options, (e) => {
      if (e.type === 'stop' && e.reason === 'budget') stoppedByBudget = true;
      so.onEvent?.(e);
    });
    const seconds = clock() - t0;
    const trial: SearchTrial = {
      trial: trials.length + 1, settings: s, score: validationScore(result.metrics, result.bestValLoss),
      bestValLoss: result.bestValLoss, metrics: result.metrics, epochsRun: result.epochsRun, bestEpoch: result.bestEpoch, seconds, stoppedByBudget,
    };
    trials.push(trial);
    results.push({ dataset, options, result });
    spent += seconds;
    work += result.epochsRun * epochCost(s, I, O);
    epochs += result.epochsRun;
    if (trial.score < trials[chosen].score * (1 - MIN_GAIN)) chosen = trials.length - 1;
    so.onTrial?.(trial, grid.length);
  }
  return {
    trials, chosen, candidates: grid.length,
    ...(so.maxTrials !== undefined ? { maxTrials: so.maxTrials } : {}),
    ...(so.budgetSeconds !== undefined ? { budgetSeconds: so.budgetSeconds } : {}),
    seconds: clock() - start, ...results[chosen],
  };
}
