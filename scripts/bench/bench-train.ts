// `npm run bench:train`: epoch time and final validation loss of edge-rnn's trainer against
// @tensorflow/tfjs (layers API, CPU backend) for the same model, data and hyper-parameters,
// in the same run. Benchmark, not test.
//
// Setup: the mote forecaster (temperature, humidity -> both 12 steps ahead, per mote),
// one LSTM layer + linear dense head, truncated BPTT windows of SEQ steps, 4 windows per
// step (tfjs: one lane per mote, state carried across windows, stateful LSTM, shuffle off;
// edge-rnn: windows at random offsets from the zero state, no burn-in, one pass over the
// training steps per epoch, so the same work per epoch), Adam, no
// clipping (tfjs-layers optimisers have no global-norm clipping), no early stopping. Both
// start from the very same initial weights (edge-rnn's initModel, copied into tfjs), and
// both trained models are scored by the same validation code (tfjs weights are copied into
// an edge-rnn model), so the losses compare like for like.
//
// Flags: --epochs N (default 5), --hidden H (32), --seq S (20).
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { readCsv } from '../../src/io/csv.js';
import type { Model } from '../../src/model/types.js';
import { tensorF32 } from '../../src/model/tensor.js';
import { columnsFromCsv } from '../../src/cli/commands/train.js';
import { median } from './stats.js';
import { buildDataset, createNetwork, initialModel, isTrainStep, isValStep, train, type Dataset, type TrainOptions } from '../../src/train/index.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const EPOCHS = arg('epochs', 5), H = arg('hidden', 32), SEQ = arg('seq', 20), HORIZON = 12, LR = 0.005;

const table = readCsv('firmware-sim/data/suthaharan-single-hop.csv');
const cols = columnsFromCsv(table, { inputs: ['temperature', 'humidity'], target: ['temperature', 'humidity'], deviceColumn: 'mote_id' });
const ds: Dataset = buildDataset({
  inputNames: ['temperature', 'humidity'], inputs: cols.inputs, devices: cols.devices!,
  target: { task: 'regression', targetNames: ['temperature', 'humidity'], targets: cols.targets, horizon: HORIZON },
  valFraction: 0.2, seqLen: SEQ,
});
const B = ds.series.length;
const opts: TrainOptions = {
  name: 'bench', cell: 'lstm', hidden: H, layers: 1, seqLen: SEQ, batch: B, epochs: EPOCHS, lr: LR, clip: 0, patience: 0, seed: 1, burnIn: 0, minSteps: 1,
};

/** Mean squared error (normalised units) over the validation steps, the trainer's own definition. */
function valLoss(model: Model): number {
  const net = createNetwork(model, 1);
  const O = net.outputSize;
  let sum = 0, n = 0;
  for (const s of ds.series) {
    const out = new Float32Array(s.n * O);
    net.runSeries(out, s.x, s.n);
    for (let t = 0; t < s.n; t++) {
      if (!isValStep(s, ds.shift, t)) continue;
      for (let o = 0; o < O; o++) sum += (out[t * O + o] - s.y[t * O + o]) ** 2 / O;
      n++;
    }
  }
  return sum / n;
}

// ---- edge-rnn ---------------------------------------------------------------------------
const ours: number[] = [];
let last = performance.now();
const result = train(ds, opts, (e) => {
  if (e.type === 'epoch') {
    const now = performance.now();
    ours.push(now - last);
    last = now;
  } else if (e.type === 'start') last = performance.now();
});
const oursVal = result.history[result.history.length - 1].valLoss;

