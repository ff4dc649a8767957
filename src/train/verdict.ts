// The model against its baselines: the headline verdict in plain words (better than, ties, or
// worse than the best baseline, with what to do about it) and the baselines tables of the
// card, Markdown and JSON. Pure: scores in, text and objects out.
import type { Model } from '../model/types.js';
import { bestBaseline, rankScore, scoreBaselines, scoreForecasts, type BaselineScore, type Baselines, type ForecastScore } from './baselines.js';
import type { Dataset } from './dataset.js';
import { createNetwork } from './network.js';
import { seriesOutputs } from './trainer.js';

/** Within this relative difference of the best baseline the model ties it. */
export const TIE_TOLERANCE = 0.02;

export interface Verdict {
  readonly relation: 'better' | 'ties' | 'worse';
  readonly best: BaselineScore['kind'];
  /** model score / best baseline score (RMSE, or mean RMSE/std over several targets). */
  readonly ratio: number;
  readonly headline: string;
}

export interface Comparison {
  readonly model: ForecastScore;
  readonly baselines: Baselines;
  readonly verdict: Verdict;
}

const p4 = (v: number) => (Number.isFinite(v) ? String(Number(v.toPrecision(4))) : String(v));
const pctOf = (v: number) => `${Math.round(100 * v)} %`;

/** What a baseline does, for "the model adds nothing over …". */
function doing(b: BaselineScore): string {
  if (b.kind === 'persistence') return 'repeating the last reading';
  if (b.kind === 'seasonal') return `repeating the reading one period (${b.period} steps) earlier`;
  return b.description;
}

function advice(ds: Dataset, b: BaselineScore): string {
  if (b.kind === 'linear-ar') return 'use that model\'s recipe (`train --init linear-ar`) or more data';
  if (b.kind === 'seasonal') return `seasonal persistence (the reading ${b.period} steps earlier) is the better forecaster here; windows longer than the period (\`--seq-len\`) or \`--search\` may close the gap`;
  return ds.residualInputs
    ? 'repeating the last reading is the better forecaster here; more data or another horizon may change that'
    : 'try residual outputs (`--residual`), which predict the change and start at persistence';
}

/** The headline verdict of a model whose validation RMSE per target is `rmse`. */
export function verdictOf(ds: Dataset, rmse: readonly number[], baselines: Baselines): Verdict {
  const best = bestBaseline(ds, baselines);
  const m = rankScore(ds, rmse), b = rankScore(ds, best.rmse);
  const ratio = b > 0 ? m / b : m > 0 ? Infinity : 1;
  const what = rmse.length === 1 ? 'RMSE' : 'mean RMSE/std';
  const numbers = `${what} ${p4(m)} vs ${p4(b)}`;
  if (Math.abs(ratio - 1) <= TIE_TOLERANCE) {
    return { relation: 'ties', best: best.kind, ratio, headline: `ties ${best.description} (within ${pctOf(TIE_TOLERANCE)}, ${numbers}): the model adds nothing over ${doing(best)}` };
  }
  if (ratio < 1) {
    return { relation: 'better', best: best.kind, ratio, headline: `${pctOf(1 - ratio)} better than the best baseline, ${best.description} (${numbers})` };
  }
  const worse = !Number.isFinite(ratio) ? 'worse than' : ratio >= 2 ? `${ratio.toFixed(1)}x the error of` : `${pctOf(ratio - 1)} worse than`;
  return { relation: 'worse', best: best.kind, ratio, headline: `${worse} ${best.description} (${numbers}): ${advice(ds, best)}` };
}

/** The trained model's validation forecasts scored like the baselines, the baselines, the verdict. */
export function compareWithBaselines(ds: Dataset, model: Model, opts: { period?: number } = {}): Comparison {
  const net = createNetwork(model, 1, 'f32');
  const out = new Float32Array(Math.max(...ds.series.map((s) => s.n)) * ds.outputNames.length);
  const scored = scoreForecasts(ds, (si) => seriesOutputs(net, ds, ds.series[si], out));
  const baselines = scoreBaselines(ds, opts);
  return { model: scored, baselines, verdict: verdictOf(ds, scored.rmse, baselines) };
}

const r4 = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(4)) : v);

