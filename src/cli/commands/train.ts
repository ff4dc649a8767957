// `edge-rnn train`: CSV of recorded readings -> model file + model card (Markdown, JSON)
// + training-curve SVG. The training itself is pure compute in src/train; this command
// parses the CSV into columns, renders progress, and writes the files.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import cliProgress from 'cli-progress';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { cellNumber, cellPlace, columnIndex, readCsv, type CsvTable } from '../../io/csv.js';
import { ModelFileError, readModelFile, writeModelFile } from '../../io/model-file.js';
import { isBidirectional, type Model, type RecurrentType } from '../../model/types.js';
import type { StartChoice } from '../../train/init-choice.js';
import {
  anomalyForRun, anomalySummary, buildDataset, DEFAULT_ANOMALY_QUANTILE, historyJson, RECIPE_DEFAULTS, hyperParameters, lossCurveSvg, modelCard, roundedMetrics, train, TrainDataError,
  type AnomalyOutcome, type Dataset, type DatasetInput, type TrainEvent, type TrainOptions, type TrainResult,
} from '../../train/index.js';
import { DEFAULT_VAL_BLOCKS } from '../../train/split.js';
import { splitJson, splitReport, type SplitReport } from '../../train/split-report.js';
import { compareWithBaselines, comparisonSummary, comparisonJson, type Comparison } from '../../train/verdict.js';
import { searchJson, type SearchRun, type SearchTrial } from '../../train/index.js';
import { CliError } from '../errors.js';
import { initGiven, initOption, startRun, type InitCliOptions } from './train-init.js';
import { addWindowOptions, compareWithCausal, windowSpec, type WindowCliOptions } from './train-window.js';
import { trainWindowed, type WindowTrainResult } from '../../train/window-trainer.js';
import { eventComparisonJson, eventSummary, type EventComparison } from '../../train/event-compare.js';
import { fixedAxes, parseBudget, runSearch, searchHelp, searching, searchSummary, trialLine, type SearchCliOptions } from './train-search.js';

export interface TrainCliOptions extends SearchCliOptions, InitCliOptions, WindowCliOptions {
  data: string;
  inputs: string[];
  target?: string[];
  label?: string;
  horizon: number;
  /** Regression: predict each target's change from the input of the same name (true), levels (false); absent: residual when every target is an input. */
  residual?: boolean;
  deviceColumn?: string;
  cell: RecurrentType;
  rnnActivation: 'tanh' | 'relu';
  hidden: number;
  layers: number;
  seqLen: number;
  batch: number;
  epochs: number;
  lr: number;
  lrDecay: number;
  clip: number;
  patience: number;
  /** Learning-rate schedule (TrainOptions.schedule). */
  schedule?: 'constant' | 'cosine' | 'plateau';
  /** Burn-in steps before each window (default: --seq-len). */
  burnIn?: number;
  /** Windows per epoch, in passes over the training steps. */
  passes?: number;
  /** Stop training after this many seconds of wall-clock time (the best epoch so far is kept). */
  timeBudget?: number;
  val: number;
  valMode?: 'tail' | 'blocks';
  valBlocks?: number;
  valGap?: number;
  seed?: number;
  classWeights: boolean;
  dropInvalid?: boolean;
  name?: string;
  modelVersion: number;
  out?: string;
  license?: string;
  notes?: string;
  created?: string;
  json?: boolean;
  progress: boolean;
  /** Regression: seasonal period (steps) of the seasonal-persistence baseline; default: found on the training split. */
  period?: number;
  /** Model file to continue: its weights are the start, and meta.continuesFrom its sha256. */
  initFrom?: string;
  /** Regression: a 0/1 column of labelled events, to score the anomaly flag against. */
  eventColumn?: string;
  /** Regression: quantile of the validation scores taken as the anomaly threshold. */
  anomalyQuantile?: number;
}

const DEFAULT_SEED = 1;

