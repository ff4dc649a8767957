// The model card: what a model was trained on, how, and how good it is on held-out data,
// as JSON (for tools) and Markdown (for people). Pure: the caller writes the files.
import { anomalyCardJson, anomalyCardMarkdown } from './anomaly-card.js';
import type { AnomalyOutcome } from './anomaly-eval.js';
import type { Dataset } from './dataset.js';
import type { Metrics } from './metrics.js';
import type { SearchRun } from './search.js';
import { searchJson, searchMarkdown } from './search-card.js';
import { RECIPE_DEFAULTS, type TrainOptions, type TrainResult } from './trainer.js';
import { splitJson, splitMarkdown, splitReport } from './split-report.js';
import { comparisonJson, comparisonMarkdown, type Comparison } from './verdict.js';
import { eventComparisonJson, eventComparisonMarkdown, type EventComparison } from './event-compare.js';
import type { WindowOptions } from './window-trainer.js';

export interface CardInput {
  readonly modelFile: string;
  readonly curveFile: string;
  readonly dataFile: string;
  readonly dataSha256?: string;
  readonly license?: string;
  readonly deviceColumn?: string;
  /** Rows dropped for invalid values (--drop-invalid). */
  readonly droppedRows: number;
  /** Free text from the user: why this horizon, caveats. */
  readonly notes?: string;
  readonly created?: string;
  readonly options: TrainOptions;
  /** Regression: why the outputs are residual or levels (e.g. "--no-residual"). */
  readonly outputsWhy?: string;
  readonly dataset: Dataset;
  readonly result: TrainResult;
  /** `train --search`: the trials, written as a Search section. */
  readonly search?: SearchRun;
  /** `train --init`: where the weights started (linear-ar, persistence, random) and why. */
  readonly start?: { readonly start: string; readonly why: string };
  /** Regression: the anomaly scale written into the model, or why there is none (anomaly-eval.ts). */
  readonly anomaly?: AnomalyOutcome;
  /** Regression: the model against persistence, seasonal persistence and the linear AR. */
  readonly comparison?: Comparison;
  /** A windowed model (train --window): its window and how many windows trained and validated. */
  readonly window?: WindowOptions & { readonly trainWindows: number; readonly valWindows: number };
  /** train --compare-with: the windowed model against a per-reading classifier on the same readings. */
  readonly events?: EventComparison;
}

export interface ModelCard {
  readonly json: Record<string, unknown>;
  readonly markdown: string;
}

const r4 = (v: number | null) => (v === null || !Number.isFinite(v) ? v : Number(v.toPrecision(4)));
const pct = (v: number | null) => (v === null ? 'n/a' : `${(100 * v).toFixed(1)} %`);
const num = (v: number | null) => (v === null ? 'n/a' : String(r4(v)));

/** Hyper-parameters as stored in the model's meta and the card. */
export function hyperParameters(o: TrainOptions, w?: WindowOptions): Record<string, unknown> {
  return {
    cell: o.cell, hidden: o.hidden, layers: o.layers, ...(o.cell === 'rnn' ? { rnnActivation: o.rnnActivation ?? 'tanh' } : {}),
    // classWeights is set for classification runs only: the window label is a classification notion.
    ...(w ? { window: w.size, hop: w.hop, bidirectional: w.bidirectional, pool: w.from, ...(o.classWeights !== undefined ? { windowLabel: w.label } : {}) } : { seqLen: o.seqLen }),
    batch: o.batch, epochs: o.epochs, lr: o.lr,
    ...(w ? {} : { burnIn: o.burnIn ?? o.seqLen }), passes: o.passes ?? RECIPE_DEFAULTS.passes, minSteps: o.minSteps ?? RECIPE_DEFAULTS.minSteps,
    schedule: o.schedule ?? 'constant', ...(o.lrDecay !== undefined && o.lrDecay !== 1 ? { lrDecay: o.lrDecay } : {}), clip: o.clip, patience: o.patience, seed: o.seed,
    optimizer: 'adam', ...(o.classWeights !== undefined ? { classWeights: o.classWeights } : {}),
  };
}

/** The loss history for JSON: epoch 0 (the starting weights) has no training loss, so none is written. */
export function historyJson(history: TrainResult['history']): Record<string, number>[] {
  return history.map((h) => ({ epoch: h.epoch, ...(Number.isFinite(h.trainLoss) ? { trainLoss: r4(h.trainLoss)! } : {}), valLoss: r4(h.valLoss)! }));
}

/** Metrics rounded for meta/card (4 significant digits). */
export function roundedMetrics(m: Metrics): Record<string, unknown> {
  return JSON.parse(JSON.stringify(m, (_k, v) => (typeof v === 'number' && !Number.isInteger(v) ? r4(v) : v)));
}