/** The card's and --json's `baselines` object. */
export function comparisonJson(c: Comparison): Record<string, unknown> {
  const score = (s: ForecastScore) => ({
    steps: s.steps, rmse: s.rmse.map(r4), mae: s.mae.map(r4),
    devices: s.devices.map((d) => ({ device: d.device, steps: d.steps, rmse: d.rmse.map(r4), mae: d.mae.map(r4) })),
  });
  return {
    verdict: { relation: c.verdict.relation, best: c.verdict.best, ratio: r4(c.verdict.ratio), headline: c.verdict.headline },
    horizon: c.baselines.horizon,
    ...(c.baselines.period ? { period: { ...c.baselines.period, ...(c.baselines.period.autocorrelation !== undefined ? { autocorrelation: r4(c.baselines.period.autocorrelation) } : {}) } } : {}),
    model: score(c.model),
    list: c.baselines.list.map((b) => ({
      kind: b.kind, description: b.description,
      ...(b.period !== undefined ? { period: b.period } : {}), ...(b.lags !== undefined ? { lags: b.lags, ridge: b.ridge } : {}),
      ...score(b),
    })),
  };
}

/** Short column name of a forecaster. */
function column(b: BaselineScore): string {
  if (b.kind === 'seasonal') return `seasonal (P ${b.period})`;
  if (b.kind === 'linear-ar') return `linear AR (k ${b.lags})`;
  return 'persistence';
}

/** The card's "Baselines" section (regression). */
export function comparisonMarkdown(ds: Dataset, c: Comparison): string[] {
  const md: string[] = ['## Baselines', ''];
  md.push(`**Verdict:** ${c.verdict.headline}.`, '');
  const period = c.baselines.period;
  md.push(
    'Scored on the same validation steps as the model, in the data\'s units. Persistence: the value ' +
    `${c.baselines.horizon} step(s) ahead is the last reading. ` +
    (period
      ? `Seasonal persistence: the reading one period earlier than the target time, period ${period.steps} steps (${period.source === 'given' ? 'given by `--period`' : `found on the training split, autocorrelation of the changes ${p4(period.autocorrelation!)}`}). `
      : 'Seasonal persistence: no clear period on the training split (give one with `--period`). ') +
    'Linear AR: ridge least squares on the last k normalised readings of every input, k and the ridge chosen on the end of the training split.',
    '',
  );
  const heads = c.baselines.list.map(column);
  md.push(`| target | model RMSE | ${heads.map((h) => `${h} RMSE`).join(' | ')} | model MAE | ${heads.map((h) => `${h} MAE`).join(' | ')} |`);
  md.push(`|---|${'---:|'.repeat(2 + 2 * heads.length)}`);
  ds.outputNames.forEach((name, o) => {
    md.push(`| ${name} | ${p4(c.model.rmse[o])} | ${c.baselines.list.map((b) => p4(b.rmse[o])).join(' | ')} | ${p4(c.model.mae[o])} | ${c.baselines.list.map((b) => p4(b.mae[o])).join(' | ')} |`);
  });
  const ar = c.baselines.list.find((b) => b.kind === 'linear-ar');
  if (ar) md.push('', `Linear AR chosen: k = ${ar.lags} lag(s), ridge ${ar.ridge}.`);
  if (c.model.devices.length > 1) {
    md.push('', 'Per device (RMSE):', '');
    md.push(`| device | target | steps | model | ${heads.join(' | ')} |`, `|---|---|---:|---:|${'---:|'.repeat(heads.length)}`);
    c.model.devices.forEach((d, di) => {
      ds.outputNames.forEach((name, o) => {
        md.push(`| ${d.device} | ${name} | ${d.steps} | ${p4(d.rmse[o])} | ${c.baselines.list.map((b) => p4(b.devices[di].rmse[o])).join(' | ')} |`);
      });
    });
  }
  md.push('');
  return md;
}

/** One summary line per baseline for the CLI. */
export function comparisonSummary(ds: Dataset, c: Comparison): string[] {
  const lines = [`verdict: ${c.verdict.headline}`];
  for (const b of c.baselines.list) {
    lines.push(`  ${column(b)}: ${ds.outputNames.map((n, o) => `${n} RMSE ${p4(b.rmse[o])}`).join(', ')}${b.kind === 'linear-ar' ? `, ridge ${b.ridge}` : ''}`);
  }
  return lines;
}