const list = (v: string) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};
const float = (ok: (n: number) => boolean, what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || !ok(n)) throw new InvalidArgumentError(`expected ${what}`);
  return n;
};

interface Columns {
  inputs: Float64Array[];
  targets: Float64Array[];
  labels: string[];
  devices?: string[];
  /** --event-column: 1 for a labelled event row, else 0. */
  events?: Uint8Array;
  dropped: number;
}

/** The CSV's needed columns as numbers (and labels/devices as text), with errors naming the line. */
export function columnsFromCsv(table: CsvTable, o: Pick<TrainCliOptions, 'inputs' | 'target' | 'label' | 'deviceColumn' | 'dropInvalid' | 'eventColumn'>): Columns {
  const inCols = columnIndex(table, o.inputs);
  const tCols = columnIndex(table, o.target ?? []);
  const lCol = o.label === undefined ? -1 : columnIndex(table, [o.label])[0];
  const dCol = o.deviceColumn === undefined ? -1 : columnIndex(table, [o.deviceColumn])[0];
  const eCol = o.eventColumn === undefined ? -1 : columnIndex(table, [o.eventColumn])[0];
  const numeric = [...inCols, ...tCols];
  const keep: number[] = [];
  const values: number[][] = numeric.map(() => []);
  rows: for (let r = 0; r < table.rows.length; r++) {
    const row = table.rows[r];
    const parsed: number[] = [];
    for (const c of numeric) {
      const n = cellNumber(table, r, c);
      if (n.ok) {
        parsed.push(n.value);
        continue;
      }
      // Missing / NaN / ±Infinity: a gap in the recording. Other text: a wrong column, always an error.
      if (n.code === 'not-a-number') throw new CliError(`${cellPlace(table, r, c)}: ${n.why}`);
      if (o.dropInvalid) continue rows;
      throw new CliError(
        `${cellPlace(table, r, c)}: missing or non-finite value ${JSON.stringify(row[c])}; ` +
        'refusing to train on it (pass --drop-invalid to skip such rows)',
      );
    }
    for (const c of [lCol, dCol, eCol]) {
      if (c >= 0 && row[c] === '') {
        if (o.dropInvalid) continue rows;
        throw new CliError(`${cellPlace(table, r, c)}: empty; refusing to train on it (pass --drop-invalid to skip such rows)`);
      }
    }
    if (eCol >= 0 && row[eCol] !== '0' && row[eCol] !== '1') throw new CliError(`${cellPlace(table, r, eCol)}: --event-column expects 0 or 1, got ${JSON.stringify(row[eCol])}`);
    keep.push(r);
    parsed.forEach((v, i) => values[i].push(v));
  }
  return {
    inputs: values.slice(0, inCols.length).map((v) => Float64Array.from(v)),
    targets: values.slice(inCols.length).map((v) => Float64Array.from(v)),
    labels: lCol >= 0 ? keep.map((r) => table.rows[r][lCol]) : [],
    ...(dCol >= 0 ? { devices: keep.map((r) => table.rows[r][dCol]) } : {}),
    ...(eCol >= 0 ? { events: Uint8Array.from(keep, (r) => (table.rows[r][eCol] === '1' ? 1 : 0)) } : {}),
    dropped: table.rows.length - keep.length,
  };
}

/** `created` for meta and card: --created, else SOURCE_DATE_EPOCH, else the clock unless --seed was given. */
function createdStamp(o: TrainCliOptions): string | undefined {
  if (o.created) {
    const d = new Date(o.created);
    if (Number.isNaN(d.getTime())) throw new CliError(`--created: ${JSON.stringify(o.created)} is not a date`);
    return d.toISOString();
  }
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && /^\d+$/.test(epoch)) return new Date(Number(epoch) * 1000).toISOString();
  return o.seed === undefined ? new Date().toISOString() : undefined;
}

