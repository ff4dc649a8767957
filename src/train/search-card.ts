// The search table of `train --search` for the model card (JSON and Markdown) and `--json`:
// every trial's settings, validation score and RMSE per target (or accuracy), epochs and
// seconds, the chosen one marked. Only the seconds differ between two runs with one seed.
import { MIN_GAIN, type SearchRun, type SearchTrial } from './search.js';

const r4 = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(4)) : v);
const s1 = (v: number) => Math.round(v * 10) / 10;

export const SEARCH_CAVEAT =
  'the chosen trial is the best of all trials on the validation split, and the metrics above come from that same split, so they are optimistic';

function quality(t: SearchTrial): Record<string, unknown> {
  const m = t.metrics;
  return m.task === 'regression'
    ? { valRmse: Object.fromEntries(m.targets.map((x) => [x.name, r4(x.rmse)])) }
    : { valAccuracy: r4(m.accuracy) };
}

/** The search as JSON (card and --json). */
export function searchJson(run: SearchRun): Record<string, unknown> {
  return {
    chosenBy: `${run.trials[0].metrics.task === 'regression' ? 'score = mean over targets of validation RMSE / persistence RMSE' : 'score = validation loss'}; ` +
      `a trial replaces the best so far only if its score is more than ${100 * MIN_GAIN} % lower`,
    caveat: SEARCH_CAVEAT,
    ...(run.budgetSeconds !== undefined ? { budgetSeconds: run.budgetSeconds } : {}),
    ...(run.maxTrials !== undefined ? { maxTrials: run.maxTrials } : {}),
    candidates: run.candidates, trialsRun: run.trials.length, chosenTrial: run.trials[run.chosen].trial, seconds: s1(run.seconds),
    trials: run.trials.map((t, i) => ({
      trial: t.trial, ...t.settings, score: r4(t.score), ...quality(t), bestValLoss: r4(t.bestValLoss),
      epochsRun: t.epochsRun, bestEpoch: t.bestEpoch, ...(t.stoppedByBudget ? { stoppedByBudget: true } : {}), seconds: s1(t.seconds), chosen: i === run.chosen,
    })),
  };
}

/** The "## Search" section of the Markdown card. */
export function searchMarkdown(run: SearchRun): string[] {
  const first = run.trials[0].metrics;
  const regression = first.task === 'regression';
  const names = first.task === 'regression' ? first.targets.map((t) => t.name) : [];
  const limits = [
    ...(run.budgetSeconds !== undefined ? [`a budget of ${run.budgetSeconds} s`] : []),
    ...(run.maxTrials !== undefined ? [`at most ${run.maxTrials} trials`] : []),
  ];
  const md = ['## Search', ''];
  md.push(
    `\`train --search\` ran ${run.trials.length} of ${run.candidates} candidate settings in ${s1(run.seconds)} s` +
    `${limits.length ? ` (${limits.join(', ')})` : ''}, each later one a step of one setting from the best so far (seeded order among equals); trial 1 is the settings as given, what plain \`train\` would have built. ` +
    `The model written is trial ${run.trials[run.chosen].trial}, chosen by ` +
    `its score (${regression ? 'the mean over targets of validation RMSE / persistence RMSE' : 'the validation loss'}): ` +
    `a trial replaced the best so far only if its score was more than ${100 * MIN_GAIN} % lower, so small gains do not swap in a bigger model.`,
    '',
    `**Optimistic:** ${SEARCH_CAVEAT}.`,
    '',
  );
  const quality = regression ? names.map((n) => `RMSE ${n}`) : ['accuracy'];
  md.push(`| trial | cell | hidden | residual | lr | seq-len | score | ${quality.join(' | ')} | epochs | best epoch | seconds | chosen |`);
  md.push(`|---:|---|---:|---|---:|---:|---:|${quality.map(() => '---:|').join('')}---:|---:|---:|---|`);
  run.trials.forEach((t, i) => {
    const m = t.metrics;
    const q = m.task === 'regression' ? m.targets.map((x) => String(r4(x.rmse))) : [String(r4(m.accuracy))];
    const s = t.settings;
    md.push(`| ${t.trial} | ${s.cell} | ${s.hidden} | ${s.residual ? 'yes' : 'no'} | ${s.lr} | ${s.seqLen} | ${r4(t.score)} | ${q.join(' | ')} | ${t.epochsRun}${t.stoppedByBudget ? ' (budget)' : ''} | ${t.bestEpoch} | ${s1(t.seconds)} | ${i === run.chosen ? '**chosen**' : ''} |`);
  });
  return md;
}
