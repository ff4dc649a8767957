// Model v1 wire object (the msgpack map) ⇄ in-memory model. The parser is the single place
// a model is validated: every check names the field it refers to, and nothing half-built
// escapes, because the model object is only assembled after every part has passed.
import { ModelFormatError } from './errors.js';
import {
  GATES, type DenseActivation, type DenseLayer, type Layer, type Model, type ModelOutputs,
  type RecurrentLayer, type Tensor, type TensorF32, type TensorI8,
} from './types.js';

export const FORMAT_MAGIC = 'edge-rnn';
export const FORMAT_VERSION = 1;

const DENSE_ACTIVATIONS: readonly DenseActivation[] = ['linear', 'relu', 'tanh', 'sigmoid', 'softmax'];
const RNN_ACTIVATIONS = ['tanh', 'relu'] as const;
const LAYER_TYPES = ['rnn', 'lstm', 'gru', 'dense'] as const;

type Obj = Record<string, unknown>;

function fail(field: string, reason: string): never {
  throw new ModelFormatError(field, reason);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${String(v)}`;
}

function obj(v: unknown, field: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) {
    fail(field, `expected a map, got ${describe(v)}`);
  }
  return v as Obj;
}

function get(o: Obj, key: string, field: string): unknown {
  if (!Object.prototype.hasOwnProperty.call(o, key) || o[key] === undefined) {
    fail(field ? `${field}.${key}` : key, 'missing');
  }
  return o[key];
}

function optional(o: Obj, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(field, `expected a non-empty string, got ${describe(v)}`);
  return v;
}

function posInt(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    fail(field, `expected a positive integer, got ${describe(v)}`);
  }
  return v;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], field: string): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    fail(field, `unknown value ${describe(v)} (expected one of ${allowed.join(', ')})`);
  }
  return v as T;
}

function strList(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length === 0) fail(field, `expected a non-empty list of names, got ${describe(v)}`);
  const out = v.map((s, i) => str(s, `${field}[${i}]`));
  const dup = out.find((s, i) => out.indexOf(s) !== i);
  if (dup !== undefined) fail(field, `duplicate name ${JSON.stringify(dup)}`);
  return out;
}

function bytes(v: unknown, field: string): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(field, `expected binary data, got ${describe(v)}`);
  return v;
}

/** Copy little-endian f32 bytes into a fresh, aligned array (msgpack bins sit at any offset). */
function f32FromBytes(b: Uint8Array): Float32Array {
  const out = new Float32Array(b.length / 4);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

function f32ToBytes(a: Float32Array): Uint8Array {
  const out = new Uint8Array(a.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat32(i * 4, a[i], true);
  return out;
}

function checkFinite(a: Float32Array, field: string): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) fail(`${field}.data`, `non-finite value ${a[i]} at index ${i}`);
  }
}

function parseShape(v: unknown, field: string, expected: readonly number[]): number[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > 2) fail(field, `expected [rows, cols] or [n], got ${describe(v)}`);
  const shape = v.map((d, i) => posInt(d, `${field}[${i}]`));
  if (shape.length !== expected.length || shape.some((d, i) => d !== expected[i])) {
    fail(field, `shape [${shape.join(', ')}] does not match the layer (expected [${expected.join(', ')}])`);
  }
  return shape;
}

function parseF32(v: unknown, field: string, expected: readonly number[]): TensorF32 {
  const t = obj(v, field);
  const dtype = get(t, 'dtype', field);
  if (dtype !== 'f32') fail(`${field}.dtype`, `expected "f32", got ${describe(dtype)}`);
  return parseF32Body(t, field, expected);
}

function parseF32Body(t: Obj, field: string, expected: readonly number[]): TensorF32 {
  const shape = parseShape(get(t, 'shape', field), `${field}.shape`, expected);
  const n = shape.reduce((a, b) => a * b, 1);
  const b = bytes(get(t, 'data', field), `${field}.data`);
  if (b.length !== n * 4) fail(`${field}.data`, `${b.length} bytes, expected ${n * 4} for f32 shape [${shape.join(', ')}]`);
  const data = f32FromBytes(b);
  checkFinite(data, field);
  return { dtype: 'f32', shape, data };
}

function parseWeight(v: unknown, field: string, expected: readonly number[]): Tensor {
  const t = obj(v, field);
  const dtype = oneOf(get(t, 'dtype', field), ['f32', 'i8'] as const, `${field}.dtype`);
  if (dtype === 'f32') return parseF32Body(t, field, expected);
  const shape = parseShape(get(t, 'shape', field), `${field}.shape`, expected);
  const n = shape.reduce((a, b) => a * b, 1);
  const b = bytes(get(t, 'data', field), `${field}.data`);
  if (b.length !== n) fail(`${field}.data`, `${b.length} bytes, expected ${n} for i8 shape [${shape.join(', ')}]`);
  const data = new Int8Array(n);
  data.set(new Int8Array(b.buffer, b.byteOffset, n));
  const bad = data.indexOf(-128);
  if (bad >= 0) fail(`${field}.data`, `value -128 at index ${bad} (symmetric int8 uses -127..127)`);
  const scale = parseF32(get(t, 'scale', field), `${field}.scale`, [shape[0]]).data;
  for (let r = 0; r < scale.length; r++) {
    if (!(scale[r] > 0)) fail(`${field}.scale`, `scale of row ${r} is ${scale[r]}, must be > 0`);
  }
  return { dtype: 'i8', shape, data, scale } satisfies TensorI8;
}

function parseRecurrent(l: Obj, type: 'rnn' | 'lstm' | 'gru', field: string, inputSize: number): RecurrentLayer {
  const I = posInt(get(l, 'inputSize', field), `${field}.inputSize`);
  if (I !== inputSize) fail(`${field}.inputSize`, `${I} does not match the ${inputSize} values that reach this layer`);
  const H = posInt(get(l, 'hiddenSize', field), `${field}.hiddenSize`);
  const G = GATES[type] * H;
  const base = {
    inputSize: I,
    hiddenSize: H,
    wIh: parseWeight(get(l, 'wIh', field), `${field}.wIh`, [G, I]),
    wHh: parseWeight(get(l, 'wHh', field), `${field}.wHh`, [G, H]),
    bIh: parseF32(get(l, 'bIh', field), `${field}.bIh`, [G]),
    bHh: parseF32(get(l, 'bHh', field), `${field}.bHh`, [G]),
  };
  if (type === 'rnn') {
    const activation = oneOf(get(l, 'activation', field), RNN_ACTIVATIONS, `${field}.activation`);
    return { type, activation, ...base };
  }
  return { type, ...base };
}

function parseDense(l: Obj, field: string, inputSize: number): DenseLayer {
  const I = posInt(get(l, 'inputSize', field), `${field}.inputSize`);
  if (I !== inputSize) fail(`${field}.inputSize`, `${I} does not match the ${inputSize} values that reach this layer`);
  const O = posInt(get(l, 'outputSize', field), `${field}.outputSize`);
  const activation = oneOf(get(l, 'activation', field), DENSE_ACTIVATIONS, `${field}.activation`);
  return {
    type: 'dense', inputSize: I, outputSize: O, activation,
    w: parseWeight(get(l, 'w', field), `${field}.w`, [O, I]),
    b: parseF32(get(l, 'b', field), `${field}.b`, [O]),
  };
}

function parseLayers(v: unknown, inputSize: number): { layers: Layer[]; width: number } {
  if (!Array.isArray(v) || v.length === 0) fail('layers', `expected a non-empty list, got ${describe(v)}`);
  const layers: Layer[] = [];
  let width = inputSize;
  v.forEach((raw, i) => {
    const field = `layers[${i}]`;
    const l = obj(raw, field);
    const type = oneOf(get(l, 'type', field), LAYER_TYPES, `${field}.type`);
    if (type === 'dense') {
      if (i === 0) fail(`${field}.type`, 'the first layer must be recurrent (rnn, lstm or gru)');
      const d = parseDense(l, field, width);
      layers.push(d);
      width = d.outputSize;
    } else {
      if (i > 0 && layers[i - 1].type === 'dense') fail(`${field}.type`, 'recurrent layers must come before dense layers');
      const r = parseRecurrent(l, type, field, width);
      layers.push(r);
      width = r.hiddenSize;
    }
  });
  return { layers, width };
}

function parseOutputs(
  v: unknown, task: Model['task'], width: number, last: Layer, lastIndex: number, inputNames: readonly string[],
): ModelOutputs {
  const o = obj(v, 'outputs');
  const names = strList(get(o, 'names', 'outputs'), 'outputs.names');
  const rawMean = optional(o, 'mean');
  const rawStd = optional(o, 'std');
  const rawLabels = optional(o, 'labels');
  const rawHorizon = optional(o, 'horizon');
  const horizon = rawHorizon === undefined ? undefined : posInt(rawHorizon, 'outputs.horizon');
  const rawResidual = optional(o, 'residual');
  if (rawResidual !== undefined && typeof rawResidual !== 'boolean') {
    fail('outputs.residual', `expected true or false, got ${describe(rawResidual)}`);
  }
  if (task === 'classification') {
    if (rawResidual !== undefined) fail('outputs.residual', 'only regression models have residual outputs');
    if (rawLabels === undefined) fail('outputs.labels', 'missing (classification needs one label per output unit)');
    const labels = strList(rawLabels, 'outputs.labels');
    if (labels.length !== width) fail('outputs.labels', `${labels.length} labels for ${width} output units`);
    if (last.type !== 'dense' || last.activation !== 'softmax') {
      const at = `layers[${lastIndex}].${last.type === 'dense' ? 'activation' : 'type'}`;
      fail(at, 'a classification model must end in a dense layer with softmax activation');
    }
    if (rawMean !== undefined || rawStd !== undefined) fail('outputs.mean', 'classification outputs are not de-normalised');
    return { names, labels, ...(horizon ? { horizon } : {}) };
  }
  if (rawLabels !== undefined) fail('outputs.labels', 'only classification models have labels');
  if (names.length !== width) fail('outputs.names', `${names.length} names for ${width} outputs`);
  if (rawMean === undefined && rawStd !== undefined) fail('outputs.mean', 'missing (outputs.std is given; mean and std go together)');
  if (rawStd === undefined && rawMean !== undefined) fail('outputs.std', 'missing (outputs.mean is given; mean and std go together)');
  const out: { -readonly [K in keyof ModelOutputs]: ModelOutputs[K] } = { names };
  if (rawMean !== undefined) {
    out.mean = parseF32(rawMean, 'outputs.mean', [width]);
    out.std = parseF32(rawStd, 'outputs.std', [width]);
    checkPositive(out.std, 'outputs.std');
  }
  if (horizon) out.horizon = horizon;
  if (rawResidual !== undefined) {
    // The runtime adds each output's own input back, so that input must exist.
    const missing = rawResidual ? names.find((n) => !inputNames.includes(n)) : undefined;
    if (missing !== undefined) {
      fail('outputs.residual', `output ${JSON.stringify(missing)} is not an input (a residual output adds its input's current value back; inputs: ${inputNames.join(', ')})`);
    }
    out.residual = rawResidual;
  }
  return out;
}