export interface TrainRun {
  model: Model;
  bytes: Uint8Array;
  result: TrainResult;
  dataset: Dataset;
  search?: SearchRun;
  /** Where the weights started and why (absent with --init-from and --search). */
  start?: StartChoice;
  /** Regression: the anomaly scale written into the model, or why there is none. */
  anomaly?: AnomalyOutcome;
  /** Residual or level outputs, and why. */
  outputs: { residual: boolean; why: string };
  comparison?: Comparison;
  /** --compare-with: the windowed model against a per-reading classifier on the same readings. */
  events?: EventComparison;
  split: SplitReport;
  paths: { model: string; cardMd: string; cardJson: string; curve: string };
}

/** The whole command without argument parsing: used by the CLI and scripts/train-models.ts. */
/** What a run reports besides its events: split warnings (stderr in the CLI) and, with --search, each finished trial. */
export interface TrainHooks {
  readonly warn?: (message: string) => void;
  readonly onTrial?: (t: SearchTrial, candidates: number) => void;
}

export function runTrain(o: TrainCliOptions, onEvent: (e: TrainEvent) => void = () => {}, hooks: TrainHooks = {}): TrainRun {
  if (!o.target === !o.label) throw new CliError('give either --target (regression) or --label (classification)');
  if (o.label && o.inputs.includes(o.label)) throw new CliError(`--label ${o.label} is also an input: the model would see the answer`);
  if (o.label && o.eventColumn) throw new CliError('--event-column scores the anomaly flag of a forecaster (--target); a classifier is scored against its --label');
  if (o.label && o.period !== undefined) throw new CliError('--period is for regression (--target): it sets the seasonal-persistence baseline');
  if (o.residual === true) {
    if (o.label) throw new CliError('--residual is for regression (--target): a class has no change to predict');
    const missing = o.target!.find((t) => !o.inputs.includes(t));
    if (missing !== undefined) {
      throw new CliError(`--residual: target "${missing}" is not an input (each target's change is predicted from the input of the same name; add it to --inputs)`);
    }
  }
  const table = readCsv(o.data);
  const cols = columnsFromCsv(table, o);
  const name = o.name ?? basename(o.data).replace(/\.[^.]*$/, '');
  const seed = o.seed ?? DEFAULT_SEED;
  if (searching(o) && o.initFrom !== undefined) throw new CliError('--search cannot be combined with --init-from (a continued model keeps its cell and size)');
  const win = windowSpec({ ...o, search: searching(o) ? true : undefined });
  let outputs = win && !o.label ? { residual: false, why: 'a windowed model outputs levels' } : outputsChoice(o);
  let ds: Dataset;
  const input: DatasetInput = {
    inputNames: o.inputs, inputs: cols.inputs, ...(cols.devices ? { devices: cols.devices } : {}),
    target: o.label
      ? { task: 'classification', labelName: o.label, labels: cols.labels }
      : { task: 'regression', targetNames: o.target!, targets: cols.targets, horizon: o.horizon, ...(outputs.residual ? { residual: true } : {}) },
    valFraction: o.val, seqLen: win ? win.size : o.seqLen, ...(win ? { seqLenFlag: '--window' } : {}), ...(o.valMode ? { valMode: o.valMode } : {}),
    ...(o.valBlocks !== undefined ? { valBlocks: o.valBlocks } : {}), ...(o.valGap !== undefined ? { valGap: o.valGap } : {}),
    // Blocks are placed so the labelled events fall in both parts, as a classifier's classes are.
    ...(cols.events ? { strata: Array.from(cols.events, String) } : {}),
  };
  try {
    ds = buildDataset(input);
  } catch (e) {
    if (e instanceof TrainDataError) throw new CliError(`${o.data}: ${e.message}`);
    throw e;
  }
  const split = splitReport(ds);
  for (const w of split.warnings) hooks.warn?.(w);
  let topts: TrainOptions = {
    name, cell: o.cell, hidden: o.hidden, layers: o.layers, ...(o.cell === 'rnn' ? { rnnActivation: o.rnnActivation } : {}),
    seqLen: win ? win.size : o.seqLen, batch: o.batch, epochs: o.epochs, lr: o.lr, ...(o.lrDecay !== 1 ? { lrDecay: o.lrDecay } : {}), clip: o.clip, patience: o.patience, seed,
    ...(ds.task === 'classification' ? { classWeights: o.classWeights } : {}),
    ...(o.schedule ? { schedule: o.schedule } : {}), ...(o.burnIn !== undefined ? { burnIn: o.burnIn } : {}),
    ...(o.passes !== undefined ? { passes: o.passes } : {}),
    ...(o.timeBudget !== undefined ? { shouldStop: deadline(o.timeBudget) } : {}),
  };
  if (o.init !== undefined && o.init !== 'auto' && (o.initFrom !== undefined || searching(o))) throw new CliError(`--init ${o.init} cannot be combined with ${o.initFrom !== undefined ? '--init-from' : '--search'} (they choose the start themselves)`);
  // A continued model says so (meta.continuesFrom): a hot swap to it keeps the device states.
  const old = o.initFrom === undefined ? undefined : readContinued(o.initFrom);
  let start: StartChoice | undefined;
  // With --search, the default start is trial 1, so the search never does worse than plain train.
  if (!old && !win) ({ options: topts, start } = startRun(ds, o, topts));
  let result: TrainResult | WindowTrainResult;
  let search: SearchRun | undefined;
  if (searching(o)) {
    ({ search, dataset: ds, options: topts, result, outputs } = runSearch(o, input, topts, outputs, hooks.onTrial));
    // The start choice describes trial 1; a later trial started fresh (persistence for residual outputs).
    if (search.trials[search.chosen].trial !== 1) start = undefined;
  }
  else try {
    result = win ? trainWindowed(ds, topts, win, onEvent) : train(ds, old ? { ...topts, initFrom: old.model } : topts, onEvent);
  } catch (e) {
    if (old && e instanceof TrainDataError) throw new CliError(`--init-from ${o.initFrom}: ${e.message}`);
    if (win && e instanceof TrainDataError) throw new CliError(`${o.data}: ${e.message}`);
    throw e;
  }

  const comparison = ds.task === 'regression' && !win ? baselineComparison(ds, result.model, o) : undefined;
  const events = win && o.compareWith !== undefined ? compareWithCausal(o.compareWith, ds, result.model) : undefined;

  const modelPath = o.out ?? join('models', `${name}.msgpack`);
  const stem = modelPath.replace(/\.msgpack$/, '');
  const paths = { model: modelPath, cardMd: `${stem}.card.md`, cardJson: `${stem}.card.json`, curve: `${stem}.curve.svg` };
  const created = createdStamp(o);
  const bytesIn = readFileSync(o.data);
  const sha256 = createHash('sha256').update(bytesIn).digest('hex');
  const dataFile = basename(o.data);
  const anomaly = win ? undefined : anomalyForRun(ds, result, { quantile: o.anomalyQuantile, ...(cols.events ? { events: { column: o.eventColumn!, rows: cols.events, devices: cols.devices } } : {}) });
  const model: Model = {
    ...(anomaly?.ok ? anomaly.model : result.model),
    modelVersion: o.modelVersion,
    meta: {
      ...(created ? { created } : {}),
      dataset: { file: dataFile, sha256, rows: ds.rows, ...(o.deviceColumn ? { deviceColumn: o.deviceColumn } : {}), valFraction: o.val, ...splitMeta(ds) },
      ...(o.license ? { license: o.license } : {}),
      trainedWith: 'edge-rnn train',
      ...(old ? { continuesFrom: old.sha256 } : {}),
      hyperParameters: hyperParameters(topts, win),
      ...(start ? { start: start.start } : {}),
      ...(search ? { search: { trials: search.trials.length, chosenTrial: search.trials[search.chosen].trial } } : {}),
      epochsRun: result.epochsRun,
      bestEpoch: result.bestEpoch,
      metrics: roundedMetrics(result.metrics),
    },
  };
  mkdirSync(dirname(modelPath) || '.', { recursive: true });
  const bytes = writeModelFile(modelPath, model);
  const card = modelCard({
    modelFile: basename(paths.model), curveFile: basename(paths.curve), dataFile, dataSha256: sha256,
    ...(o.license ? { license: o.license } : {}), ...(o.deviceColumn ? { deviceColumn: o.deviceColumn } : {}),
    droppedRows: cols.dropped, ...(o.notes ? { notes: o.notes } : {}), ...(created ? { created } : {}),
    options: topts, dataset: ds, result: { ...result, model }, ...(anomaly ? { anomaly } : {}), ...(ds.task === 'regression' ? { outputsWhy: outputs.why } : {}),
    ...(comparison ? { comparison } : {}), ...(win ? { window: { ...win, ...windowCounts(result) } } : {}), ...(events ? { events } : {}),
    ...(search ? { search } : {}), ...(start ? { start } : {}),
  });
  writeFileSync(paths.cardMd, card.markdown);
  writeFileSync(paths.cardJson, JSON.stringify(card.json, null, 2) + '\n');
  writeFileSync(paths.curve, lossCurveSvg(result.history, `${name}: loss per epoch`, result.bestEpoch));
  return { model, bytes, result, dataset: ds, ...(anomaly ? { anomaly } : {}), outputs, ...(comparison ? { comparison } : {}), ...(events ? { events } : {}), split, paths, ...(search ? { search } : {}), ...(start ? { start } : {}) };
}

