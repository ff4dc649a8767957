// `npm run bench:predict`: what the batched path buys `edge-rnn predict --device-column`.
// The same recorded rows are predicted batched (every device's n-th row in one array, one
// stepBatch per round) and one row at a time, through predictRecorded, the function the
// command runs (stream operator, JSON line per row; file reading and stdout excluded).
// Both run in the same process, alternating, so they see the same machine drift; the
// ratio is per pair of runs, and its median is reported. Both print the same bytes (the
// check runs first; test/cli/predict-batched.test.ts holds it too).
//
//   node bin/ts.mjs scripts/bench/bench-predict.ts [--devices 10,100,1000] [--rows 40000] [--rounds 5] [--hidden 64]
import { parseArgs } from 'node:util';
import { predictRecorded, type PredictRecordedOptions } from '../../src/cli/commands/predict.js';
import { initModel } from '../../src/model/init.js';
import type { Model } from '../../src/model/types.js';
import type { KernelChoice } from '../../src/runtime/session.js';
import { machine, median } from './stats.js';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '10,100,1000' },
    rows: { type: 'string', default: '40000' },
    rounds: { type: 'string', default: '5' },
    hidden: { type: 'string', default: '64' },
    kernels: { type: 'string', default: 'js,wasm' },
  },
});
const deviceCounts = args.devices.split(',').map(Number);
const totalRows = Number(args.rows);
const rounds = Number(args.rounds);
const hidden = Number(args.hidden);
const kernelPaths = args.kernels.split(',') as KernelChoice[];

const model: Model = initModel({
  name: `bench-lstm${hidden}`, inputs: ['temperature', 'humidity'], outputs: ['temperature', 'humidity'],
  cell: 'lstm', hiddenSizes: [hidden], dense: [{ size: 2, activation: 'linear' }],
}, 1);

/** Rows interleaved over `devices` devices, as a recording of many sensors is. */
function recording(devices: number): { inputs: Float32Array; ids: string[] } {
  const inputs = new Float32Array(totalRows * 2);
  const ids: string[] = new Array(totalRows);
  for (let r = 0; r < totalRows; r++) {
    const d = r % devices, t = Math.floor(r / devices);
    inputs[2 * r] = 20 + 3 * Math.sin(t / 9 + d);
    inputs[2 * r + 1] = 45 + 5 * Math.cos(t / 13 + d * 0.7);
    ids[r] = `mote-${d}`;
  }
  return { inputs, ids };
}

function runOnce(inputs: Float32Array, ids: string[], options: PredictRecordedOptions): { ms: number; bytes: number; text: string[] } {
  const text: string[] = [];
  let bytes = 0;
  const t0 = performance.now();
  predictRecorded(model, inputs, ids, (p) => {
    const line = JSON.stringify(p);
    bytes += line.length;
    if (text.length < 64) text.push(line);
  }, options);
  return { ms: performance.now() - t0, bytes, text };
}


console.log(`bench:predict — ${model.name} (2 inputs, dense head of 2), ${totalRows} rows, ${rounds} alternating pairs; ${machine()}`);
console.log('| kernels | devices | rows per device | one at a time, rows/s | batched, rows/s | batched / one at a time (median of pairs) |');
console.log('|---|---|---|---|---|---|');
for (const kernels of kernelPaths) {
  for (const devices of deviceCounts) {
    const { inputs, ids } = recording(devices);
    // Same output first (also warms both paths up).
    const a = runOnce(inputs, ids, { kernels, batched: true });
    const b = runOnce(inputs, ids, { kernels, batched: false });
    if (a.bytes !== b.bytes || a.text.join('\n') !== b.text.join('\n')) throw new Error(`bench:predict: batched and single outputs differ (${kernels}, ${devices} devices)`);
    const single: number[] = [], batched: number[] = [], ratio: number[] = [];
    for (let k = 0; k < rounds; k++) {
      // Alternate which goes first, so neither always runs on a warmer or cooler machine.
      const first = k % 2 === 0;
      const x = runOnce(inputs, ids, { kernels, batched: first });
      const y = runOnce(inputs, ids, { kernels, batched: !first });
      const [tb, ts] = first ? [x.ms, y.ms] : [y.ms, x.ms];
      batched.push(totalRows / (tb / 1000));
      single.push(totalRows / (ts / 1000));
      ratio.push(ts / tb);
    }
    console.log(`| ${kernels} | ${devices} | ${totalRows / devices} | ${median(single).toFixed(0)} | ${median(batched).toFixed(0)} | ${median(ratio).toFixed(2)}x |`);
  }
}
