// Inputs for the quantization tests, made here (not by src/model/init) so the tests do not
// lean on the code under test to build what they check.
import type { DenseLayer, Layer, Model, RecurrentLayer, Tensor, TensorF32, TensorI8 } from '../../src/model/types.js';

export { prng } from '../helpers/prng.js';
import { prng } from '../helpers/prng.js';

export function f32(shape: readonly number[], rand: () => number, bound = 0.5): TensorF32 {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * bound;
  return { dtype: 'f32', shape: [...shape], data };
}

const GATES = { rnn: 1, lstm: 4, gru: 3 } as const;

export function recurrent(type: 'rnn' | 'lstm' | 'gru', I: number, H: number, rand: () => number): RecurrentLayer {
  const G = GATES[type] * H;
  const k = 1 / Math.sqrt(H);
  const base = { inputSize: I, hiddenSize: H, wIh: f32([G, I], rand, k), wHh: f32([G, H], rand, k), bIh: f32([G], rand, k), bHh: f32([G], rand, k) };
  return type === 'rnn' ? { type, activation: 'tanh', ...base } : { type, ...base };
}

export function dense(I: number, O: number, activation: DenseLayer['activation'], rand: () => number): DenseLayer {
  return { type: 'dense', inputSize: I, outputSize: O, activation, w: f32([O, I], rand, 1 / Math.sqrt(I)), b: f32([O], rand, 0.1) };
}

export function regressionModel(layers: Layer[], opts: { horizon?: number; meta?: Record<string, unknown> } = {}): Model {
  const I = layers[0].inputSize;
  const last = layers[layers.length - 1];
  const O = last.type === 'dense' ? last.outputSize : last.hiddenSize;
  const names = Array.from({ length: I }, (_, i) => `x${i}`);
  return {
    format: 'edge-rnn', version: 1, name: 'q-test', modelVersion: 2, task: 'regression',
    inputs: { names, mean: { dtype: 'f32', shape: [I], data: new Float32Array(I).fill(0.5) }, std: { dtype: 'f32', shape: [I], data: new Float32Array(I).fill(2) } },
    outputs: { names: Array.from({ length: O }, (_, o) => `x${o}`), ...(opts.horizon ? { horizon: opts.horizon } : {}) },
    layers,
    ...(opts.meta ? { meta: opts.meta } : {}),
  };
}

/** The float32 model an int8 one stands for, built here from q * scale (the test's own reference). */
export function dequantizedByHand(m: Model): Model {
  const deq = (t: Tensor): TensorF32 => {
    if (t.dtype === 'f32') return t;
    const [rows, cols] = t.shape;
    const data = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = t.data[r * cols + c] * t.scale[r];
    return { dtype: 'f32', shape: [rows, cols], data };
  };
  return {
    ...m,
    layers: m.layers.map((l) => (l.type === 'dense' ? { ...l, w: deq(l.w) } : { ...l, wIh: deq(l.wIh), wHh: deq(l.wHh) })),
  };
}

export function isI8(t: Tensor): t is TensorI8 {
  return t.dtype === 'i8';
}

export function weightTensors(m: Model): Tensor[] {
  return m.layers.flatMap((l) => (l.type === 'dense' ? [l.w] : [l.wIh, l.wHh]));
}
