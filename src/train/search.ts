// Hyper-parameter search for `train --search`: a small grid of cell, hidden size, residual
// outputs, learning rate and window, visited in a seeded order with the run's own settings
// first, trials trained one after another while a trial cap and a time budget last, and the
// winner chosen on validation. Pure: time comes from an injected clock, so under a trial cap
// the same seed gives the same trials and the same winner.
import { seededRandom } from '../model/init.js';
import type { RecurrentType } from '../model/types.js';
import { buildDataset, type Dataset, type DatasetInput } from './dataset.js';
import { TrainDataError } from './errors.js';
import type { Metrics } from './metrics.js';
import { train, type TrainOptions, type TrainResult } from './trainer.js';

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

/** The longest window every device's training part holds (with its horizon), as buildDataset requires. */
export function maxSeqLen(ds: Dataset): number {
  return Math.min(...ds.series.map((s) => s.trainEnd - ds.shift));
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

const key = (s: SearchSettings) => SEARCH_AXES.map((k) => String(s[k])).join('|');

/**
 * The candidates, in the order they are tried: `base` (the run as plain `train` would do it)
 * first, so the search never ends worse on validation than the default, then every other
 * setting of `space` in an order shuffled by `seed`.
 */
export function searchCandidates(base: SearchSettings, space: SearchSpace, seed: number): SearchSettings[] {
  let grid: Record<string, unknown>[] = [{}];
  for (const k of SEARCH_AXES) grid = grid.flatMap((p) => space[k].map((v) => ({ ...p, [k]: v })));
  const rest = (grid as unknown as SearchSettings[]).filter((s) => key(s) !== key(base));
  const rand = seededRandom((seed ^ 0x2545f491) >>> 0);
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [rest[i], rest[j]] = [rest[j], rest[i]];
  }
  return [base, ...rest];
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
}

export interface SearchRun {
  readonly trials: readonly SearchTrial[];
  /** Index into `trials` of the chosen one: the lowest score, the earliest on a tie. */
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
 * Runs the search. `input` and `base` are the run as given (their residual, cell, hidden, lr
 * and seqLen are the first candidate). Before each later trial the time it needs is
 * estimated from the trials so far (seconds per epoch per unit of epochCost, times the mean
 * epochs run); a candidate that would not finish within the budget is not started.
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
  const candidates = searchCandidates(baseSettings, space, base.seed).filter((s) => datasets.has(s.residual));
  const clock = so.clock ?? (() => 0);
  const I = input.inputNames.length, O = ds0.outputNames.length;
  const maxTrials = so.maxTrials ?? Infinity;
  const start = clock();

  const trials: SearchTrial[] = [];
  const results: { dataset: Dataset; options: TrainOptions; result: TrainResult }[] = [];
  let work = 0, spent = 0, epochs = 0;
  for (const s of candidates) {
    if (trials.length >= maxTrials) break;
    if (trials.length > 0 && so.budgetSeconds !== undefined) {
      const left = so.budgetSeconds - (clock() - start);
      if (left <= 0) break;
      const estimate = (spent / work) * epochCost(s, I, O) * (epochs / trials.length);
      if (estimate > left) continue;
    }
    const dataset = datasets.get(s.residual)!;
    const options: TrainOptions = { ...base, cell: s.cell, hidden: s.hidden, lr: s.lr, seqLen: s.seqLen };
    // Hook: with a trainer stop callback, later trials could also stop at the budget's end.
    const t0 = clock();
    const result = train(dataset, options);
    const seconds = clock() - t0;
    const trial: SearchTrial = {
      trial: trials.length + 1, settings: s, score: validationScore(result.metrics, result.bestValLoss),
      bestValLoss: result.bestValLoss, metrics: result.metrics, epochsRun: result.epochsRun, bestEpoch: result.bestEpoch, seconds,
    };
    trials.push(trial);
    results.push({ dataset, options, result });
    spent += seconds;
    work += result.epochsRun * epochCost(s, I, O);
    epochs += result.epochsRun;
    so.onTrial?.(trial, candidates.length);
  }
  let chosen = 0;
  trials.forEach((t, i) => { if (t.score < trials[chosen].score) chosen = i; });
  return {
    trials, chosen, candidates: candidates.length,
    ...(so.maxTrials !== undefined ? { maxTrials: so.maxTrials } : {}),
    ...(so.budgetSeconds !== undefined ? { budgetSeconds: so.budgetSeconds } : {}),
    seconds: clock() - start, ...results[chosen],
  };
}
