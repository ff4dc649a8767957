// Properties of symmetric per-row int8 quantization (issue 6): error bound per element,
// all-zero rows, rounding half away from zero and explicit clamping, and which tensors of
// a model are (and are not) quantized.
import { describe, expect, it } from 'vitest';
import {
  dequantizeMatrix, quantizeMatrix, quantizeModel, quantizeWithScales, roundClampQ8, rowScale,
} from '../../src/model/quantize.js';
import type { TensorF32 } from '../../src/model/types.js';
import { dense, f32, prng, recurrent, regressionModel, weightTensors } from './helpers.js';

function matrix(rows: number, cols: number, values: ArrayLike<number>): TensorF32 {
  return { dtype: 'f32', shape: [rows, cols], data: Float32Array.from(values) };
}

/** Random matrices of many shapes and magnitudes, with hand-picked rows mixed in. */
function cases(): TensorF32[] {
  const out: TensorF32[] = [];
  const rand = prng(42);
  for (const [rows, cols] of [[1, 1], [1, 7], [4, 4], [5, 3], [16, 9], [64, 32]]) {
    for (const bound of [1e-30, 1e-3, 0.5, 3, 1e6, 3e38]) out.push(f32([rows, cols], rand, bound));
  }
  // Rows with a single non-zero, exact halves of the scale, subnormals, mixed signs.
  out.push(matrix(6, 4, [
    0, 0, 0, 5,
    -1, 0.5, 0.25, 0.125,
    1.401298464324817e-45, -2.802596928649634e-45, 0, 0,
    1, -1, 1, -1,
    127, 63.5, -0.5, 1.5,
    -3.4028234663852886e38, 3.4028234663852886e38, 1, -1,
  ]));
  return out;
}

