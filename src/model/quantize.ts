// Symmetric per-output-row int8 quantization of a model's weight matrices (issue 6).
//
// For each row r of a weight matrix W [rows, cols]:
//   scale[r] = max_c |W[r, c]| / 127          (float32, always > 0)
//   q[r, c]  = clamp(roundHalfAway(W[r, c] / scale[r]), -127, 127)
// so W[r, c] ≈ q[r, c] * scale[r] with an error of at most scale[r] / 2. Only the weight
// matrices (wIh, wHh, dense w) are quantized: biases, normalisation and the recurrent
// state stay float32, because they are few and the state carries error forward in time.
import { directionWeights, type Layer, type Model, type RecurrentWeights, type Tensor, type TensorF32, type TensorI8 } from './types.js';

export const Q8_MAX = 127;

/** Smallest positive float32 (a subnormal): the floor for a scale that would round to 0. */
const MIN_POSITIVE_F32 = 1.401298464324817e-45;

/**
 * Round half away from zero, then clamp to -127..127. Written out because neither
 * Math.round (half up: -0.5 -> -0) nor an Int8Array store (wraps 128 to -128, truncates
 * -1.7 to -1) does this.
 */
export function roundClampQ8(v: number): number {
  const a = Math.abs(v);
  let r = Math.floor(a);
  if (a - r >= 0.5) r += 1;
  if (r > Q8_MAX) r = Q8_MAX;
  return v < 0 ? 0 - r : r; // 0 - r, not -r: no -0 for small negatives
}

/**
 * The scale of one row: max |w| / 127 as a positive float32. An all-zero row gets 1 (its q
 * are all 0, so any positive scale reproduces it, and a zero scale would be refused by the
 * decoder); a row so small that max/127 underflows float32 gets the smallest subnormal.
 */
export function rowScale(maxAbs: number): number {
  if (maxAbs === 0) return 1;
  const s = Math.fround(maxAbs / Q8_MAX);
  return s > 0 ? s : MIN_POSITIVE_F32;
}

/**
 * q = clamp(roundHalfAway(w / scale[r])) for a row-major matrix with the given per-row
 * scales (which quantizeMatrix chooses; exposed so tests can probe rounding and clamping).
 */
export function quantizeWithScales(w: Float32Array, scale: Float32Array, rows: number, cols: number): Int8Array {
  if (w.length !== rows * cols || scale.length !== rows) {
    throw new RangeError(`quantizeWithScales: ${w.length} values and ${scale.length} scales for [${rows}, ${cols}]`);
  }
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const s = scale[r];
    if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`quantizeWithScales: scale of row ${r} is ${s}, must be positive and finite`);
    for (let c = 0; c < cols; c++) q[r * cols + c] = roundClampQ8(w[r * cols + c] / s);
  }
  return q;
}

/** A float32 matrix [rows, cols] as symmetric per-row int8. */
export function quantizeMatrix(t: TensorF32): TensorI8 {
  if (t.shape.length !== 2) throw new RangeError(`quantizeMatrix: expected a [rows, cols] tensor, got shape [${t.shape.join(', ')}]`);
  const [rows, cols] = t.shape;
  const scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < cols; c++) {
      const v = t.data[r * cols + c];
      if (!Number.isFinite(v)) throw new RangeError(`quantizeMatrix: cannot quantize the non-finite value ${v} in row ${r}`);
      const a = Math.abs(v);
      if (a > m) m = a;
    }
    scale[r] = rowScale(m);
  }
  return { dtype: 'i8', shape: [rows, cols], data: quantizeWithScales(t.data, scale, rows, cols), scale };
}

/** w = q * scale[row] as float32 (what the int8 tensor stands for). */
export function dequantizeMatrix(t: Tensor): TensorF32 {
  if (t.dtype === 'f32') return t;
  const [rows, cols] = t.shape;
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) data[r * cols + c] = t.data[r * cols + c] * t.scale[r];
  return { dtype: 'f32', shape: [...t.shape], data };
}

// A bidirectional layer's reverse weights (issue 19) go the same way as its forward ones.
function mapWeights(l: Layer, f: (t: Tensor) => Tensor): Layer {
  if (l.type === 'dense') return { ...l, w: f(l.w) };
  const mapped = { ...l, wIh: f(l.wIh), wHh: f(l.wHh) };
  return l.reverse ? { ...mapped, reverse: { ...l.reverse, wIh: f(l.reverse.wIh), wHh: f(l.reverse.wHh) } } : mapped;
}

export interface QuantizeOptions {
  /** Indices of the layers to quantize (default: every layer). The rest stay as they are. */
  readonly layers?: readonly number[];
}

/**
 * The model with the weight matrices of the chosen layers in int8; everything else (biases,
 * normalisation, names, meta) is shared with the input. Already-int8 weights are kept.
 */
export function quantizeModel(model: Model, opts: QuantizeOptions = {}): Model {
  const chosen = opts.layers ?? model.layers.map((_, i) => i);
  for (const i of chosen) {
    if (!Number.isInteger(i) || i < 0 || i >= model.layers.length) {
      throw new RangeError(`quantizeModel: no layer ${i} (the model has layers 0..${model.layers.length - 1})`);
    }
  }
  const q = (t: Tensor): Tensor => (t.dtype === 'i8' ? t : quantizeMatrix(t));
  return { ...model, layers: model.layers.map((l, i) => (chosen.includes(i) ? mapWeights(l, q) : l)) };
}

/** The float32 model the int8 one stands for: every int8 matrix replaced by q * scale. */
export function dequantizeModel(model: Model): Model {
  return { ...model, layers: model.layers.map((l) => mapWeights(l, dequantizeMatrix)) };
}

/** Bytes of tensor payload a layer's weights and biases take (scales included). */
export function layerWeightBytes(l: Layer): number {
  const bytes = (t: Tensor) => (t.dtype === 'f32' ? t.data.length * 4 : t.data.length + t.scale.length * 4);
  const sum = (w: RecurrentWeights) => bytes(w.wIh) + bytes(w.wHh) + bytes(w.bIh) + bytes(w.bHh);
  return l.type === 'dense' ? bytes(l.w) + bytes(l.b) : directionWeights(l).reduce((n, w) => n + sum(w), 0);
}

/** The same layer's payload if every tensor were float32. */
export function layerF32Bytes(l: Layer): number {
  const sum = (w: RecurrentWeights) => w.wIh.data.length + w.wHh.data.length + w.bIh.data.length + w.bHh.data.length;
  return l.type === 'dense' ? (l.w.data.length + l.b.data.length) * 4 : directionWeights(l).reduce((n, w) => n + sum(w) * 4, 0);
}
