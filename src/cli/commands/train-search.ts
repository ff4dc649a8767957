// The CLI side of `train --search BUDGET` / `--search-trials N`: parses the budget, holds
// the axes the user set on the command line fixed, gives the search its clock and prints
// one line per trial. The search itself is src/train/search.ts.
import { InvalidArgumentError, type Command } from 'commander';
import type { Dataset, DatasetInput, TrainOptions, TrainResult } from '../../train/index.js';
import { SEARCH_AXES, searchTrain, type SearchAxis, type SearchRun, type SearchTrial } from '../../train/index.js';

export interface SearchCliOptions {
  /** --search: seconds of wall clock for the whole search. */
  search?: number;
  /** --search-trials: most trials. */
  searchTrials?: number;
  /** Axes given on the command line (held fixed); filled by the action from commander. */
  searchFixed?: SearchAxis[];
}

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** A budget: seconds (`90`), or a duration of h/m/s parts (`90s`, `5m`, `1m30s`, `1.5h`). */
export function parseBudget(v: string): number {
  const text = v.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)([hms])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new InvalidArgumentError('expected seconds or a duration such as 90s, 5m, 1m30s');
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNIT[p[2]], 0);
}

export const searchHelp = {
  search: 'search cell, hidden size, residual, learning rate and window for BUDGET (seconds, or 90s, 5m) and write the trial with the best validation score; flags given explicitly are held fixed',
  trials: 'search: at most N trials (alone: no time limit, so the result depends only on --seed)',
};

/** Whether this run searches. */
export const searching = (o: SearchCliOptions): boolean => o.search !== undefined || o.searchTrials !== undefined;

/** The searched axes whose flag the user gave (commander's value source is not the default). */
export function fixedAxes(cmd: Command): SearchAxis[] {
  // Each axis is named as its option's attribute (seqLen: --seq-len).
  return SEARCH_AXES.filter((k) => {
    const source = cmd.getOptionValueSource(k);
    return source !== undefined && source !== 'default';
  });
}

/** One line per trial on stderr. */
export function trialLine(write: (s: string) => void): (t: SearchTrial, candidates: number) => void {
  return (t, candidates) => {
    const s = t.settings;
    const m = t.metrics;
    const q = m.task === 'regression' ? m.targets.map((x) => `RMSE ${x.name} ${x.rmse.toPrecision(4)}`).join(', ') : `accuracy ${m.accuracy.toFixed(4)}`;
    write(`trial ${t.trial}/${candidates}: ${s.cell} hidden ${s.hidden}${s.residual ? ' residual' : ''} lr ${s.lr} seq-len ${s.seqLen}: ` +
      `score ${t.score.toPrecision(4)} (${q}), ${t.epochsRun} epochs${t.stoppedByBudget ? ' (stopped by the budget)' : ''}, ${t.seconds.toFixed(1)} s\n`);
  };
}

type Outputs = { residual: boolean; why: string };

/**
 * Runs the search on the wall clock; the chosen trial's dataset, options and result replace
 * the plain run's, and its outputs (residual or levels) say why when the search changed them.
 */
export function runSearch(
  o: SearchCliOptions, input: DatasetInput, base: TrainOptions, outputs: Outputs, onTrial?: (t: SearchTrial, candidates: number) => void,
): { search: SearchRun; dataset: Dataset; options: TrainOptions; result: TrainResult; outputs: Outputs } {
  const search = searchTrain(input, base, {
    fixed: o.searchFixed ?? [],
    ...(o.searchTrials !== undefined ? { maxTrials: o.searchTrials } : {}),
    ...(o.search !== undefined ? { budgetSeconds: o.search } : {}),
    clock: () => performance.now() / 1000,
    ...(onTrial ? { onTrial } : {}),
  });
  const chosen = search.trials[search.chosen];
  const residual = chosen.settings.residual;
  return {
    search, dataset: search.dataset, options: search.options, result: search.result,
    outputs: residual === outputs.residual ? outputs : { residual, why: `chosen by --search (trial ${chosen.trial}; trial 1 had ${outputs.residual ? 'residual outputs' : 'levels'}: ${outputs.why})` },
  };
}

export function searchSummary(run: SearchRun): string {
  const c = run.trials[run.chosen];
  const s = c.settings;
  return `search: ${run.trials.length} of ${run.candidates} candidates in ${run.seconds.toFixed(1)} s; chosen trial ${c.trial} ` +
    `(${s.cell} hidden ${s.hidden}${s.residual ? ' residual' : ''} lr ${s.lr} seq-len ${s.seqLen}), score ${c.score.toPrecision(4)} vs ${run.trials[0].score.toPrecision(4)} for trial 1 (the settings as given)\n`;
}