describe('quantizeMatrix', () => {
  it('keeps every element within scale/2 of q * scale, with q in -127..127 and a positive finite scale', () => {
    let checked = 0;
    for (const t of cases()) {
      const q = quantizeMatrix(t);
      const [rows, cols] = t.shape;
      expect(q.dtype).toBe('i8');
      expect(q.shape).toEqual([rows, cols]);
      expect(q.scale.length).toBe(rows);
      for (let r = 0; r < rows; r++) {
        const s = q.scale[r];
        expect(s > 0 && Number.isFinite(s), `row ${r} scale ${s}`).toBe(true);
        for (let c = 0; c < cols; c++) {
          const v = q.data[r * cols + c];
          expect(v >= -127 && v <= 127).toBe(true);
          const err = Math.abs(t.data[r * cols + c] - v * s);
          if (!(err <= s / 2)) throw new Error(`row ${r} col ${c}: |${t.data[r * cols + c]} - ${v}*${s}| = ${err} > ${s / 2}`);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(5000);
  });

  it('maps each row\'s largest magnitude to ±127 (the full int8 range is used)', () => {
    const t = matrix(3, 3, [0.1, -0.4, 0.2, 3, 1, -2, -7e-5, 1e-5, 0]);
    const q = quantizeMatrix(t);
    expect(Array.from(q.data)).toEqual([32, -127, 64, 127, 42, -85, -127, 18, 0]);
    expect(q.scale[0]).toBe(Math.fround(0.4 / 127));
    expect(q.scale[1]).toBe(Math.fround(3 / 127));
  });

  it('gives an all-zero row zeros and a positive scale, never NaN (also for -0)', () => {
    const t = matrix(3, 4, [0, 0, 0, 0, 1, 2, 3, 4, -0, -0, 0, -0]);
    const q = quantizeMatrix(t);
    expect(Array.from(q.data.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(Array.from(q.data.subarray(8, 12))).toEqual([0, 0, 0, 0]);
    for (const r of [0, 2]) {
      expect(q.scale[r]).toBeGreaterThan(0);
      expect(Number.isFinite(q.scale[r])).toBe(true);
    }
    const back = dequantizeMatrix(q).data;
    expect(back.every((v) => !Number.isNaN(v))).toBe(true);
    expect(Array.from(back.subarray(0, 4))).toEqual([0, 0, 0, 0]);
  });

  it('gives a row whose max/127 underflows float32 a positive scale and keeps the bound', () => {
    const tiny = 1.401298464324817e-45 * 3; // max/127 rounds to 0 in float32
    expect(Math.fround(tiny / 127)).toBe(0);
    const q = quantizeMatrix(matrix(1, 3, [tiny, -tiny, 0]));
    expect(q.scale[0]).toBeGreaterThan(0);
    expect(Array.from(q.data)).toEqual([3, -3, 0]);
    expect(rowScale(0)).toBeGreaterThan(0);
  });
});

describe('rounding and clamping', () => {
  it('rounds half away from zero (not half up, not half to even, not truncation)', () => {
    // Math.round(-0.5) is -0, Math.round(-2.5) is -2; an Int8Array store truncates -1.7 to -1.
    const want: [number, number][] = [
      [0.5, 1], [-0.5, -1], [1.5, 2], [-1.5, -2], [2.5, 3], [-2.5, -3], [126.5, 127], [-126.5, -127],
      [0.49999999999999994, 0], [-0.49999999999999994, 0], [1.7, 2], [-1.7, -2], [-1.2, -1], [0, 0],
    ];
    for (const [v, q] of want) expect(roundClampQ8(v), `roundClampQ8(${v})`).toBe(q);
    const int8 = new Int8Array(1);
    int8[0] = -1.7;
    expect(int8[0]).toBe(-1); // why the explicit rounding is needed
  });

  it('clamps explicitly to -127..127 (an Int8Array would wrap 128 to -128)', () => {
    for (const [v, q] of [[127.5, 127], [-127.5, -127], [128, 127], [-128, -127], [200, 127], [-1000, -127], [1e300, 127]] as const) {
      expect(roundClampQ8(v), `roundClampQ8(${v})`).toBe(q);
    }
    const int8 = new Int8Array(1);
    int8[0] = 128;
    expect(int8[0]).toBe(-128);
  });

  it('applies both through quantizeWithScales on crafted multiples of the scale', () => {
    const s = 0.25; // a power of two: w / s is exact, so the halves are real halves
    const w = Float32Array.from([127.5 * s, -127.5 * s, 0.5 * s, -0.5 * s, 2.5 * s, -2.5 * s, -1.75 * s, 300 * s]);
    const q = quantizeWithScales(w, Float32Array.of(s), 1, w.length);
    expect(Array.from(q)).toEqual([127, -127, 1, -1, 3, -3, -2, 127]);
  });

  it('refuses a zero, negative or non-finite scale', () => {
    for (const s of [0, -1, NaN, Infinity]) expect(() => quantizeWithScales(Float32Array.of(1), Float32Array.of(s), 1, 1)).toThrow(/scale/);
  });
});

describe('quantizeModel', () => {
  const rand = prng(7);
  const model = regressionModel([recurrent('lstm', 3, 8, rand), recurrent('gru', 8, 5, rand), dense(5, 4, 'tanh', rand), dense(4, 3, 'linear', rand)], { meta: { dataset: 'unit' } });

  it('quantizes every weight matrix and nothing else', () => {
    const q = quantizeModel(model);
    expect(weightTensors(q).every((t) => t.dtype === 'i8')).toBe(true);
    q.layers.forEach((l, i) => {
      const src = model.layers[i];
      if (l.type === 'dense' && src.type === 'dense') expect(l.b).toBe(src.b);
      else if (l.type !== 'dense' && src.type !== 'dense') {
        expect(l.bIh).toBe(src.bIh);
        expect(l.bHh).toBe(src.bHh);
      }
    });
    expect(q.inputs).toBe(model.inputs);
    expect(q.outputs).toBe(model.outputs);
    expect(q.meta).toBe(model.meta);
    // The source model is untouched.
    expect(weightTensors(model).every((t) => t.dtype === 'f32')).toBe(true);
  });

  it('quantizes only the chosen layers (mixed models)', () => {
    const q = quantizeModel(model, { layers: [1, 3] });
    expect(q.layers.map((l) => (l.type === 'dense' ? l.w.dtype : `${l.wIh.dtype}/${l.wHh.dtype}`))).toEqual(['f32/f32', 'i8/i8', 'f32', 'i8']);
    expect(q.layers[0]).toBe(model.layers[0]);
    expect(() => quantizeModel(model, { layers: [4] })).toThrow(/no layer 4/);
  });

  it('keeps weights that are already int8 as they are', () => {
    const once = quantizeModel(model, { layers: [0] });
    const twice = quantizeModel(once);
    expect(twice.layers[0]).toEqual(once.layers[0]);
    const l0 = twice.layers[0], o0 = once.layers[0];
    if (l0.type !== 'dense' && o0.type !== 'dense') expect(l0.wIh).toBe(o0.wIh);
  });
});
