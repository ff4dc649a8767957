// Tensors of a model v1 wire object: {dtype, shape, data[, scale]} maps with little-endian
// bytes, read against the shape the layer expects and checked value by value (finite f32,
// symmetric int8 with positive row scales), and written back the same way.
import type { Tensor, TensorF32, TensorI8 } from './types.js';
import { bytes, describe, fail, get, obj, oneOf, posInt, type Obj } from './wire-fields.js';

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

/** An f32 tensor of shape `expected`. */
export function parseF32(v: unknown, field: string, expected: readonly number[]): TensorF32 {
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

/** A weight matrix: f32, or int8 with one f32 scale per row. */
export function parseWeight(v: unknown, field: string, expected: readonly number[]): Tensor {
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

/** Tensor → wire map (bytes copied, so the wire object owns them). */
export function tensorToWire(t: Tensor): Obj {
  if (t.dtype === 'f32') return { dtype: 'f32', shape: [...t.shape], data: f32ToBytes(t.data) };
  return {
    dtype: 'i8', shape: [...t.shape],
    data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice(),
    scale: { dtype: 'f32', shape: [t.scale.length], data: f32ToBytes(t.scale) },
  };
}
