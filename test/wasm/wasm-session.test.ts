// The wasm session against the JS session (f32 models, 1e-5 over long sequences), against
// itself (batch = single steps, bit for bit), and for int8 models against a TypeScript
// session built from the reference kernels (exactly). Against PyTorch and tfjs it runs in
// test/golden, beside the JS session.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { denseForward } from '../../src/kernels/dense.js';
import { matvecQ8ActRef, quantizeActRef } from '../../src/kernels/matvec-q8-act.js';
import {
  gruCellF32, lstmCellF32, matvecF32Seq, preF32, rnnCellF32,
} from '../../src/kernels/wasm/reference.js';
import { instantiateKernels } from '../../src/kernels/wasm/kernels.js';
import { type DenseLayer, type Layer, type Model, type RecurrentLayer, type Tensor } from '../../src/model/index.js';
import { chooseKernels, createJsSession, createSession } from '../../src/runtime/session.js';
import { createWasmSession as createWasmSessionOf, WASM_CHUNK } from '../../src/runtime/session-wasm.js';
import { inputs, maxRelDiff, MODELS, runAll } from './session-models.js';

// The baseline module: its f32 mirrors are exact (the relaxed one: test/wasm/wasm-relaxed.test.ts).
const createWasmSession = (m: Model) => createWasmSessionOf(m, instantiateKernels('baseline'));

describe.each(MODELS)('%s: wasm session', (_name, m) => {
  it('equals the JS session within 1e-5 over 400 steps, batch 1', () => {
    const xs = inputs(400, 1, m.inputs.names.length);
    const d = maxRelDiff(runAll(createWasmSession(m), xs, 1, true), runAll(createJsSession(m), xs, 1, true));
    expect(d).toBeLessThan(1e-5);
  });

  it(`equals the JS session within 1e-5 over 150 steps of ${WASM_CHUNK + 6} streams, and its own single steps bit for bit`, () => {
    const n = WASM_CHUNK + 6; // one full chunk and a partial one
    const xs = inputs(150, n, m.inputs.names.length);
    const wasmBatch = runAll(createWasmSession(m), xs, n, false);
    expect(maxRelDiff(wasmBatch, runAll(createJsSession(m), xs, n, false))).toBeLessThan(1e-5);
    expect(Array.from(wasmBatch)).toEqual(Array.from(runAll(createWasmSession(m), xs, n, true)));
  });

  it('small batches (looped single kernels) equal the batched kernels bit for bit', () => {
    const xs = inputs(50, 3, m.inputs.names.length);
    const s = createWasmSession(m);
    expect(Array.from(runAll(s, xs, 3, false))).toEqual(Array.from(runAll(s, xs, 3, true)));
    const xs9 = inputs(50, 9, m.inputs.names.length);
    expect(Array.from(runAll(s, xs9, 9, false))).toEqual(Array.from(runAll(s, xs9, 9, true)));
  });
});

// ---------------------------------------------------------------- int8

/** Symmetric per-row int8 (round half away from zero), as the model format defines it. */
function quantizeTensor(t: Tensor): Tensor {
  if (t.dtype !== 'f32') return t;
  const [rows, cols] = t.shape;
  const data = new Int8Array(rows * cols), scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let j = 0; j < cols; j++) m = Math.max(m, Math.abs(t.data[r * cols + j]));
    scale[r] = m > 0 ? m / 127 : 1;
    for (let j = 0; j < cols; j++) {
      const v = t.data[r * cols + j] / scale[r];
      data[r * cols + j] = Math.max(-127, Math.min(127, Math.sign(v) * Math.round(Math.abs(v))));
    }
  }
  return { dtype: 'i8', shape: t.shape, data, scale };
}

function quantizeModel(m: Model, which: (l: Layer, k: 'wIh' | 'wHh' | 'w') => boolean = () => true): Model {
  return {
    ...m,
    layers: m.layers.map((l) => l.type === 'dense'
      ? { ...l, w: which(l, 'w') ? quantizeTensor(l.w) : l.w }
      : { ...l, wIh: which(l, 'wIh') ? quantizeTensor(l.wIh) : l.wIh, wHh: which(l, 'wHh') ? quantizeTensor(l.wHh) : l.wHh }),
  };
}

/**
 * The wasm path's definition, one stream, in plain TypeScript: int8 products with the input
 * quantized per call (matvecQ8ActRef), f32 products in column order, the f32 gate mirrors.
 */
