// `edge-rnn predict`: the offline twin of `run`. Steps the model over a recorded CSV, one
// state per device, and prints one prediction per row.
import type { Command } from 'commander';
import { columnIndex, numericCell, readCsv } from '../../io/csv.js';
import { readModelFile } from '../../io/model-file.js';
import { Subject } from 'rxjs';
import { argmax, f32Json } from '../../protocol/prediction.js';
import { createSession } from '../../runtime/session.js';
import { createCounters } from '../../stream/counters.js';
import type { StreamEvent } from '../../stream/events.js';
import { inferPerDevice } from '../../stream/infer-per-device.js';
import type { Model } from '../../model/types.js';
import { formatTable } from '../table.js';

export interface PredictionRow {
  row: number;
  device?: string;
  y: number[];
  label?: string;
  p?: number;
}

export { f32Json };

/**
 * Steps `model` over rows of inputs, keeping one state per device (or one stream when
 * devices is undefined); calls `emit` for each row in order. Runs through the same stream
 * operator as `edge-rnn run` (src/stream/infer-per-device.ts), so offline and live
 * predictions are the same numbers.
 */
export function predictSeries(
  model: Model, inputs: Float32Array, devices: readonly string[] | undefined, emit: (p: PredictionRow) => void,
): void {
  const session = createSession(model);
  const I = session.inputSize;
  const rows = inputs.length / I;
  const labels = model.outputs.labels;
  const readings = new Subject<StreamEvent>();
  // Recorded data has no seq and no gaps to honour: keep every device, never reset; and
  // every row is predicted as recorded (no input guard: the trainer's replay check holds).
  const sub = readings.pipe(inferPerDevice(session, { counters: createCounters(), maxDevices: Number.MAX_SAFE_INTEGER, guardPolicy: 'off' })).subscribe((e) => {
    if (e.kind !== 'prediction') throw new Error(`predict: row ${e.origin.row}: ${e.kind === 'dead-letter' ? e.message : e.kind}`);
    const y = Array.from(e.y, f32Json);
    const out: PredictionRow = { row: e.origin.row!, ...(devices ? { device: e.device } : {}), y };
    if (labels) {
      const best = argmax(y);
      out.label = labels[best];
      out.p = y[best];
    }
    emit(out);
  });
  try {
    for (let r = 0; r < rows; r++) {
      const values = Array.from(inputs.subarray(r * I, (r + 1) * I));
      readings.next({ kind: 'reading', device: devices?.[r] ?? '', reading: { values }, origin: { receivedAt: 0, row: r } });
    }
  } finally {
    sub.unsubscribe();
  }
}

interface PredictOptions {
  model: string;
  data: string;
  deviceColumn?: string;
  json?: boolean;
}

export function registerPredict(program: Command): void {
  program
    .command('predict')
    .description('run a model step by step over a CSV (one state per device) and print a prediction per row')
    .requiredOption('-m, --model <file>', 'model file (.msgpack)')
    .requiredOption('-d, --data <file>', "CSV with a header row; columns named as the model's inputs")
    .option('--device-column <name>', 'column naming the device; state is kept per device (default: one stream)')
    .option('--json', 'one JSON line per row: {"row","device","y":[...]} (+ "label","p" for classification)')
    .action((opts: PredictOptions) => {
      const { model } = readModelFile(opts.model);
      const table = readCsv(opts.data);
      const names = model.inputs.names;
      const cols = columnIndex(table, names);
      const deviceCol = opts.deviceColumn === undefined ? undefined : columnIndex(table, [opts.deviceColumn])[0];
      // Parse every cell before the first step, so a bad cell fails before any output.
      const inputs = new Float32Array(table.rows.length * names.length);
      table.rows.forEach((_, r) => cols.forEach((c, i) => (inputs[r * names.length + i] = numericCell(table, r, c))));
      const devices = deviceCol === undefined ? undefined : table.rows.map((row) => row[deviceCol]);

      if (opts.json) {
        const out: string[] = [];
        predictSeries(model, inputs, devices, (p) => {
          out.push(JSON.stringify(p));
          if (out.length >= 1024) process.stdout.write(out.splice(0).join('\n') + '\n');
        });
        if (out.length) process.stdout.write(out.join('\n') + '\n');
        return;
      }
      const yNames = model.outputs.labels ? model.outputs.labels.map((l) => `p(${l})`) : model.outputs.names.map((n) => `pred.${n}`);
      const header = ['row', ...(devices ? ['device'] : []), ...names, ...yNames, ...(model.outputs.labels ? ['label'] : [])];
      const rows: string[][] = [];
      predictSeries(model, inputs, devices, (p) => {
        const inCells = cols.map((c) => table.rows[p.row][c]);
        rows.push([String(p.row), ...(devices ? [p.device!] : []), ...inCells, ...p.y.map((v) => v.toFixed(4)), ...(p.label !== undefined ? [p.label] : [])]);
      });
      const ahead = model.outputs.horizon ? ` (predicting ${model.outputs.horizon} steps ahead)` : '';
      process.stdout.write(`${model.name} v${model.modelVersion}${ahead}\n${formatTable(header, rows)}\n`);
    });
}