function windowCounts(r: TrainResult | WindowTrainResult): { trainWindows: number; valWindows: number } {
  return 'trainWindows' in r ? { trainWindows: r.trainWindows, valWindows: r.valWindows } : { trainWindows: 0, valWindows: 0 };
}

/** Residual or level outputs, and why, as the card and summary say it. */
export function outputsChoice(o: Pick<TrainCliOptions, 'residual' | 'label' | 'target' | 'inputs'>): { residual: boolean; why: string } {
  if (o.label) return { residual: false, why: 'classification' };
  if (o.residual === true) return { residual: true, why: '--residual' };
  if (o.residual === false) return { residual: false, why: '--no-residual' };
  const missing = o.target!.find((t) => !o.inputs.includes(t));
  return missing === undefined
    ? { residual: true, why: 'default: every target is an input, so the model learns the change from the current reading' }
    : { residual: false, why: `target "${missing}" is not an input, so there is no current value to add a change to` };
}

/** A stop callback for the trainer: true once `seconds` of wall-clock time have passed since it was made. */
function deadline(seconds: number): () => boolean {
  const end = performance.now() + seconds * 1000;
  return () => performance.now() >= end;
}

/** The split in the model's meta.dataset beyond valFraction: absent for the default tail split. */
function splitMeta(ds: Dataset): Record<string, unknown> {
  const s = ds.split;
  if (s.mode === 'tail' && s.gap === 0) return {};
  return { valMode: s.mode, ...(s.mode === 'blocks' ? { valBlocks: s.blocks, ...(s.phase ? { valPhase: s.phase } : {}) } : {}), valGap: s.gap };
}