function referenceStepper(m: Model) {
  const rec = m.layers.filter((l): l is RecurrentLayer => l.type !== 'dense');
  const dense = m.layers.filter((l): l is DenseLayer => l.type === 'dense');
  const I = m.inputs.names.length;
  const cell = new Float32Array(1);
  const product = (y: Float32Array, w: Tensor, v: Float32Array, rows: number, cols: number) => {
    if (w.dtype === 'f32') return matvecF32Seq(y, w.data, v, rows, cols);
    const q = new Int16Array(cols);
    matvecQ8ActRef(y, w.data, w.scale, q, quantizeActRef(q, v, cols), rows, cols);
  };
  const hs = rec.map((l) => new Float32Array(l.hiddenSize)), cs = rec.map((l) => new Float32Array(l.hiddenSize));
  return (x: ArrayLike<number>): Float32Array => {
    let v = Float32Array.from({ length: I }, (_, i) => (x[i] - m.inputs.mean.data[i]) / m.inputs.std.data[i]);
    rec.forEach((l, k) => {
      const H = l.hiddenSize, G = l.type === 'lstm' ? 4 : l.type === 'gru' ? 3 : 1;
      const gx = new Float32Array(G * H), gh = new Float32Array(G * H);
      product(gx, l.wIh, v, G * H, l.inputSize);
      product(gh, l.wHh, hs[k], G * H, H);
      const bi = l.bIh.data, bh = l.bHh.data, h = hs[k], c = cs[k];
      const p = (r: number) => preF32(gx[r], bi[r], gh[r], bh[r]);
      for (let j = 0; j < H; j++) {
        if (l.type === 'lstm') {
          c[j] = lstmCellF32(p(j), p(H + j), p(2 * H + j), p(3 * H + j), c[j], cell);
          h[j] = cell[0];
        } else if (l.type === 'gru') {
          h[j] = gruCellF32(p(j), p(H + j), Math.fround(gx[2 * H + j] + bi[2 * H + j]), Math.fround(gh[2 * H + j] + bh[2 * H + j]), h[j]);
        } else h[j] = rnnCellF32(p(j), l.activation === 'relu');
      }
      v = h;
    });
    for (const d of dense) {
      const y = new Float32Array(d.outputSize);
      denseForward(y, d, v);
      v = y;
    }
    const O = v.length, om = m.outputs.mean?.data, os = m.outputs.std?.data;
    return Float32Array.from({ length: O }, (_, o) => (om && os ? v[o] * os[o] + om[o] : v[o]));
  };
}

describe.each(MODELS)('%s, int8 weights: wasm session', (_name, f32Model) => {
  const q8 = quantizeModel(f32Model);
  const mixed = quantizeModel(f32Model, (l, k) => k === 'wHh' || (l.type === 'dense' && k === 'w'));

  it('equals the int8-activation reference session exactly over 200 steps (all int8, and mixed int8/f32)', () => {
    for (const m of [q8, mixed]) {
      const s = createWasmSession(m), st = s.createState(), ref = referenceStepper(m);
      for (const x of inputs(200, 1, m.inputs.names.length)) {
        expect(Array.from(s.step(st, x))).toEqual(Array.from(ref(x)));
      }
    }
  });

  it('batched int8 steps equal single int8 steps bit for bit, and stay near the float model', () => {
    const n = 20;
    const xs = inputs(100, n, q8.inputs.names.length);
    const batch = runAll(createWasmSession(q8), xs, n, false);
    expect(Array.from(batch)).toEqual(Array.from(runAll(createWasmSession(q8), xs, n, true)));
    // int8 weights and activations: a few percent of the output range at most.
    expect(maxRelDiff(batch, runAll(createJsSession(f32Model), xs, n, false))).toBeLessThan(0.1);
  });
});

describe('kernel choice', () => {
  afterEach(() => vi.unstubAllEnvs());
  const m = MODELS[3][1];

  it('defaults to wasm with SIMD, js without; EDGE_RNN_KERNELS forces either; anything else is an error', () => {
    expect(chooseKernels(m, undefined, true)).toBe('wasm');
    expect(chooseKernels(m, undefined, false)).toBe('js');
    expect(chooseKernels(m, 'js', true)).toBe('js');
    expect(chooseKernels(m, 'wasm', true)).toBe('wasm');
    expect(() => chooseKernels(m, 'wasm', false)).toThrow(/no WebAssembly SIMD/);
    expect(() => chooseKernels(m, 'fast', true)).toThrow(/EDGE_RNN_KERNELS/);
  });

  it('createSession follows EDGE_RNN_KERNELS (told apart by their f32 rounding)', () => {
    const xs = inputs(60, 1, m.inputs.names.length);
    const js = runAll(createJsSession(m), xs, 1, true);
    const wasm = runAll(createWasmSession(m), xs, 1, true);
    expect(Array.from(js)).not.toEqual(Array.from(wasm));
    vi.stubEnv('EDGE_RNN_KERNELS', 'js');
    expect(Array.from(runAll(createSession(m), xs, 1, true))).toEqual(Array.from(js));
    vi.stubEnv('EDGE_RNN_KERNELS', 'wasm');
    vi.stubEnv('EDGE_RNN_WASM', 'baseline'); // `wasm` above is the baseline module (Node 22 would pick relaxed)
    expect(Array.from(runAll(createSession(m), xs, 1, true))).toEqual(Array.from(wasm));
    expect(Array.from(runAll(createSession(m, { kernels: 'js' }), xs, 1, true))).toEqual(Array.from(js));
  });
});
