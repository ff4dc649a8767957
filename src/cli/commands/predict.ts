// `edge-rnn predict`: the offline twin of `run`. Steps the model over a recorded CSV, one
// state per device, and prints one prediction per row.
import { InvalidArgumentError, type Command } from 'commander';
import { columnIndex, numericCell, readCsv, type CsvTable } from '../../io/csv.js';
import { readModelFile } from '../../io/model-file.js';
import { Subject } from 'rxjs';
import { argmax, f32Json, scoreJson, type AnomalyResult } from '../../protocol/prediction.js';
import { anomalyProblem } from '../../runtime/anomaly.js';
import { createSession, type KernelChoice } from '../../runtime/session.js';
import { createCounters, type StreamCounters } from '../../stream/counters.js';
import type { ReadingEvent, StreamEvent } from '../../stream/events.js';
import { inferPerDevice } from '../../stream/infer-per-device.js';
import type { Model } from '../../model/types.js';
import { CliError } from '../errors.js';
import { formatTable } from '../table.js';

export interface PredictionRow {
  row: number;
  device?: string;
  y: number[];
  label?: string;
  p?: number;
  /** --anomaly: this row against the forecast made for it `horizon` rows earlier (of its device). */
  anomaly?: AnomalyResult;
  /** A windowed model: the rows of the window's first and last readings (`row` is the last). */
  window?: { first: number; last: number };
}

export { f32Json };

export interface PredictRecordedOptions {
  /**
   * Step the n-th row of every device together, one array per round of rows, so the
   * stream operator steps them with one session.stepBatch (default). false: one row at a
   * time. The numbers are the same either way.
   */
  readonly batched?: boolean;
  /** Force a kernel path (default: EDGE_RNN_KERNELS, else the fastest). */
  readonly kernels?: KernelChoice;
  /** The stream operator's counters (batches, batched readings), for tests and benchmarks. */
  readonly counters?: StreamCounters;
  /** Score every row against its forecast, as `run --anomaly` does; `threshold` overrides the model's. */
  readonly anomaly?: { readonly threshold?: number };
}

/** The model's inputs [rows, I] (parsed before the first step, so a bad cell fails before any output) and each row's device. */
export function predictInputsFromCsv(model: Model, table: CsvTable, deviceColumn?: string): { inputs: Float32Array; devices?: string[]; cols: number[] } {
  const names = model.inputs.names;
  const cols = columnIndex(table, names);
  const inputs = new Float32Array(table.rows.length * names.length);
  table.rows.forEach((_, r) => cols.forEach((c, i) => (inputs[r * names.length + i] = numericCell(table, r, c))));
  if (deviceColumn === undefined) return { inputs, cols };
  const dc = columnIndex(table, [deviceColumn])[0];
  return { inputs, devices: table.rows.map((row) => row[dc]), cols };
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError('expected a number > 0');
  return n;
}

/** Row indices by round: round k holds the k-th row of each device, in file order. */
function rounds(devices: readonly string[]): number[][] {
  const seen = new Map<string, number>();
  const out: number[][] = [];
  devices.forEach((d, r) => {
    const k = seen.get(d) ?? 0;
    seen.set(d, k + 1);
    (out[k] ??= []).push(r);
  });
  return out;
}

/**
 * Steps `model` over rows of inputs, keeping one state per device (or one stream when
 * devices is undefined); calls `emit` for each row in file order. Runs through the same
 * stream operator as `edge-rnn run` (src/stream/infer-per-device.ts), so offline and live
 * predictions are the same numbers.
 */