// ---- tfjs -------------------------------------------------------------------------------
await tf.setBackend('cpu');
const init = initialModel(ds, opts);
const I = 2, O = 2;
// Full windows with every target inside the training part, the same count for each mote so
// batch row d always continues mote d (what a stateful tfjs LSTM requires).
const W = Math.min(...ds.series.map((s) => Math.floor((s.trainEnd - ds.shift) / SEQ)));
const xs = new Float32Array(W * B * SEQ * I), ys = new Float32Array(W * B * SEQ * O);
for (let w = 0; w < W; w++) {
  ds.series.forEach((s, d) => {
    for (let t = 0; t < SEQ; t++) {
      const st = w * SEQ + t, row = (w * B + d) * SEQ + t;
      if (!isTrainStep(s, ds.shift, st)) throw new Error('window past the training targets');
      for (let i = 0; i < I; i++) xs[row * I + i] = s.x[st * I + i];
      for (let o = 0; o < O; o++) ys[row * O + o] = s.y[st * O + o];
    }
  });
}
const lstm = tfl.layers.lstm({ units: H, returnSequences: true, stateful: true, recurrentActivation: 'sigmoid', kernelInitializer: 'zeros', recurrentInitializer: 'zeros', batchInputShape: [B, SEQ, I] });
const dense = tfl.layers.dense({ units: O });
const model = tfl.sequential({ layers: [lstm, dense] });
model.compile({ optimizer: tf.train.adam(LR), loss: 'meanSquaredError' });
// edge-rnn's initial weights: PyTorch layout [4H, I] -> tfjs [I, 4H] (same gate order i, f, g/c, o).
const l0 = init.layers[0], d0 = init.layers[1];
if (l0.type !== 'lstm' || d0.type !== 'dense') throw new Error('unexpected model');
const T2 = (data: Float32Array, rows: number, cols: number) => tf.transpose(tf.tensor2d(data, [rows, cols]));
const bias = new Float32Array(4 * H).map((_, i) => l0.bIh.data[i] + l0.bHh.data[i]);
lstm.setWeights([T2(l0.wIh.data as Float32Array, 4 * H, I), T2(l0.wHh.data as Float32Array, 4 * H, H), tf.tensor1d(bias)]);
dense.setWeights([T2(d0.w.data as Float32Array, O, H), tf.tensor1d(d0.b.data)]);
const xT = tf.tensor3d(xs, [W * B, SEQ, I]), yT = tf.tensor3d(ys, [W * B, SEQ, O]);
const theirs: number[] = [];
for (let e = 0; e < EPOCHS; e++) {
  model.resetStates();
  const t0 = performance.now();
  await model.fit(xT, yT, { batchSize: B, epochs: 1, shuffle: false, verbose: 0 });
  theirs.push(performance.now() - t0);
}
// tfjs weights back into an edge-rnn model, scored by the same validation code.
const [k, rk, b] = lstm.getWeights().map((t) => t.dataSync() as Float32Array);
const [dk, db] = dense.getWeights().map((t) => t.dataSync() as Float32Array);
const tr = (a: Float32Array, rows: number, cols: number) => {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
};
const tfModel: Model = {
  ...result.model,
  layers: [
    { ...l0, wIh: tensorF32([4 * H, I], tr(k, I, 4 * H)), wHh: tensorF32([4 * H, H], tr(rk, H, 4 * H)), bIh: tensorF32([4 * H], b), bHh: tensorF32([4 * H], new Float32Array(4 * H)) },
    { ...d0, w: tensorF32([O, H], tr(dk, H, O)), b: tensorF32([O], db) },
  ],
};
const theirsVal = valLoss(tfModel);
const oursCheck = valLoss(result.model);

const mOurs = median(ours), mTheirs = median(theirs);
console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
console.log(`data: ${ds.rows} rows, ${B} motes, train steps ${ds.trainSteps}; tfjs trains on ${W * B * SEQ} steps (${W} full windows per mote)`);
console.log(`model: LSTM ${H} + dense 2, seq ${SEQ}, batch ${B}, Adam lr ${LR}, ${EPOCHS} epochs, horizon ${HORIZON}`);
console.log(`edge-rnn: median epoch ${mOurs.toFixed(0)} ms (all: ${ours.map((v) => v.toFixed(0)).join(', ')}), final val loss ${oursVal.toFixed(5)} (rescored ${oursCheck.toFixed(5)})`);
console.log(`tfjs-cpu: median epoch ${mTheirs.toFixed(0)} ms (all: ${theirs.map((v) => v.toFixed(0)).join(', ')}), final val loss ${theirsVal.toFixed(5)}`);
console.log(`speed-up: ${(mTheirs / mOurs).toFixed(1)}x per epoch (target >= 3x); val loss ${oursVal <= theirsVal ? 'no worse' : 'WORSE'} than tfjs (${oursVal.toFixed(5)} vs ${theirsVal.toFixed(5)})`);
