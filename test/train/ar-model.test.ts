// The AR embedded in a ReLU RNN (src/train/ar-model.ts): its outputs equal the AR computed
// directly from the normalised inputs, through the trainer's network, the JS and the
// WebAssembly sessions; its int8 version keeps the shift register exact and stays within
// the head's own quantization bound; its shape follows 2·k·I.
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, type Model } from '../../src/model/index.js';
import { quantizeModel } from '../../src/model/quantize.js';
import { parameterCount } from '../../src/model/types.js';
import { createSession } from '../../src/runtime/session.js';
import { arHiddenSize, arLayers, arModel } from '../../src/train/ar-model.js';
import { buildDataset, createNetwork, seriesOutputs, type Dataset, type Series } from '../../src/train/index.js';
import { linearArOutputs, type LinearAr } from '../../src/train/linear-ar.js';
import { prng } from '../helpers/prng.js';

/** Two devices, two inputs: a random AR(2)-like walk in each, rows interleaved. */
function randomData(rows: number, seed: number): { names: string[]; cols: number[][]; devices: string[] } {
  const rand = prng(seed);
  const a: number[] = [], b: number[] = [], devices: string[] = [];
  const state = { d0: [20, 20, 50, 50], d1: [15, 15, 40, 40] };
  for (let t = 0; t < rows; t++) {
    for (const d of ['d0', 'd1'] as const) {
      const s = state[d];
      const na = s[0] + 0.6 * (s[0] - s[1]) + (rand() - 0.5);
      const nb = 0.9 * s[2] + 0.1 * 45 + 0.3 * (na - s[0]) + 2 * (rand() - 0.5);
      state[d] = [na, s[0], nb, s[2]];
      a.push(na); b.push(nb); devices.push(d);
    }
  }
  return { names: ['a', 'b'], cols: [a, b], devices };
}

function dataset(residual: boolean, horizon: number): Dataset {
  const d = randomData(300, 11);
  return buildDataset({
    inputNames: d.names, inputs: d.cols, devices: d.devices, valFraction: 0.25, seqLen: 10,
    target: { task: 'regression', targetNames: ['a', 'b'], targets: d.cols, horizon, ...(residual ? { residual: true } : {}) },
  });
}

/** A hand-made AR with random coefficients (not a fit: the embedding must hold for any). */
function randomAr(lags: number, I: number, O: number, seed: number): LinearAr {
  const rand = prng(seed);
  return {
    lags, ridge: 0, inputs: I,
    coef: Array.from({ length: O }, () => Float64Array.from({ length: lags * I }, () => 2 * rand() - 1)),
    intercept: Float64Array.from({ length: O }, () => 2 * rand() - 1),
  };
}

/** The AR written out: Σ coef·x'[t - j] (0 before the start) + intercept, de-normalised, residual added back. */
function directAr(ar: LinearAr, ds: Dataset, s: Series): Float64Array {
  const I = ar.inputs, O = ar.coef.length, out = new Float64Array(s.n * O);
  for (let t = 0; t < s.n; t++) {
    for (let o = 0; o < O; o++) {
      let v = ar.intercept[o];
      for (let j = 0; j < ar.lags && t - j >= 0; j++) for (let i = 0; i < I; i++) v += ar.coef[o][j * I + i] * s.x[(t - j) * I + i];
      v = v * ds.targetStd![o] + ds.targetMean![o];
      out[t * O + o] = ds.residualInputs ? s.xRaw[t * I + ds.residualInputs[o]] + v : v;
    }
  }
  return out;
}

/** Steps a session over a series' raw readings from the zero state. */
function sessionOutputs(model: Model, s: Series, kernels: 'js' | 'wasm'): Float32Array {
  const session = createSession(model, { kernels });
  const state = session.createState(), I = session.inputSize, O = session.outputSize;
  const out = new Float32Array(s.n * O);
  for (let t = 0; t < s.n; t++) out.set(session.step(state, s.xRaw.subarray(t * I, (t + 1) * I)), t * O);
  return out;
}

/** Largest |a - b| relative to max(1, |b|). */
function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return m;
}

