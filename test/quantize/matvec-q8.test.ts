// The int8 kernels against their plain references (bit for bit), and against the float32
// product of the dequantized weights (to float rounding, a named budget).
import { describe, expect, it } from 'vitest';
import { matvecBiasF32Ref } from '../../src/kernels/matvec.js';
import {
  matvecBiasAddQ8, matvecBiasAddQ8Ref, matvecBiasQ8, matvecBiasQ8Ref, q8BytesKernel, q8Words, q8WordsKernel,
} from '../../src/kernels/matvec-q8.js';
import { matvecBias, matvecBiasAdd } from '../../src/kernels/weights.js';
import { prng } from './helpers.js';

/**
 * int8 vs float32-of-dequantized: each dequantized weight q*s is rounded to float32
 * (relative 2^-24) and both results are rounded to float32 once, so
 * |y8 - yf| <= 3 * 2^-24 * (Σ|q s x| + |b|). The budget below is that with a margin of 4/3.
 */
const DEQUANT_BUDGET = 4 * 2 ** -24;

function bits(a: Float32Array): number[] {
  return Array.from(new Uint32Array(Float32Array.from(a).buffer));
}

function problem(rows: number, cols: number, seed: number) {
  const rand = prng(seed);
  const q = new Int8Array(rows * cols);
  for (let i = 0; i < q.length; i++) q[i] = Math.round(rand() * 254) - 127;
  q[0] = -127;
  q[q.length - 1] = 127;
  const scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) scale[r] = (0.01 + rand()) / 127;
  const x = new Float32Array(cols);
  for (let j = 0; j < cols; j++) x[j] = (rand() * 2 - 1) * 3;
  const b = new Float32Array(rows);
  for (let r = 0; r < rows; r++) b[r] = rand() - 0.5;
  const y0 = new Float32Array(rows);
  for (let r = 0; r < rows; r++) y0[r] = rand() * 2 - 1;
  return { q, scale, x, b, y0 };
}

const SHAPES: [number, number][] = [];
for (let rows = 1; rows <= 9; rows++) for (const cols of [1, 2, 3, 4, 5, 8, 12, 13, 16]) SHAPES.push([rows, cols]);
SHAPES.push([64, 8], [256, 64], [96, 33], [512, 128]);

describe('int8 matvec: optimised kernels equal the references bit for bit', () => {
  it.each(SHAPES)('rows %i, cols %i', (rows, cols) => {
    const { q, scale, x, b, y0 } = problem(rows, cols, rows * 100 + cols);
    const ref = new Float32Array(rows), fast = new Float32Array(rows), bytes = new Float32Array(rows);
    matvecBiasQ8Ref(ref, q, scale, x, b, rows, cols);
    matvecBiasQ8(fast, q, scale, x, b, rows, cols);
    q8BytesKernel(bytes, q, scale, x, b, rows, cols, false);
    expect(bits(fast)).toEqual(bits(ref));
    expect(bits(bytes)).toEqual(bits(ref));
    const words = q8Words(q, cols);
    expect(words !== null).toBe(cols % 4 === 0); // the word kernel is really exercised
    if (words) {
      const w = new Float32Array(rows);
      q8WordsKernel(w, words, scale, x, b, rows, cols, false);
      expect(bits(w)).toEqual(bits(ref));
    }

    const refAdd = Float32Array.from(y0), fastAdd = Float32Array.from(y0), bytesAdd = Float32Array.from(y0);
    matvecBiasAddQ8Ref(refAdd, q, scale, x, b, rows, cols);
    matvecBiasAddQ8(fastAdd, q, scale, x, b, rows, cols);
    q8BytesKernel(bytesAdd, q, scale, x, b, rows, cols, true);
    expect(bits(fastAdd)).toEqual(bits(refAdd));
    expect(bits(bytesAdd)).toEqual(bits(refAdd));
  });

  it('falls back to the byte kernel for int8 data that does not start on a word', () => {
    const rows = 8, cols = 8;
    const { q, scale, x, b } = problem(rows, cols, 5);
    const backing = new Int8Array(q.length + 1);
    backing.set(q, 1);
    const unaligned = backing.subarray(1);
    expect(q8Words(unaligned, cols)).toBeNull();
    const ref = new Float32Array(rows), fast = new Float32Array(rows);
    matvecBiasQ8Ref(ref, q, scale, x, b, rows, cols);
    matvecBiasQ8(fast, unaligned, scale, x, b, rows, cols);
    expect(bits(fast)).toEqual(bits(ref));
  });

  it('reads sign-extended bytes correctly at every position of a word (-127, -1, 0, 1, 127)', () => {
    const vals = [-127, -1, 0, 1, 127, -100, 64, -64];
    const rows = vals.length, cols = 4;
    const q = new Int8Array(rows * cols);
    // Row r holds vals[r] at every column; x is one-hot per row-block, so each byte is read alone.
    for (let r = 0; r < rows; r++) q.fill(vals[r], r * cols, (r + 1) * cols);
    const scale = new Float32Array(rows).fill(1), b = new Float32Array(rows);
    for (let pos = 0; pos < 4; pos++) {
      const x = new Float32Array(cols);
      x[pos] = 1;
      const y = new Float32Array(rows);
      matvecBiasQ8(y, q, scale, x, b, rows, cols);
      expect(Array.from(y)).toEqual(vals);
    }
  });
});

describe('int8 matvec equals the float32 matvec of the dequantized weights, to float rounding', () => {
  it.each(SHAPES)('rows %i, cols %i', (rows, cols) => {
    const { q, scale, x, b, y0 } = problem(rows, cols, rows * 31 + cols * 7 + 1);
    const w = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) w[r * cols + c] = q[r * cols + c] * scale[r];
    const yf = new Float32Array(rows), y8 = new Float32Array(rows);
    matvecBiasF32Ref(yf, w, x, b, rows, cols);
    matvecBias(y8, { dtype: 'i8', data: q, scale }, x, b, rows, cols);
    const y8add = Float32Array.from(y0), yfAdd = Float32Array.from(y0);
    matvecBiasAdd(y8add, { dtype: 'i8', data: q, scale }, x, b, rows, cols);
    matvecBiasAdd(yfAdd, { dtype: 'f32', data: w }, x, b, rows, cols);
    for (let r = 0; r < rows; r++) {
      let mag = Math.abs(b[r]);
      for (let c = 0; c < cols; c++) mag += Math.abs(w[r * cols + c] * x[c]);
      expect(Math.abs(y8[r] - yf[r])).toBeLessThanOrEqual(DEQUANT_BUDGET * mag);
      expect(Math.abs(y8add[r] - yfAdd[r])).toBeLessThanOrEqual(DEQUANT_BUDGET * (mag + Math.abs(y0[r])));
    }
  });
});