// Optional inputs.min / inputs.max (added after format v1 shipped: older files have neither).
function parseInputRange(i: Obj, width: number): { min?: TensorF32; max?: TensorF32 } {
  const rawMin = optional(i, 'min');
  const rawMax = optional(i, 'max');
  if (rawMin === undefined && rawMax === undefined) return {};
  if (rawMin === undefined) fail('inputs.min', 'missing (inputs.max is given; min and max go together)');
  if (rawMax === undefined) fail('inputs.max', 'missing (inputs.min is given; min and max go together)');
  const min = parseF32(rawMin, 'inputs.min', [width]);
  const max = parseF32(rawMax, 'inputs.max', [width]);
  for (let k = 0; k < width; k++) {
    if (!(max.data[k] >= min.data[k])) fail('inputs.max.data', `max[${k}] is ${max.data[k]}, below min[${k}] ${min.data[k]}`);
  }
  return { min, max };
}

function checkPositive(t: TensorF32, field: string): void {
  for (let i = 0; i < t.data.length; i++) {
    if (!(t.data[i] > 0)) fail(`${field}.data`, `std[${i}] is ${t.data[i]}, must be > 0`);
  }
}

/**
 * meta is free-form, but plain msgpack data, so any reader can read it and a decoded model
 * re-encodes: no msgpackr-only extensions (Set, RegExp, Error, out-of-range BigInt...), no cycles.
 */