describe('the AR as a ReLU RNN', () => {
  it('has 2·k·I hidden units, a linear head, and the shift-register weights', () => {
    const ar = randomAr(3, 2, 1, 1);
    expect(arHiddenSize(ar)).toBe(12);
    const [rnn, head] = arLayers(ar);
    expect([rnn.type, rnn.activation, rnn.inputSize, rnn.hiddenSize]).toEqual(['rnn', 'relu', 2, 12]);
    expect([head.activation, head.inputSize, head.outputSize]).toEqual(['linear', 12, 1]);
    // Unit j·2I + s·I + i. Lag 0 reads +x and −x; each later unit copies the unit one lag before.
    const wIh = Array.from(rnn.wIh.data), wHh = rnn.wHh.data;
    expect(wIh.slice(0, 8)).toEqual([1, 0, 0, 1, -1, 0, 0, -1]);
    expect(wIh.slice(8).every((v) => v === 0)).toBe(true);
    for (let u = 0; u < 12; u++) {
      for (let v = 0; v < 12; v++) expect(wHh[u * 12 + v]).toBe(u >= 4 && v === u - 4 ? 1 : 0);
    }
    // Head: +coef on the + unit and −coef on the − unit of the same lag and input.
    expect(head.w.data[2 * 2 + 1]).toBe(Math.fround(ar.coef[0][1 * 2 + 1]));
    expect(head.w.data[2 * 2 + 2 + 1]).toBe(Math.fround(-ar.coef[0][1 * 2 + 1]));
    expect(head.b.data[0]).toBe(Math.fround(ar.intercept[0]));
  });

  it('refuses coefficients that do not match lags · inputs', () => {
    const ar = randomAr(2, 2, 1, 2);
    expect(() => arLayers({ ...ar, lags: 3 })).toThrow(/coef\[0\] has 4 entries, expected lags·inputs = 6/);
    expect(() => arModel(ar, dataset(false, 1), 'x')).toThrow(/1 outputs; the dataset has 2 inputs and 2/);
  });

  for (const [residual, horizon] of [[false, 1], [true, 3]] as const) {
    it(`predicts the AR exactly (${residual ? 'residual' : 'level'}, horizon ${horizon}): trainer network, JS and wasm sessions, after encode/decode`, () => {
      const ds = dataset(residual, horizon);
      const ar = randomAr(4, 2, 2, 3 + horizon);
      const model = decodeModel(encodeModel(arModel(ar, ds, 'ar')));
      expect(model.outputs.residual ?? false).toBe(residual);
      expect(parameterCount(model)).toBe(16 * 2 + 16 * 16 + 2 * 16 + 2 * 16 + 2);
      const net = createNetwork(model, 8);
      for (const s of ds.series) {
        const want = directAr(ar, ds, s);
        expect(maxRelDiff(linearArOutputs(ar, ds, s, new Float32Array(s.n * 2)), want)).toBeLessThan(1e-6);
        expect(maxRelDiff(seriesOutputs(net, ds, s, new Float32Array(s.n * 2)), want)).toBeLessThan(1e-5);
        expect(maxRelDiff(sessionOutputs(model, s, 'js'), want)).toBeLessThan(1e-5);
        expect(maxRelDiff(sessionOutputs(model, s, 'wasm'), want)).toBeLessThan(1e-5);
      }
    });
  }

  it('int8: the shift register quantizes to a copy (to 1e-8) and the outputs stay within the head\'s rounding bound', () => {
    const ds = dataset(false, 1);
    const ar = randomAr(5, 2, 2, 9);
    const model = arModel(ar, ds, 'ar');
    const q = quantizeModel(model);
    const rnn = q.layers[0];
    if (rnn.type !== 'rnn' || rnn.wIh.dtype !== 'i8' || rnn.wHh.dtype !== 'i8') throw new Error('expected int8 recurrent weights');
    const deq = (t: { data: Int8Array; scale: Float32Array; shape: readonly number[] }) =>
      Array.from(t.data, (v, k) => v * t.scale[Math.floor(k / t.shape[1])]);
    const f = model.layers[0];
    if (f.type !== 'rnn') throw new Error('expected an rnn layer');
    // Each row is one ±1 (scale f32(1/127), so 127·scale = 1 - 4e-9) and zeros: a copy, to 1e-8.
    const near = (got: number[], want: ArrayLike<number>) => got.every((v, k) => Math.abs(v - want[k]) <= 1e-8);
    expect(near(deq(rnn.wIh), f.wIh.data)).toBe(true);
    expect(near(deq(rnn.wHh), f.wHh.data)).toBe(true);
    // Head row o: each weight off by at most scale/2 = max|coef|/254, times Σ|h| = Σ_j Σ_i |x'[t-j, i]|.
    for (const s of ds.series) {
      const got = sessionOutputs(q, s, 'js'), want = directAr(ar, ds, s);
      for (let t = 0; t < s.n; t++) {
        let sumAbs = 0;
        for (let j = 0; j < ar.lags && t - j >= 0; j++) for (let i = 0; i < 2; i++) sumAbs += Math.abs(s.x[(t - j) * 2 + i]);
        for (let o = 0; o < 2; o++) {
          const maxCoef = Math.max(...Array.from(ar.coef[o], Math.abs));
          const bound = ds.targetStd![o] * (maxCoef / 254) * sumAbs * (1 + 1e-3) + 1e-4 * Math.max(1, Math.abs(want[t * 2 + o]));
          expect(Math.abs(got[t * 2 + o] - want[t * 2 + o])).toBeLessThanOrEqual(bound);
        }
      }
    }
  });
});