function baselineComparison(ds: Dataset, model: Model, o: TrainCliOptions): Comparison {
  try {
    return compareWithBaselines(ds, model, o.period !== undefined ? { period: o.period } : {});
  } catch (e) {
    if (e instanceof TrainDataError) throw new CliError(`${o.data}: ${e.message}`);
    throw e;
  }
}

function readContinued(path: string): { model: Model; sha256: string } {
  try {
    const { model, bytes } = readModelFile(path);
    return { model, sha256: createHash('sha256').update(bytes).digest('hex') };
  } catch (e) {
    if (e instanceof ModelFileError) throw new CliError(`--init-from: ${e.message}`);
    throw e;
  }
}

/** Progress: a bar with loss and ETA on a terminal, one line per epoch otherwise. */
function progressRenderer(tty: boolean, write: (s: string) => void): (e: TrainEvent) => void {
  let bar: cliProgress.SingleBar | undefined;
  let epochs = 0;
  return (e) => {
    if (e.type === 'start') {
      epochs = e.epochs;
      write(`training ${e.parameters} parameters, ${e.stepsPerEpoch} steps per epoch, up to ${e.epochs} epochs\n`);
      if (tty) {
        bar = new cliProgress.SingleBar({
          format: 'epoch {epoch}/{epochs} [{bar}] {percentage}% | loss {loss} | val {val} | ETA {eta_formatted}',
          stream: process.stderr, hideCursor: true, clearOnComplete: false, etaBuffer: 200,
        }, cliProgress.Presets.shades_classic);
        bar.start(e.epochs * e.stepsPerEpoch, 0, { epoch: 1, epochs, loss: '-', val: '-' });
      }
    } else if (e.type === 'batch') {
      bar?.increment(1, { epoch: e.epoch, loss: e.loss.toFixed(4) });
    } else if (e.type === 'epoch') {
      const s = e.stats;
      if (bar) bar.update({ val: s.valLoss.toFixed(4) });
      else write(`epoch ${s.epoch}/${epochs}: ${s.epoch === 0 ? 'starting weights' : `train loss ${s.trainLoss.toFixed(5)}`}, val loss ${s.valLoss.toFixed(5)}${e.improved ? ' (best)' : ''}\n`);
    } else if (e.type === 'stop') {
      if (bar) {
        if (e.reason !== 'epochs') bar.setTotal(bar.getProgress() * bar.getTotal());
        bar.stop();
      }
      if (e.reason === 'patience') write(`early stop after epoch ${e.epoch}: no better validation loss for the patience window\n`);
      if (e.reason === 'budget') write(`stopped after epoch ${e.epoch}: --time-budget spent\n`);
    }
  };
}

