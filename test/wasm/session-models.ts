// The models and inputs the wasm session tests step (test/wasm/wasm-session.test.ts, and the
// relaxed-SIMD runner under Node 22), and how they step them. Deterministic: seeded.
import { initModel, outputSize, seededRandom, type Model } from '../../src/model/index.js';
import type { Session } from '../../src/runtime/session.js';

const rand = seededRandom(5);

export function model(cell: 'rnn' | 'lstm' | 'gru', I: number, hidden: number[], opts: { relu?: boolean; dense?: boolean } = {}): Model {
  const m = initModel({
    name: 't', cell, inputs: Array.from({ length: I }, (_, i) => `x${i}`),
    outputs: opts.dense ? ['a', 'b', 'c'] : Array.from({ length: hidden[hidden.length - 1] }, (_, i) => `h${i}`),
    hiddenSizes: hidden, rnnActivation: opts.relu ? 'relu' : 'tanh',
    dense: opts.dense ? [{ size: 6, activation: 'tanh' }, { size: 3, activation: 'linear' }] : [],
  }, 17 + I + hidden[0]);
  // Non-trivial normalisation, both ways.
  const mean = Float32Array.from({ length: I }, () => rand() - 0.5);
  const std = Float32Array.from({ length: I }, () => 0.5 + rand());
  const O = outputSize(m);
  return {
    ...m,
    inputs: { ...m.inputs, mean: { dtype: 'f32', shape: [I], data: mean }, std: { dtype: 'f32', shape: [I], data: std } },
    outputs: { ...m.outputs, mean: { dtype: 'f32', shape: [O], data: new Float32Array(O).fill(0.25) }, std: { dtype: 'f32', shape: [O], data: new Float32Array(O).fill(2) } },
  };
}

/** The model with h itself as the output (no output mean/std). */
export function withoutOutputNorm(m: Model): Model {
  const { mean: _mean, std: _std, ...outputs } = m.outputs;
  return { ...m, outputs };
}

export const MODELS: [string, Model][] = [
  ['rnn tanh i3 h5', model('rnn', 3, [5])],
  ['rnn relu i8 h16+7 dense', model('rnn', 8, [16, 7], { relu: true, dense: true })],
  ['lstm i1 h1', model('lstm', 1, [1])],
  ['lstm i8 h64', model('lstm', 8, [64])],
  ['lstm i5 h17+9 dense', model('lstm', 5, [17, 9], { dense: true })],
  ['gru i8 h33', model('gru', 8, [33])],
  ['lstm i4 h13, no output normalisation', withoutOutputNorm(model('lstm', 4, [13]))],
  ['gru i3 h12+20+4 dense', model('gru', 3, [12, 20, 4], { dense: true })],
];

export function inputs(T: number, n: number, I: number): Float32Array[] {
  return Array.from({ length: T }, () => Float32Array.from({ length: n * I }, () => (rand() * 2 - 1) * 2));
}

/** Steps `n` streams T times (stepBatch, or step per stream when single); all outputs [T, n, O]. */
export function runAll(s: Session, xs: Float32Array[], n: number, single: boolean): Float32Array {
  const O = s.outputSize, I = s.inputSize;
  const states = Array.from({ length: n }, () => s.createState());
  const out = new Float32Array(xs.length * n * O);
  xs.forEach((x, t) => {
    const ys = out.subarray(t * n * O, (t + 1) * n * O);
    if (single) states.forEach((st, k) => s.step(st, x.subarray(k * I, (k + 1) * I), ys.subarray(k * O, (k + 1) * O)));
    else s.stepBatch(states, x, ys);
  });
  return out;
}

export function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}
