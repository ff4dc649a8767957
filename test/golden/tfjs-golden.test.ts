// The step session against a second, live implementation: TensorFlow.js layers (cpu
// backend), with our PyTorch-layout weights mapped over, on each kernel path (JS and
// WebAssembly SIMD). tfjs computes in float32.
//
// Mapping (tfjs-layers recurrent.ts): kernel [I, G*H] = wIhᵀ, recurrentKernel [H, G*H] = wHhᵀ,
// one bias = bIh + bHh; LSTM gate order i, f, c, o = PyTorch's i, f, g, o. tfjs defaults the
// LSTM recurrent activation to hard sigmoid and adds 1 to the forget bias, so both are set
// explicitly. GRU is NOT checked here: tfjs only implements the reset-before variant
// (r ⊙ h inside the recurrent product), not PyTorch's reset-after one that we implement, so
// GRU is covered by the PyTorch fixtures (torch-golden.test.ts) only.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeModel, encodeModel, initModel, seededRandom, type DenseActivation, type Model, type RecurrentLayer, type Tensor,
} from '../../src/model/index.js';
import { createSession, type KernelChoice } from '../../src/runtime/session.js';

/** Same budgets as the PyTorch comparison; tfjs's float32 sums are the larger error here. */
const TOLERANCES: Readonly<Record<KernelChoice, number>> = {
  js: 1e-5, // float64 sums
  wasm: 1e-5, // float32 sums, in SIMD lane order
};
const PATHS = Object.keys(TOLERANCES) as KernelChoice[];
const T = 200;

interface Case {
  readonly name: string;
  readonly cell: 'lstm' | 'rnn';
  readonly activation?: 'tanh' | 'relu';
  readonly I: number;
  readonly hidden: readonly number[];
  readonly dense?: { readonly size: number; readonly activation: DenseActivation };
}

const CASES: readonly Case[] = [
  { name: 'lstm-l1-i1-h1', cell: 'lstm', I: 1, hidden: [1] },
  { name: 'lstm-l1-i3-h16', cell: 'lstm', I: 3, hidden: [16] },
  { name: 'lstm-l2-i3-h5', cell: 'lstm', I: 3, hidden: [5, 5] },
  { name: 'lstm-l2-i8-h32', cell: 'lstm', I: 8, hidden: [32, 32] },
  { name: 'lstm-l1-i3-h16-softmax', cell: 'lstm', I: 3, hidden: [16], dense: { size: 4, activation: 'softmax' } },
  { name: 'rnn-tanh-l1-i3-h16', cell: 'rnn', activation: 'tanh', I: 3, hidden: [16] },
  { name: 'rnn-tanh-l2-i8-h32', cell: 'rnn', activation: 'tanh', I: 8, hidden: [32, 32] },
  { name: 'rnn-relu-l1-i1-h5', cell: 'rnn', activation: 'relu', I: 1, hidden: [5] },
  { name: 'rnn-relu-l2-i3-h16', cell: 'rnn', activation: 'relu', I: 3, hidden: [16, 16] },
];

const observed: Record<string, { steps: number; maxOutputDiff: number; maxStateDiff: number }> = {};

beforeAll(async () => {
  tf.env().set('IS_TEST', true); // silences the "install tfjs-node" banner, as tfjs's own test harness does
  await tf.setBackend('cpu');
});

afterAll(() => {
  console.table(observed);
});