function summary(run: TrainRun): string {
  const { result: r, paths } = run;
  const lines = [`wrote ${paths.model} (${run.bytes.length} bytes), ${paths.cardMd}, ${paths.cardJson}, ${paths.curve}`];
  lines.push(`epochs run ${r.epochsRun}${r.stoppedEarly ? ' (stopped early)' : ''}, best epoch ${r.bestEpoch}${r.bestEpoch === 0 ? ' (the starting weights)' : ''}, validation loss ${r.bestValLoss.toPrecision(4)}`);
  const w = run.model.window;
  if (w) lines.push(`window: ${w.size} readings, one result every ${w.hop}, ${run.model.layers.some(isBidirectional) ? 'bidirectional' : 'forward only'}, pooled ${run.model.outputs.from}; ${windowCounts(r).trainWindows} training and ${windowCounts(r).valWindows} validation windows`);
  if (run.outputs.why !== 'classification') lines.push(`outputs: ${run.outputs.residual ? 'residual (change from the current reading)' : 'levels'} (${run.outputs.why})`);
  if (run.start) lines.push(`start: ${run.start.start} (${run.start.why})`);
  const m = r.metrics;
  if (m.task === 'regression') {
    for (const t of m.targets) {
      lines.push(`${t.name}: RMSE ${t.rmse.toPrecision(4)} (persistence ${t.persistenceRmse.toPrecision(4)}, ${(100 * t.rmseImprovement).toFixed(1)} % better), MAE ${t.mae.toPrecision(4)}`);
    }
    if (run.comparison) lines.push(...comparisonSummary(run.dataset, run.comparison));
  } else {
    lines.push(`accuracy ${(100 * m.accuracy).toFixed(2)} %`);
    for (const c of m.classes) lines.push(`class ${c.label}: precision ${c.precision?.toFixed(3) ?? 'n/a'}, recall ${c.recall?.toFixed(3) ?? 'n/a'}, F1 ${c.f1?.toFixed(3) ?? 'n/a'} (support ${c.support})`);
  }
  if (run.anomaly) lines.push(anomalySummary(run.anomaly));
  if (run.events) lines.push(...eventSummary(run.events));
  return lines.join('\n') + '\n' + (run.search ? searchSummary(run.search) : '');
}