export function modelCard(c: CardInput): ModelCard {
  const { dataset: ds, result: res, options: o } = c;
  const splits = splitReport(ds);
  const json = {
    model: res.model.name, file: c.modelFile, task: ds.task, ...(c.created ? { created: c.created } : {}),
    data: {
      file: c.dataFile, ...(c.dataSha256 ? { sha256: c.dataSha256 } : {}), ...(c.license ? { license: c.license } : {}),
      rows: ds.rows, droppedRows: c.droppedRows,
      inputs: ds.inputNames, ...(ds.task === 'regression' ? { targets: ds.outputNames, horizon: ds.shift, ...(ds.residualInputs ? { residual: true } : {}), ...(c.outputsWhy ? { outputsWhy: c.outputsWhy } : {}) } : { label: ds.outputNames[0], classes: ds.labels, trainClassCounts: ds.classCounts }),
      ...(c.deviceColumn ? { deviceColumn: c.deviceColumn } : {}),
    },
    split: splitJson(ds, splits),
    normalisation: {
      source: 'training split only', inputMean: [...ds.inputMean].map(r4), inputStd: [...ds.inputStd].map(r4),
      ...(ds.targetMean ? { [ds.residualInputs ? 'targetChangeMean' : 'targetMean']: [...ds.targetMean].map(r4), [ds.residualInputs ? 'targetChangeStd' : 'targetStd']: [...ds.targetStd!].map(r4) } : {}),
    },
    hyperParameters: hyperParameters(o, c.window),
    ...(c.window ? { window: { size: c.window.size, hop: c.window.hop, bidirectional: c.window.bidirectional, from: c.window.from, ...(ds.task === 'classification' ? { label: c.window.label } : {}), trainWindows: c.window.trainWindows, valWindows: c.window.valWindows } } : {}),
    ...(c.start ? { start: { kind: c.start.start, why: c.start.why } } : {}),
    ...(res.classWeights ? { classWeights: res.classWeights.map(r4) } : {}),
    parameters: res.parameters,
    training: { epochsRun: res.epochsRun, bestEpoch: res.bestEpoch, stoppedEarly: res.stoppedEarly, bestValLoss: r4(res.bestValLoss), history: historyJson(res.history) },
    validation: roundedMetrics(res.metrics),
    ...(c.search ? { search: searchJson(c.search) } : {}),
    ...(c.anomaly ? { anomaly: anomalyCardJson(c.anomaly) } : {}),
    ...(c.comparison ? { baselines: comparisonJson(c.comparison) } : {}),
    ...(c.events ? { events: eventComparisonJson(c.events) } : {}),
    ...(c.notes ? { notes: c.notes } : {}),
  };

  const md: string[] = [];
  md.push(`# Model card: ${res.model.name}`, '');
  md.push(`- **File:** \`${c.modelFile}\` (edge-rnn model format v1, ${res.parameters} parameters)`);
  md.push(`- **Task:** ${ds.task === 'regression' ? `regression — forecast ${ds.outputNames.join(', ')} ${ds.shift} step(s) ahead` : `classification of \`${ds.outputNames[0]}\` ${c.window ? 'per window' : 'at every step'} (classes ${ds.labels!.join(', ')})`}`);
  if (c.window) md.push(`- **Window:** ${windowWords(c.window, ds.task)}`);
  if (c.events) md.push(`- **Against \`${c.events.causal.model}\`:** ${c.events.winner === 'tie' ? 'tie on event F1' : `${c.events.winner === 'windowed' ? 'this model' : `\`${c.events.causal.model}\``} wins on event F1`} (${num(c.events.windowed.f1)} vs ${num(c.events.causal.f1)}), see below`);
  if (c.comparison) md.push(`- **Verdict:** ${c.comparison.verdict.headline}`);
  if (splits.warnings.length) md.push(`- **Validation split:** ${splits.warnings.length} warning(s), see Split below`);
  if (c.created) md.push(`- **Created:** ${c.created}`);
  md.push('', '## Data', '');
  md.push(`- **File:** \`${c.dataFile}\`${c.dataSha256 ? ` (sha256 \`${c.dataSha256.slice(0, 16)}…\`)` : ''}, ${ds.rows} rows used${c.droppedRows ? `, ${c.droppedRows} dropped for invalid values` : ''}`);
  if (c.license) md.push(`- **License of the data:** ${c.license}`);
  md.push(`- **Inputs:** ${ds.inputNames.join(', ')}`);
  md.push(ds.task === 'regression' ? `- **Targets:** ${ds.outputNames.join(', ')} at t + ${ds.shift}` : `- **Label:** ${ds.outputNames[0]}; training-split counts ${ds.labels!.map((l, i) => `${l}: ${ds.classCounts![i]}`).join(', ')}`);
  if (ds.residualInputs) {
    md.push(`- **Residual outputs${c.outputsWhy ? ` (${c.outputsWhy})` : ''}:** the network predicts each target's change over ${ds.shift} step(s) from its current reading (\`outputs.residual\`); the runtime adds the reading back, so the model's outputs (and the metrics below) are levels`);
  } else if (ds.task === 'regression' && c.outputsWhy) {
    md.push(`- **Level outputs (${c.outputsWhy}):** the network predicts the targets' values themselves`);
  }
  md.push(`- **Sequences:** ${c.deviceColumn ? `one per value of \`${c.deviceColumn}\` (state never mixed between devices)` : 'the whole file is one sequence'}`);
  md.push(`- **Normalisation:** mean/std from the training split only, stored in the model${ds.residualInputs ? ' (outputs: of the changes)' : ''}`);
  md.push('', ...splitMarkdown(ds, splits));
  md.push('## Training', '');
  md.push('| hyper-parameter | value |', '|---|---|');
  for (const [k, v] of Object.entries(hyperParameters(o))) md.push(`| ${k} | ${String(v)} |`);
  if (res.classWeights) md.push(`| class weights (loss) | ${res.classWeights.map((w, i) => `${ds.labels![i]}: ${r4(w)}`).join(', ')} |`);
  md.push('');
  if (c.window) md.push(`BPTT through ${c.window.bidirectional ? 'both directions of ' : ''}each window of ${c.window.size} readings from the zero state, one sample per window, drawn at random (seeded) among the ${c.window.trainWindows} windows that lie wholly in the training steps; ${o.batch} windows per gradient step; Adam (${o.schedule ?? 'constant'} learning rate); global gradient-norm clipping at ${o.clip}; early stopping on validation loss over the ${c.window.valWindows} windows ending at a validation reading (patience ${o.patience}), best weights kept.`);
  else md.push(`Truncated BPTT over windows of ${o.seqLen} steps at random (seeded) offsets within the training steps, each preceded by a burn-in of up to ${o.burnIn ?? o.seqLen} steps run without gradient from the zero state; ${o.batch} windows per gradient step; Adam (${o.schedule ?? 'constant'} learning rate); global gradient-norm clipping at ${o.clip}; early stopping on validation loss (patience ${o.patience}), best weights kept.`);
  if (c.start) md.push(`Start: **${c.start.start}** (${c.start.why}).`);
  md.push(`Epochs run: ${res.epochsRun}${res.stoppedEarly ? ' (stopped early)' : ''}; best epoch ${res.bestEpoch}${res.bestEpoch === 0 ? ' (the starting weights: no epoch did better)' : ''}, validation loss ${num(res.bestValLoss)}.`, '');
  md.push(`![training curve](${c.curveFile})`, '');
  md.push('## Validation metrics', '');
  const m = res.metrics;
  if (m.task === 'regression') {
    md.push(`Over ${m.steps} validation steps, in the data's units. Persistence baseline: the value ${m.horizon} step(s) ahead equals the last observed value.`, '');
    md.push('| target | RMSE | MAE | persistence RMSE | persistence MAE | RMSE improvement |', '|---|---:|---:|---:|---:|---:|');
    for (const t of m.targets) md.push(`| ${t.name} | ${num(t.rmse)} | ${num(t.mae)} | ${num(t.persistenceRmse)} | ${num(t.persistenceMae)} | ${pct(t.rmseImprovement)} |`);
  } else {
    md.push(`Over ${m.steps} validation ${c.window ? 'windows, each against its window label' : 'steps'}. Accuracy ${pct(m.accuracy)}.`, '');
    md.push('| class | support | precision | recall | F1 |', '|---|---:|---:|---:|---:|');
    for (const k of m.classes) md.push(`| ${k.label} | ${k.support} | ${num(k.precision)} | ${num(k.recall)} | ${num(k.f1)} |`);
    md.push('', 'Confusion matrix (rows: true class, columns: predicted):', '');
    md.push(`| true \\ predicted | ${ds.labels!.join(' | ')} |`, `|---|${ds.labels!.map(() => '---:').join('|')}|`);
    m.confusion.forEach((row, i) => md.push(`| ${ds.labels![i]} | ${row.join(' | ')} |`));
  }
  if (c.comparison) md.push('', ...comparisonMarkdown(ds, c.comparison));
  if (c.events) md.push('', ...eventComparisonMarkdown(c.events));
  if (c.search) md.push('', ...searchMarkdown(c.search));
  if (c.anomaly) md.push(...anomalyCardMarkdown(c.anomaly));
  if (c.notes) md.push('', '## Notes', '', c.notes);
  md.push('');
  return { json, markdown: md.join('\n') };
}

function windowWords(w: WindowOptions, task: string): string {
  const dirs = w.bidirectional ? 'bidirectional (each layer reads the window both ways; outputs 2 x hidden)' : 'forward only';
  const pool = w.from === 'last' ? 'last (the forward h at the last reading, the reverse h at the first)' : 'mean (over the window)';
  const label = task === 'classification'
    ? (w.label === 'last' ? '; a window is labelled with its last reading\'s class' : '; a window is labelled with the highest class of any of its readings (with 0/1: 1 when an event touches it)')
    : '; a window forecasts the target of its last reading';
  return `${w.size} readings, one result every ${w.hop}; ${dirs}; pooled ${pool}${label}`;
}
