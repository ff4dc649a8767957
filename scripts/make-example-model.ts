// Writes models/example-lstm.msgpack and models/sample-readings.csv: an UNTRAINED LSTM
// (seeded random weights, input normalisation from real mote data) and a slice of the real
// mote data set for `edge-rnn predict` to run on. The trained models come from
// scripts/train-models.ts. Run: npm run models
import { writeFileSync } from 'node:fs';
import { columnIndex, numericCell, readCsv } from '../src/io/csv.js';
import { writeModelFile } from '../src/io/model-file.js';
import { initModel, tensorF32 } from '../src/model/index.js';

const source = readCsv('firmware-sim/data/suthaharan-single-hop.csv');
const [moteCol, tCol, hCol] = columnIndex(source, ['mote_id', 'temperature', 'humidity']);
const perMote = new Map<string, string[][]>();
for (const row of source.rows) {
  const list = perMote.get(row[moteCol]) ?? [];
  if (list.length < 120) list.push([row[moteCol], row[tCol], row[hCol]]);
  perMote.set(row[moteCol], list);
}
// Interleave motes 1 and 3 (one indoor, one outdoor), as a gateway would receive them.
const a = perMote.get('1')!, b = perMote.get('3')!;
const lines = ['mote_id,temperature,humidity'];
for (let i = 0; i < 120; i++) lines.push(a[i].join(','), b[i].join(','));
writeFileSync('models/sample-readings.csv', lines.join('\n') + '\n');

const stats = [tCol, hCol].map((c) => {
  let s = 0, s2 = 0;
  source.rows.forEach((_, r) => { const v = numericCell(source, r, c); s += v; s2 += v * v; });
  const mean = s / source.rows.length;
  return { mean, std: Math.sqrt(s2 / source.rows.length - mean * mean) };
});

const base = initModel({
  name: 'example-lstm', inputs: ['temperature', 'humidity'], outputs: ['temperature', 'humidity'],
  cell: 'lstm', hiddenSizes: [16], dense: [{ size: 2, activation: 'linear' }],
  meta: {
    // The explicit mark: scripts/deploy.sh refuses a model with it (docs/model-format.md).
    untrained: true,
    description: 'UNTRAINED example: seeded random LSTM weights with real input normalisation. For trying the tools only; its predictions are meaningless.',
    trainedWith: 'none (scripts/make-example-model.ts, seed 1)',
    dataset: 'input mean/std from firmware-sim/data/suthaharan-single-hop.csv',
  },
}, 1);
const model = {
  ...base,
  inputs: { ...base.inputs, mean: tensorF32([2], stats.map((s) => s.mean)), std: tensorF32([2], stats.map((s) => s.std)) },
  outputs: { ...base.outputs, mean: tensorF32([2], stats.map((s) => s.mean)), std: tensorF32([2], stats.map((s) => s.std)) },
};
const bytes = writeModelFile('models/example-lstm.msgpack', model);
console.log(`models/example-lstm.msgpack: ${bytes.length} bytes; models/sample-readings.csv: ${lines.length - 1} rows`);