export function registerTrain(program: Command): void {
  addWindowOptions(program
    .command('train')
    .description('train an RNN/LSTM/GRU on a CSV of readings (BPTT, Adam) and write the model with its model card')
    .requiredOption('-d, --data <file>', 'CSV with a header row, rows in time order within each device')
    .requiredOption('--inputs <cols>', 'input columns, comma-separated', list)
    .option('--target <cols>', 'regression: columns to forecast, comma-separated', list)
    .option('--label <col>', 'classification: the label column (one class per step)')
    .option('--horizon <k>', 'regression: forecast the targets k steps ahead', int(1), 1)
    .option('--residual', 'regression: predict each target\'s change from its current value and start at persistence (every target must be an input); the runtime adds the reading back. Default when every target is an input')
    .option('--no-residual', 'regression: predict the targets\' levels even when every target is an input')
    .option('--period <steps>', 'regression: period of the seasonal-persistence baseline (default: found on the training split by autocorrelation, none when unclear)', int(2))
    .option('--device-column <col>', 'one sequence per device (state never mixed); default: one sequence')
    .option('--event-column <col>', 'regression: a 0/1 column of labelled events; the card and --json give the precision and recall of the anomaly flag against it (with --val-mode blocks, the blocks are placed so events fall in both parts)')
    .option('--anomaly-quantile <q>', 'regression: the anomaly threshold written into the model is this quantile of the validation scores', float((n) => n > 0 && n < 1, 'a fraction in (0, 1)'), DEFAULT_ANOMALY_QUANTILE)
    .addOption(new Option('--cell <type>', 'recurrent cell').choices(['lstm', 'gru', 'rnn']).default('lstm'))
    .addOption(new Option('--rnn-activation <act>', 'activation of --cell rnn').choices(['tanh', 'relu']).default('tanh'))
    .option('--hidden <n>', 'hidden units per recurrent layer', int(1), 32)
    .option('--layers <n>', 'stacked recurrent layers', int(1), 1)
    .option('--seq-len <n>', 'truncated BPTT window (steps) of each training sample', int(1), 50)
    .option('--batch <n>', 'training windows (of --seq-len steps, at random offsets) per gradient step', int(1), 8)
    .option('--epochs <n>', 'maximum epochs', int(1), 30)
    .option('--lr <x>', 'Adam learning rate', float((n) => n > 0, 'a positive number'), 0.005)
    .option('--lr-decay <f>', 'multiply the learning rate by f after each epoch', float((n) => n > 0 && n <= 1, 'a number in (0, 1]'), 1)
    .option('--clip <x>', 'global gradient-norm clipping threshold (0: off)', float((n) => n >= 0, 'a number >= 0'), 1)
    .option('--patience <n>', 'early stopping: epochs without a better validation loss (0: off)', int(0), 5)
    .addOption(new Option('--schedule <s>', 'learning-rate schedule: constant, cosine (decay to 5 % over all epochs) or plateau (halve after patience/2 epochs without a better validation loss)').choices(['constant', 'cosine', 'plateau']).default('constant'))
    .option('--burn-in <n>', 'steps run forward (no gradient) from the zero state before each training window, so its state is warm (default: --seq-len)', int(0))
    .option('--passes <x>', `training windows per epoch, in passes over the training steps (default ${RECIPE_DEFAULTS.passes}; at least ${RECIPE_DEFAULTS.minSteps} gradient steps per epoch)`, float((n) => n > 0, 'a positive number'))
    .option('--time-budget <seconds>', 'stop training after this much wall-clock time; the best epoch so far is kept', float((n) => n > 0, 'a positive number of seconds'))
    .option('--val <f>', 'validation fraction: the last part of each device series', float((n) => n > 0 && n < 1, 'a fraction in (0, 1)'), 0.2)
    .addOption(new Option('--val-mode <mode>', 'where validation rows are: the last part of each device (tail) or interleaved time blocks (blocks)').choices(['tail', 'blocks']).default('tail'))
    .option('--val-blocks <n>', `--val-mode blocks: validation blocks per device (default ${DEFAULT_VAL_BLOCKS})`, int(1))
    .option('--val-gap <rows>', 'rows dropped between training and validation parts, so no training target reaches into validation (default: 0 for tail, max(--seq-len, --horizon) for blocks)', int(0))
    .option('--seed <n>', `random seed (default ${DEFAULT_SEED}); with --seed the output bytes are reproducible`, int(0))
    .option('--no-class-weights', 'classification: do not weigh classes by inverse frequency')
    .option('--drop-invalid', 'skip rows with missing/NaN/infinite values instead of refusing them')
    .option('--name <name>', 'model name (default: the data file name)')
    .option('--model-version <n>', 'modelVersion to write', int(1), 1)
    .addOption(initOption())
    .option('--init-from <file>', 'start from this model\'s weights (same --cell, --hidden, --layers, inputs, targets) and record its sha256 as meta.continuesFrom, so a hot swap from it keeps device states')
    .option('-o, --out <file>', 'model file to write (default models/<name>.msgpack); the card goes next to it')
    .option('--license <text>', 'license of the training data, recorded in the model and card')
    .option('--notes <text>', 'free text for the model card (e.g. why this horizon)')
    .option('--created <date>', 'timestamp to record as meta.created (default: SOURCE_DATE_EPOCH, else now unless --seed)')
    .option('--search <budget>', searchHelp.search, parseBudget)
    .option('--search-trials <n>', searchHelp.trials, int(1)))
    .option('--json', 'print the final metrics as JSON on stdout')
    .option('--no-progress', 'no progress output')
    .action((opts: TrainCliOptions, cmd: Command) => {
      const write = (s: string) => process.stderr.write(s);
      const onEvent = opts.progress ? progressRenderer(Boolean(process.stderr.isTTY), write) : () => {};
      const run = runTrain({ ...opts, searchFixed: fixedAxes(cmd), initGiven: initGiven(cmd) }, onEvent, {
        warn: (w) => write(`warning: ${w}\n`), ...(opts.progress ? { onTrial: trialLine(write) } : {}),
      });
      if (opts.json) {
        process.stdout.write(JSON.stringify({
          model: run.paths.model, bytes: run.bytes.length, epochsRun: run.result.epochsRun, bestEpoch: run.result.bestEpoch,
          stoppedEarly: run.result.stoppedEarly, bestValLoss: run.result.bestValLoss, history: historyJson(run.result.history),
          metrics: run.result.metrics, ...(run.dataset.task === 'regression' ? { outputs: run.outputs } : {}),
          ...(run.search ? { search: searchJson(run.search) } : {}),
          ...(run.start ? { start: { kind: run.start.start, why: run.start.why } } : {}),
          ...(run.anomaly ? { anomaly: run.anomaly.ok ? run.anomaly.calibration : { available: false, reason: run.anomaly.reason } } : {}),
          ...(run.comparison ? { baselines: comparisonJson(run.comparison) } : {}),
          split: splitJson(run.dataset, run.split),
          ...(run.model.window ? { window: { ...run.model.window, from: run.model.outputs.from, bidirectional: run.model.layers.some(isBidirectional) } } : {}),
          ...(run.events ? { events: eventComparisonJson(run.events) } : {}),
          ...(run.search ? { search: searchJson(run.search) } : {}),
        }) + '\n');
      } else process.stdout.write(summary(run));
    });
}
