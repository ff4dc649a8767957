// `predict --device-column` steps every device's n-th row together (one array per round,
// one stepBatch) through the stream operator `run` uses. It must print exactly what
// stepping one row at a time prints: the same JSON, byte for byte, on both kernel paths.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { predictInputsFromCsv, predictRecorded, type PredictRecordedOptions } from '../../src/cli/commands/predict.js';
import { parseCsv, readCsv } from '../../src/io/csv.js';
import { readModelFile } from '../../src/io/model-file.js';
import type { Model } from '../../src/model/types.js';
import { createCounters } from '../../src/stream/counters.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/edge-rnn.mjs');
const SAMPLE = join(ROOT, 'models/sample-readings.csv');
const MODELS = readdirSync(join(ROOT, 'models')).filter((f) => f.endsWith('.msgpack')).sort();
const KERNELS = ['js', 'wasm'] as const;

function jsonLines(model: Model, inputs: Float32Array, devices: readonly string[], options: PredictRecordedOptions): string {
  const out: string[] = [];
  predictRecorded(model, inputs, devices, (p) => out.push(JSON.stringify(p)), options);
  return out.join('\n');
}

/** The sample readings spread over many devices (each a shifted copy), so batches are wide enough for the batched kernels. */
function manyDevices(copies: number): string {
  const t = readCsv(SAMPLE);
  const lines = [t.header.join(',')];
  for (let r = 0; r < t.rows.length; r++) {
    for (let c = 0; c < copies; c++) {
      const [mote, temp, hum] = t.rows[r];
      lines.push(`${mote}-${c},${(Number(temp) + c * 0.37).toFixed(2)},${(Number(hum) - c * 0.21).toFixed(2)}`);
    }
  }
  return lines.join('\n');
}

describe('predict batched = one row at a time', () => {
  const sample = readCsv(SAMPLE);
  const wide = parseCsv(manyDevices(24), 'wide.csv');
  expect(MODELS.length).toBeGreaterThanOrEqual(4);

  for (const file of MODELS) {
    for (const kernels of KERNELS) {
      it(`${file}, ${kernels} kernels: same JSON on the shipped sample and on 48 devices`, () => {
        const { model } = readModelFile(join(ROOT, 'models', file));
        for (const table of [sample, wide]) {
          const { inputs, devices } = predictInputsFromCsv(model, table, 'mote_id');
          const counters = createCounters();
          const batched = jsonLines(model, inputs, devices!, { kernels, counters });
          const single = jsonLines(model, inputs, devices!, { kernels, batched: false });
          expect(batched).toBe(single);
          const w = model.window;
          if (w) {
            // A windowed model (models/mote-events-window): one row per window, every hop readings from the W-th of each device.
            const rows = new Map<string, number>();
            for (const d of devices!) rows.set(d, (rows.get(d) ?? 0) + 1);
            const windows = [...rows.values()].reduce((a, n) => a + (n >= w.size ? Math.floor((n - w.size) / w.hop) + 1 : 0), 0);
            expect(batched.split('\n')).toHaveLength(windows);
            continue;
          }
          expect(batched.split('\n')).toHaveLength(table.rows.length);
          // Every round of the data went through stepBatch: rows / devices rounds.
          const nDevices = new Set(devices).size;
          expect(counters.batches).toBe(table.rows.length / nDevices);
          expect(counters.batchedReadings).toBe(table.rows.length);
        }
      }, 60_000); // a windowed model runs 2 x 32 cell steps per reading: slow on a loaded machine, never timed
    }
  }

  it('rows come out in file order, each with its own device', () => {
    const { model } = readModelFile(join(ROOT, 'models', MODELS[0]));
    const { inputs, devices } = predictInputsFromCsv(model, wide, 'mote_id');
    const rows: { row: number; device?: string }[] = [];
    predictRecorded(model, inputs, devices, (p) => rows.push(p));
    expect(rows.map((p) => p.row)).toEqual(wide.rows.map((_, r) => r));
    expect(rows.map((p) => p.device)).toEqual(devices);
  });

  it('the CLI prints the same bytes with and without --no-batch, on both kernel paths', async () => {
    const run = async (kernels: string, extra: string[]) =>
      (await promisify(execFile)(process.execPath, [CLI, 'predict', '-m', join(ROOT, 'models', 'example-lstm.msgpack'), '-d', SAMPLE, '--device-column', 'mote_id', '--json', ...extra], {
        env: { ...process.env, EDGE_RNN_KERNELS: kernels }, maxBuffer: 1 << 26,
      })).stdout;
    for (const kernels of KERNELS) {
      const batched = await run(kernels, []);
      expect(batched.trim().split('\n')).toHaveLength(sample.rows.length);
      expect(batched).toBe(await run(kernels, ['--no-batch']));
    }
  }, 60_000);
});