export function predictRecorded(
  model: Model, inputs: Float32Array, devices: readonly string[] | undefined, emit: (p: PredictionRow) => void,
  options: PredictRecordedOptions = {},
): void {
  const session = createSession(model, options.kernels ? { kernels: options.kernels } : {});
  const I = session.inputSize;
  const rows = inputs.length / I;
  const labels = model.outputs.labels;
  // Rounds finish rows out of file order: hold each until every row before it is out
  // (null: a row a windowed model took into a window without ending it; nothing to print).
  const done: (PredictionRow | null | undefined)[] = new Array(rows);
  // A windowed model: each device's rows so far, so a result names its window's first row.
  const W = model.window?.size;
  const deviceRows = new Map<string, number[]>();
  let next = 0;
  let failure: string | undefined;
  const readings = new Subject<StreamEvent | readonly StreamEvent[]>();
  // Recorded data has no seq and no gaps to honour: keep every device, never reset; and
  // every row is predicted as recorded (no input guard: the trainer's replay check holds).
  const sub = readings.pipe(inferPerDevice(session, { counters: options.counters ?? createCounters(), maxDevices: Number.MAX_SAFE_INTEGER, guardPolicy: 'off', ...(options.anomaly ? { anomaly: options.anomaly } : {}) })).subscribe((e) => {
    const row = e.origin.row!;
    if (W !== undefined && (e.kind === 'prediction' || e.kind === 'dropped')) {
      const seen = deviceRows.get(e.device) ?? [];
      seen.push(row);
      deviceRows.set(e.device, seen);
    }
    if (e.kind === 'dropped' && e.reason === 'in-window') {
      done[row] = null;
    } else if (e.kind !== 'prediction') {
      failure ??= `row ${row}: ${e.kind === 'dead-letter' ? `${e.code}: ${e.message}` : e.kind}`;
      return;
    } else done[row] = predictionRow(e);
    for (; next < rows && done[next] !== undefined; next++) {
      if (done[next]) emit(done[next]!);
      done[next] = undefined;
    }
  });
  function predictionRow(e: StreamEvent & { kind: 'prediction' }): PredictionRow {
    const y = Array.from(e.y, f32Json);
    const out: PredictionRow = { row: e.origin.row!, ...(devices ? { device: e.device } : {}), y };
    if (labels) {
      const best = argmax(y);
      out.label = labels[best];
      out.p = y[best];
    }
    if (e.anomaly) out.anomaly = e.anomaly.score === null ? e.anomaly : { score: scoreJson(e.anomaly.score), flag: e.anomaly.flag };
    if (W !== undefined) {
      const seen = deviceRows.get(e.device)!;
      out.window = { first: seen[seen.length - W], last: out.row };
    }
    return out;
  }
  const reading = (r: number): ReadingEvent => ({
    kind: 'reading', device: devices?.[r] ?? '', reading: { values: Array.from(inputs.subarray(r * I, (r + 1) * I)) }, origin: { receivedAt: 0, row: r },
  });
  try {
    if (devices && options.batched !== false) {
      for (const round of rounds(devices)) {
        readings.next(round.map(reading));
        if (failure) break;
      }
    } else {
      for (let r = 0; r < rows && !failure; r++) readings.next(reading(r));
    }
  } finally {
    sub.unsubscribe();
  }
  if (failure) throw new CliError(`predict: ${failure}`);
}

interface PredictOptions {
  model: string;
  data: string;
  deviceColumn?: string;
  json?: boolean;
  batch: boolean;
  anomaly?: boolean;
  anomalyThreshold?: number;
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('run a model step by step over a CSV (one state per device) and print a prediction per row (a windowed model: one per window, at the rows that end a hop)')
    .requiredOption('-m, --model <file>', 'model file (.msgpack)')
    .requiredOption('-d, --data <file>', "CSV with a header row; columns named as the model's inputs")
    .option('--device-column <name>', 'column naming the device; state is kept per device (default: one stream)')
    .option('--json', 'one JSON line per row: {"row","device","y":[...]} (+ "label","p" for classification; + "window":{"first","last"} rows for a windowed model)')
    .option('--no-batch', "with --device-column: step one row at a time instead of every device's n-th row together (same numbers, slower)")
    .option('--anomaly', 'score every row against the forecast made for it horizon rows earlier, as run --anomaly does: "anomaly": {"score","flag"} (null for the first horizon rows of a device)')
    .option('--anomaly-threshold <x>', "flag a row when its score exceeds x (implies --anomaly; default: the model's threshold)", positiveNumber)
    .action((opts: PredictOptions) => {
      const { model } = readModelFile(opts.model);
      const scored = opts.anomaly || opts.anomalyThreshold !== undefined;
      const noScale = scored ? anomalyProblem(model) : null;
      if (noScale) throw new CliError(`--anomaly: ${noScale}`);
      const table = readCsv(opts.data);
      const names = model.inputs.names;
      const { inputs, devices, cols } = predictInputsFromCsv(model, table, opts.deviceColumn);
      const options: PredictRecordedOptions = { batched: opts.batch, ...(scored ? { anomaly: { threshold: opts.anomalyThreshold } } : {}) };

      if (opts.json) {
        const out: string[] = [];
        predictRecorded(model, inputs, devices, (p) => {
          out.push(JSON.stringify(p));
          if (out.length >= 1024) process.stdout.write(out.splice(0).join('\n') + '\n');
        }, options);
        if (out.length) process.stdout.write(out.join('\n') + '\n');
        return;
      }
      const yNames = model.outputs.labels ? model.outputs.labels.map((l) => `p(${l})`) : model.outputs.names.map((n) => `pred.${n}`);
      const header = ['row', ...(devices ? ['device'] : []), ...(model.window ? ['window'] : []), ...names, ...yNames, ...(model.outputs.labels ? ['label'] : []), ...(scored ? ['score', 'flag'] : [])];
      const rows: string[][] = [];
      predictRecorded(model, inputs, devices, (p) => {
        const inCells = cols.map((c) => table.rows[p.row][c]);
        rows.push([String(p.row), ...(devices ? [p.device!] : []), ...(p.window ? [`${p.window.first}-${p.window.last}`] : []), ...inCells, ...p.y.map((v) => v.toFixed(4)), ...(p.label !== undefined ? [p.label] : []), ...(p.anomaly ? [p.anomaly.score === null ? '-' : p.anomaly.score.toFixed(2), p.anomaly.flag ? 'yes' : p.anomaly.flag === null ? '-' : 'no'] : [])]);
      }, options);
      const ahead = model.outputs.horizon ? ` (predicting ${model.outputs.horizon} steps ahead)` : '';
      process.stdout.write(`${model.name} v${model.modelVersion}${ahead}\n${formatTable(header, rows)}\n`);
    });
}