/** Standard normal from a seeded uniform source (Box-Muller). */
function normal(rand: () => number): number {
  const u = 1 - rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function f32(t: Tensor): Float32Array {
  if (t.dtype !== 'f32') throw new Error('expected f32 weights');
  return t.data;
}

/** PyTorch [rows, cols] row-major -> tfjs [cols, rows]. */
function transposed(t: Tensor): tf.Tensor2D {
  const [rows, cols] = t.shape;
  return tf.transpose(tf.tensor2d(f32(t), [rows, cols]));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function buildModel(c: Case, seed: number): Model {
  const O = c.dense ? c.dense.size : c.hidden[c.hidden.length - 1];
  const names = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}${i}`);
  const classification = c.dense?.activation === 'softmax';
  const model = initModel({
    name: `tfjs-${c.name}`, inputs: names('x', c.I),
    outputs: classification ? ['label'] : names('y', O),
    ...(classification ? { task: 'classification' as const, labels: names('class', O) } : {}),
    cell: c.cell, hiddenSizes: c.hidden, rnnActivation: c.activation,
    dense: c.dense ? [c.dense] : [],
  }, seed);
  return decodeModel(encodeModel(model)); // the codec is on the path
}

describe.each(CASES.flatMap((c, n) => PATHS.map((kernels) => [c.name, kernels, c, n] as const)))('%s on %s kernels', (_name, kernels, c, n) => {
  const TOLERANCE = TOLERANCES[kernels];
  it(`matches tfjs ${c.cell === 'lstm' ? 'LSTM' : 'SimpleRNN'} within ${TOLERANCE} on every step and the final state`, () => {
    const model = buildModel(c, 1000 + n);
    const rand = seededRandom(77 + n);
    const recurrent = model.layers.filter((l): l is RecurrentLayer => l.type !== 'dense');
    const L = recurrent.length;
    // Non-zero initial state, as float32 values.
    const h0 = recurrent.map((l) => Float32Array.from({ length: l.hiddenSize }, () => 0.8 * normal(rand)));
    const c0 = recurrent.map((l) => Float32Array.from({ length: l.hiddenSize }, () => 1.5 * normal(rand)));
    const xs = Float32Array.from({ length: T * c.I }, () => 1.5 * normal(rand)); // [T, I]

    // tfjs reference: [seq, h (, c)] per layer, then the dense head.
    const ref = tf.tidy(() => {
      let seq: tf.Tensor = tf.tensor3d(xs, [1, T, c.I]);
      const finalH: Float32Array[] = [];
      const finalC: Float32Array[] = [];
      recurrent.forEach((l, k) => {
        const weights = [transposed(l.wIh), transposed(l.wHh), tf.add(tf.tensor1d(l.bIh.data), tf.tensor1d(l.bHh.data))];
        const common = {
          units: l.hiddenSize, returnSequences: true, returnState: true, weights,
          kernelInitializer: 'zeros', recurrentInitializer: 'zeros', biasInitializer: 'zeros',
        } as const;
        const h = tf.tensor2d(h0[k], [1, l.hiddenSize]);
        if (l.type === 'lstm') {
          const layer = tfl.layers.lstm({ ...common, activation: 'tanh', recurrentActivation: 'sigmoid', unitForgetBias: false });
          const [s, hn, cn] = layer.apply(seq, { initialState: [h, tf.tensor2d(c0[k], [1, l.hiddenSize])] }) as tf.Tensor[];
          seq = s;
          finalH.push(hn.dataSync() as Float32Array);
          finalC.push(cn.dataSync() as Float32Array);
        } else if (l.type === 'rnn') {
          const layer = tfl.layers.simpleRNN({ ...common, activation: l.activation });
          const [s, hn] = layer.apply(seq, { initialState: [h] }) as tf.Tensor[];
          seq = s;
          finalH.push(hn.dataSync() as Float32Array);
        } else throw new Error('GRU is not compared against tfjs (see the note at the top)');
      });
      for (const d of model.layers) {
        if (d.type !== 'dense') continue;
        const layer = tfl.layers.dense({
          units: d.outputSize, activation: d.activation, weights: [transposed(d.w), tf.tensor1d(d.b.data)],
          kernelInitializer: 'zeros', biasInitializer: 'zeros',
        });
        seq = layer.apply(seq) as tf.Tensor;
      }
      return { ys: seq.dataSync() as Float32Array, finalH, finalC };
    });

    const session = createSession(model, { kernels });
    const O = session.outputSize;
    expect(ref.ys.length).toBe(T * O);
    const state = session.createState();
    for (let k = 0; k < L; k++) {
      state.h[k].set(h0[k]);
      if (recurrent[k].type === 'lstm') state.c[k]!.set(c0[k]);
    }
    let maxOut = 0;
    let worstStep = -1;
    for (let t = 0; t < T; t++) {
      const y = session.step(state, xs.subarray(t * c.I, (t + 1) * c.I));
      const d = maxAbsDiff(y, ref.ys.subarray(t * O, (t + 1) * O));
      if (!(d <= maxOut)) {
        maxOut = d;
        worstStep = t;
      }
    }
    let maxState = 0;
    for (let k = 0; k < L; k++) {
      maxState = Math.max(maxState, maxAbsDiff(state.h[k], ref.finalH[k]));
      if (recurrent[k].type === 'lstm') maxState = Math.max(maxState, maxAbsDiff(state.c[k]!, ref.finalC[k]));
    }
    observed[`${c.name} ${kernels}`] = { steps: T, maxOutputDiff: maxOut, maxStateDiff: maxState };
    expect(maxOut, `worst step ${worstStep}`).toBeLessThanOrEqual(TOLERANCE);
    expect(maxState).toBeLessThanOrEqual(TOLERANCE);

    // The initial state reached tfjs and us alike: from zeros the first output differs.
    const fresh = session.step(session.createState(), xs.subarray(0, c.I));
    expect(maxAbsDiff(fresh, ref.ys.subarray(0, O))).toBeGreaterThan(100 * TOLERANCE);
  });
});
