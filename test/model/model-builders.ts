// Hand-built models for the format tests. Values come from a local PRNG (not src/model/init),
// so the tests do not lean on the code under test to make their inputs.
import {
  GATES, type DenseActivation, type DenseLayer, type Model, type RecurrentLayer, type RecurrentType,
  type RnnActivation, type Tensor, type TensorF32, type TensorI8,
} from '../../src/model/index.js';

export { prng } from '../helpers/prng.js';
import { prng } from '../helpers/prng.js';

// Float32 values that a lossy or careless codec would mangle: signed zero, subnormals, extremes.
const AWKWARD = [-0, 1.401298464324817e-45, -1.1754942106924411e-38, 3.4028234663852886e38, -3.4028234663852886e38, 1 / 3];

export function f32(shape: readonly number[], seed: number, scale = 0.5): TensorF32 {
  const n = shape.reduce((a, b) => a * b, 1);
  const r = prng(seed);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (r() * 2 - 1) * scale;
  // Sprinkle the awkward values in (only into tensors large enough to keep random ones too).
  if (n >= 12) AWKWARD.forEach((v, k) => (data[(k * 7 + seed) % n] = v));
  return { dtype: 'f32', shape: [...shape], data };
}

/** Positive values, for std tensors. */
export function positive(shape: readonly number[], seed: number): TensorF32 {
  const t = f32(shape, seed);
  return { ...t, data: t.data.map((v) => 0.25 + Math.abs(v) % 4) };
}

/** int8 with the extremes -127 and 127 and zero present, and a positive scale per row. */
export function i8(shape: readonly [number, number], seed: number): TensorI8 {
  const [rows, cols] = shape;
  const r = prng(seed);
  const data = new Int8Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = Math.round(r() * 254) - 127;
  data[0] = -127;
  data[data.length - 1] = 127;
  data[Math.floor(data.length / 2)] = 0;
  const scale = new Float32Array(rows);
  for (let i = 0; i < rows; i++) scale[i] = (0.5 + r()) / 127;
  return { dtype: 'i8', shape: [rows, cols], data, scale };
}

export interface RecurrentOpts {
  readonly int8?: boolean;
  readonly activation?: RnnActivation;
}

export function recurrent(type: RecurrentType, I: number, H: number, seed: number, opts: RecurrentOpts = {}): RecurrentLayer {
  const G = GATES[type] * H;
  const weight = (shape: [number, number], s: number): Tensor => (opts.int8 ? i8(shape, s) : f32(shape, s));
  const base = {
    inputSize: I, hiddenSize: H,
    wIh: weight([G, I], seed), wHh: weight([G, H], seed + 1), bIh: f32([G], seed + 2), bHh: f32([G], seed + 3),
  };
  return type === 'rnn' ? { type, activation: opts.activation ?? 'tanh', ...base } : { type, ...base };
}

export function dense(I: number, O: number, activation: DenseActivation, seed: number, int8 = false): DenseLayer {
  return { type: 'dense', inputSize: I, outputSize: O, activation, w: int8 ? i8([O, I], seed) : f32([O, I], seed), b: f32([O], seed + 1) };
}

const INPUTS = ['temperature', 'humidity', 'light', 'voltage', 'x4', 'x5', 'x6', 'x7'];

export function regression(
  layers: Model['layers'],
  opts: { outMeanStd?: boolean; horizon?: number; meta?: Record<string, unknown>; name?: string } = {},
): Model {
  const I = layers[0].inputSize;
  const last = layers[layers.length - 1];
  const O = last.type === 'dense' ? last.outputSize : last.direction === 'bidirectional' ? 2 * last.hiddenSize : last.hiddenSize;
  return {
    format: 'edge-rnn', version: 1, name: opts.name ?? 'mote-temperature', modelVersion: 3, task: 'regression',
    inputs: { names: INPUTS.slice(0, I), mean: f32([I], 901, 30), std: positive([I], 902) },
    outputs: {
      names: Array.from({ length: O }, (_, k) => `y${k}`),
      ...(opts.outMeanStd ?? true ? { mean: f32([O], 903, 10), std: positive([O], 904) } : {}),
      ...(opts.horizon ? { horizon: opts.horizon } : {}),
    },
    layers,
    ...(opts.meta ? { meta: opts.meta } : {}),
  };
}

export function classification(layers: Model['layers'], labels: readonly string[]): Model {
  const I = layers[0].inputSize;
  return {
    format: 'edge-rnn', version: 1, name: 'mote-fault', modelVersion: 12, task: 'classification',
    inputs: { names: INPUTS.slice(0, I), mean: f32([I], 911, 30), std: positive([I], 912) },
    outputs: { names: ['state'], labels: [...labels] },
    layers,
  };
}

/** A small LSTM regression model with a dense head (a couple of KB encoded). */
export function smallLstm(): Model {
  return regression([recurrent('lstm', 3, 6, 10), dense(6, 2, 'linear', 20)], { horizon: 2, meta: { dataset: 'unit', metrics: { mae: 0.25 } } });
}

/** A small int8 GRU classifier. */
export function smallInt8Gru(): Model {
  return classification([recurrent('gru', 3, 5, 30, { int8: true }), dense(5, 3, 'softmax', 40, true)], ['ok', 'drift', 'stuck']);
}

/**
 * A model as plain data for deep equality: typed arrays become their class name plus the
 * bit patterns of their elements, so -0 vs 0 and NaN payloads would count as differences.
 */
export function plain(v: unknown): unknown {
  if (v instanceof Float32Array) return { Float32Array: Array.from(new Uint32Array(Float32Array.from(v).buffer)) };
  if (v instanceof Int8Array) return { Int8Array: Array.from(v) };
  if (v instanceof Uint8Array) return { Uint8Array: Array.from(v) };
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

/** Every typed array inside a model (tensor data and scales), with its path. */
export function typedArrays(v: unknown, path = ''): { path: string; array: Float32Array | Int8Array }[] {
  if (v instanceof Float32Array || v instanceof Int8Array) return [{ path, array: v }];
  if (v === null || typeof v !== 'object') return [];
  return Object.entries(v).flatMap(([k, x]) => typedArrays(x, path ? `${path}.${k}` : k));
}

/** A bidirectional recurrent layer (issue 19): forward weights from `seed`, reverse from seed + 50. */
export function bidirectional(type: RecurrentType, I: number, H: number, seed: number, opts: RecurrentOpts = {}): RecurrentLayer {
  const fwd = recurrent(type, I, H, seed, opts);
  const rev = recurrent(type, I, H, seed + 50, opts);
  return { ...fwd, direction: 'bidirectional', reverse: { wIh: rev.wIh, wHh: rev.wHh, bIh: rev.bIh, bHh: rev.bHh } };
}

/** `model` made windowed: window {size, hop}, outputs.from. */
export function windowed(model: Model, size: number, hop: number, from: 'last' | 'mean' = 'last'): Model {
  return { ...model, window: { size, hop }, outputs: { ...model.outputs, from } };
}

/** A small windowed classifier: bidirectional GRU(2→3, 2x3 out) → dense softmax, window 6 hop 2 (~1.2 KB, for the fuzz loops). */
export function smallWindowedBiGru(): Model {
  return windowed(classification([bidirectional('gru', 2, 3, 60), dense(6, 2, 'softmax', 70)], ['quiet', 'event']), 6, 2, 'mean');
}