function checkPlainData(v: unknown, field: string, depth: number): void {
  if (depth > 32) fail(field, 'nested more than 32 levels deep');
  if (v === null || v === undefined || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return;
  if (typeof v === 'bigint' && v >= -(2n ** 63n) && v < 2n ** 64n) return;
  if (v instanceof Uint8Array) return;
  if (v instanceof Date && Number.isFinite(v.getTime())) return; // the msgpack timestamp extension
  if (Array.isArray(v)) {
    v.forEach((x, i) => checkPlainData(x, `${field}[${i}]`, depth + 1));
    return;
  }
  const proto = typeof v === 'object' ? Object.getPrototypeOf(v) : undefined;
  if (proto === Object.prototype || proto === null) {
    for (const [k, x] of Object.entries(v as Obj)) checkPlainData(x, `${field}.${k}`, depth + 1);
    return;
  }
  fail(field, `expected plain data (map, list, string, number, boolean, nil, bin or timestamp), got ${v?.constructor?.name ?? typeof v}`);
}

/** Wire object (decoded msgpack) → model. Throws ModelFormatError naming the field. */
export function parseModel(raw: unknown): Model {
  const m = obj(raw, '');
  const format = get(m, 'format', '');
  if (format !== FORMAT_MAGIC) fail('format', `not an edge-rnn model (expected "${FORMAT_MAGIC}", got ${describe(format)})`);
  const version = get(m, 'version', '');
  if (version !== FORMAT_VERSION) fail('version', `unknown format version ${describe(version)} (this build reads version ${FORMAT_VERSION})`);
  const name = str(get(m, 'name', ''), 'name');
  const modelVersion = posInt(get(m, 'modelVersion', ''), 'modelVersion');
  const task = oneOf(get(m, 'task', ''), ['regression', 'classification'] as const, 'task');

  const i = obj(get(m, 'inputs', ''), 'inputs');
  const names = strList(get(i, 'names', 'inputs'), 'inputs.names');
  const inputs = {
    names,
    mean: parseF32(get(i, 'mean', 'inputs'), 'inputs.mean', [names.length]),
    std: parseF32(get(i, 'std', 'inputs'), 'inputs.std', [names.length]),
    ...parseInputRange(i, names.length),
  };
  checkPositive(inputs.std, 'inputs.std');

  const { layers, width } = parseLayers(get(m, 'layers', ''), names.length);
  const outputs = parseOutputs(get(m, 'outputs', ''), task, width, layers[layers.length - 1], layers.length - 1, names);
  const rawMeta = optional(m, 'meta');
  const meta = rawMeta === undefined ? undefined : obj(rawMeta, 'meta');
  if (meta) checkPlainData(meta, 'meta', 0);
  return {
    format: FORMAT_MAGIC, version: FORMAT_VERSION, name, modelVersion, task, inputs, outputs, layers,
    ...(meta ? { meta } : {}),
  };
}

function tensorToWire(t: Tensor): Obj {
  if (t.dtype === 'f32') return { dtype: 'f32', shape: [...t.shape], data: f32ToBytes(t.data) };
  return {
    dtype: 'i8', shape: [...t.shape],
    data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice(),
    scale: { dtype: 'f32', shape: [t.scale.length], data: f32ToBytes(t.scale) },
  };
}

function layerToWire(l: Layer): Obj {
  if (l.type === 'dense') {
    return { type: 'dense', inputSize: l.inputSize, outputSize: l.outputSize, activation: l.activation, w: tensorToWire(l.w), b: tensorToWire(l.b) };
  }
  return {
    type: l.type, inputSize: l.inputSize, hiddenSize: l.hiddenSize,
    ...(l.type === 'rnn' ? { activation: l.activation } : {}),
    wIh: tensorToWire(l.wIh), wHh: tensorToWire(l.wHh), bIh: tensorToWire(l.bIh), bHh: tensorToWire(l.bHh),
  };
}

/** Model → wire object, ready for msgpack. Fields in a fixed order, so equal models give equal bytes. */
export function modelToWire(m: Model): Obj {
  const o = m.outputs;
  return {
    format: FORMAT_MAGIC, version: FORMAT_VERSION, name: m.name, modelVersion: m.modelVersion, task: m.task,
    inputs: {
      names: [...m.inputs.names], mean: tensorToWire(m.inputs.mean), std: tensorToWire(m.inputs.std),
      ...(m.inputs.min ? { min: tensorToWire(m.inputs.min) } : {}),
      ...(m.inputs.max ? { max: tensorToWire(m.inputs.max) } : {}),
    },
    outputs: {
      names: [...o.names],
      ...(o.mean ? { mean: tensorToWire(o.mean) } : {}),
      ...(o.std ? { std: tensorToWire(o.std) } : {}),
      ...(o.labels ? { labels: [...o.labels] } : {}),
      // `!== undefined`, not truthiness: an invalid horizon (0, NaN) must reach the validator, not vanish.
      ...(o.horizon !== undefined ? { horizon: o.horizon } : {}),
      ...(o.residual !== undefined ? { residual: o.residual } : {}),
    },
    layers: m.layers.map(layerToWire),
    ...(m.meta ? { meta: m.meta } : {}),
  };
}
