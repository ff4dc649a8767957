// Every wasm kernel against its TypeScript reference: the f32 mirrors in
// src/kernels/wasm/reference.ts bit for bit, the float64 kernels to 1e-5 relative, and the
// int8-activation reference (src/kernels/matvec-q8-act.ts) exactly.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from '../../src/kernels/wasm/kernels-module.js';
import { instantiateKernels, wasmSimdSupported, type WasmKernels } from '../../src/kernels/wasm/kernels.js';
import { layoutF32, layoutQ8, layoutRows, panelRow, superpanels } from '../../src/kernels/wasm/layout.js';
import { affineOutF32, expF32, matvecF32Seq, sigmoidF32, tanhF32 } from '../../src/kernels/wasm/reference.js';
import { matvecQ8ActRef, quantizeActRef, roundHalfEven } from '../../src/kernels/matvec-q8-act.js';
import { matvecBiasF32Ref } from '../../src/kernels/matvec.js';
import { seededRandom } from '../../src/model/index.js';
import { assembleKernels, RELAXED_EXPORTS, variantSource, WAT_PATH } from '../../scripts/build-wasm.js';

const rand = seededRandom(91);
const uniform = (n: number, k = 1) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * k);
const int8s = (n: number) => Int8Array.from({ length: n }, () => Math.round((rand() * 2 - 1) * 127));

/** A scratch allocator over a fresh instance's memory (the baseline module: the mirrors are exact for it). */
function harness(bytes = 1 << 22): { k: WasmKernels; alloc: (n: number) => number; f32: () => Float32Array } {
  const k = instantiateKernels('baseline');
  k.memory.grow(Math.ceil(bytes / 65536));
  let top = k.heap_base.value;
  return {
    k,
    alloc: (n) => { const at = top; top = Math.ceil((top + n) / 16) * 16; return at; },
    f32: () => new Float32Array(k.memory.buffer),
  };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number): void {
  for (let i = 0; i < expected.length; i++) {
    const tol = rel * Math.max(1, Math.abs(expected[i]));
    if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
      throw new Error(`index ${i}: ${actual[i]} vs ${expected[i]} (tolerance ${tol})`);
    }
  }
}

describe('wasm kernels module', () => {
  it('runs here: this engine has WebAssembly SIMD', () => {
    expect(wasmSimdSupported()).toBe(true);
  });

  it('the committed modules are exactly kernels.wat assembled, baseline and relaxed (npm run build:wasm)', async () => {
    expect(Buffer.from(await assembleKernels('baseline')).toString('base64')).toBe(KERNELS_WASM_BASE64);
    expect(Buffer.from(await assembleKernels('relaxed')).toString('base64')).toBe(KERNELS_RELAXED_WASM_BASE64);
  });

  it('the relaxed module is mv_f32 and mm_f32 alone, over the baseline\'s memory, with relaxed_madd for mul then add', async () => {
    const base = await assembleKernels('baseline'), relaxed = await assembleKernels('relaxed');
    const text = variantSource(readFileSync(WAT_PATH, 'utf8'), 'relaxed');
    expect(text.match(/\((?:export|import) "[^"]+"(?: "[^"]+")?/g)).toEqual(['(import "kernels" "memory"', '(export "mv_f32"', '(export "mm_f32"']);
    // f32x4.relaxed_madd is 0xfd 0x85 0x02: mv_f32's 4 multiply-adds and mm_f32's 8 + 4, none in the baseline
    const count = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1').split('\xfd\x85\x02').length - 1;
    expect(count(relaxed)).toBe(16);
    expect(count(base)).toBe(0);
    expect(RELAXED_EXPORTS).toEqual(['mv_f32', 'mm_f32']);
  });
});

describe('math: exp, sigmoid, tanh', () => {
  const xs = new Float32Array(4096);
  for (let i = 0; i < xs.length; i++) xs[i] = i < 64 ? [0, -0, 1e-30, -1e-8, 0.625, -0.625, 0.62499, 88, -87, 100, -100, 0.5, -0.5][i % 13] : (rand() * 2 - 1) * (i % 3 === 0 ? 1 : i % 3 === 1 ? 10 : 90);

  for (const [name, mirror, exact] of [
    ['exp_v', expF32, Math.exp],
    ['sigmoid_v', sigmoidF32, (x: number) => 1 / (1 + Math.exp(-x))],
    ['tanh_v', tanhF32, Math.tanh],
  ] as const) {
    it(`${name} equals its f32 mirror bit for bit, and is within 1e-6 relative of the float64 function`, () => {
      const { k, alloc, f32 } = harness();
      const x = alloc(xs.length * 4), y = alloc(xs.length * 4);
      f32().set(xs, x >> 2);
      k[name](x, y, xs.length);
      const got = f32().slice(y >> 2, (y >> 2) + xs.length);
      for (let i = 0; i < xs.length; i++) {
        expect(got[i]).toBe(mirror(xs[i]));
        const v = xs[i];
        if (name === 'exp_v' && (v > 88 || v < -87)) continue; // clamped by design
        const want = exact(v);
        expect(Math.abs(got[i] - want)).toBeLessThanOrEqual(1e-6 * Math.abs(want) + 1e-38);
      }
    });
  }

  it('rounds ties to even like f32.nearest', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, -3]);
  });
});

// Random gate-matrix shapes, including sizes that are not multiples of 4, 8 or 16.
const SHAPES: { G: number; H: number; cols: number }[] = [];
for (const G of [1, 3, 4]) for (const H of [1, 3, 5, 16, 17, 30]) for (const cols of [1, 2, 7, 8, 13]) SHAPES.push({ G, H, cols });

describe('f32 products: mv_f32 (one stream) and mm_f32 (streams in lanes)', () => {
  // (a sweep of 90 shapes: seconds on a busy machine, so more than vitest's default 5 s)
  it('equal the f32 column-order mirror bit for bit and the float64 reference to 1e-5, every shape', { timeout: 60_000 }, () => {
    const { k, alloc, f32 } = harness();
    for (const [si, { G, H, cols }] of SHAPES.entries()) {
      const rows = G * H, shape = { gates: G, hidden: H }, sp = superpanels(shape);
      const w = uniform(rows * cols, 1 / Math.sqrt(cols));
      const n = 4 * (1 + (si % 6)); // 4..24 in turn: blocks of 8 streams and, every other shape, a last one of 4
      const xs = Array.from({ length: n }, () => uniform(cols));
      const pw = alloc(sp * cols * 64), px = alloc(cols * 4), py = alloc(sp * 64), pxT = alloc(cols * n * 4), pyT = alloc(sp * 16 * n * 4);
      layoutF32(new Float32Array(k.memory.buffer, pw, sp * cols * 16), w, shape, cols, cols);
      const want = new Float32Array(rows), want64 = new Float32Array(rows), zero = new Float32Array(rows);
      const mem = f32();
      for (let s = 0; s < n; s++) for (let j = 0; j < cols; j++) mem[(pxT >> 2) + j * n + s] = xs[s][j];
      k.mm_f32(pw, pxT, pyT, sp, cols, n);
      for (let s = 0; s < n; s++) {
        mem.set(xs[s], px >> 2);
        k.mv_f32(pw, px, py, sp, cols);
        matvecF32Seq(want, w, xs[s], rows, cols);
        matvecBiasF32Ref(want64, w, xs[s], zero, rows, cols);
        for (let g = 0; g < G; g++) for (let j = 0; j < H; j++) {
          const pr = panelRow(G, g, j);
          expect(mem[(py >> 2) + pr]).toBe(want[g * H + j]);
          expect(mem[(pyT >> 2) + pr * n + s]).toBe(want[g * H + j]);
        }
        expectClose(want, want64, 1e-5);
      }
    }
  });
});

describe('int8 x int8 -> int32 with dynamic activation quantization', () => {
  it('quant_act equals quantizeActRef (q and scale), zero vectors included', () => {
    const { k, alloc, f32 } = harness();
    for (const n of [8, 16, 24, 264]) for (const kind of ['random', 'zero', 'ties']) {
      const x = kind === 'zero' ? new Float32Array(n) : uniform(n, kind === 'ties' ? 1 : 3);
      if (kind === 'ties') { x[0] = 1; for (let i = 1; i < n; i++) x[i] = Math.fround((i % 5 - 2 + 0.5) / 127); }
      const px = alloc(n * 4), pq = alloc(n * 2);
      f32().set(x, px >> 2);
      const sx = k.quant_act(px, pq, n);
      const want = new Int16Array(n);
      const wantSx = quantizeActRef(want, x, n);
      expect(sx).toBe(wantSx);
      expect(Array.from(new Int16Array(k.memory.buffer, pq, n))).toEqual(Array.from(want));
      if (kind === 'zero') expect(sx).toBe(0);
      else expect(Math.max(...Array.from(want, Math.abs))).toBe(127);
    }
  });

  it('mv_q8 and quant_act_t + mm_q8 equal matvecQ8ActRef exactly, every shape', { timeout: 60_000 }, () => {
    const { k, alloc, f32 } = harness();
    for (const [si, { G, H, cols }] of SHAPES.entries()) {
      const rows = G * H, shape = { gates: G, hidden: H }, sp = superpanels(shape);
      const cp = Math.ceil(cols / 2), xRows = Math.ceil(cols / 8) * 8;
      const q = int8s(rows * cols);
      const scale = Float32Array.from({ length: rows }, () => 1e-3 + rand() * 0.02);
      const n = 4 * (1 + (si % 4)); // 4..16 in turn (n % 8 == 4 every other shape)
      const xs = Array.from({ length: n }, (_, s) => (s === 1 ? new Float32Array(cols) : uniform(cols, 2)));
      const pw = alloc(sp * cp * 64), ps = alloc(sp * 64), px = alloc(xRows * 4), pq = alloc(xRows * 2), py = alloc(sp * 64);
      const pxT = alloc(2 * cp * n * 4), pqT = alloc(cp * n * 4), psx = alloc(n * 4), pyT = alloc(sp * 16 * n * 4);
      layoutQ8(new Int16Array(k.memory.buffer, pw, sp * cp * 32), q, shape, cols, cp);
      layoutRows(new Float32Array(k.memory.buffer, ps, sp * 16), scale, shape);
      const mem = f32();
      mem.fill(0, pxT >> 2, (pxT >> 2) + 2 * cp * n);
      for (let s = 0; s < n; s++) for (let j = 0; j < cols; j++) mem[(pxT >> 2) + j * n + s] = xs[s][j];
      k.quant_act_t(pxT, pqT, psx, 2 * cp, n);
      k.mm_q8(pw, pqT, psx, ps, pyT, sp, cp, n);
      const xq = new Int16Array(cols), want = new Float32Array(rows);
      for (let s = 0; s < n; s++) {
        mem.fill(0, px >> 2, (px >> 2) + xRows);
        mem.set(xs[s], px >> 2);
        k.mv_q8(pw, pq, k.quant_act(px, pq, xRows), ps, py, sp, cp);
        const sx = quantizeActRef(xq, xs[s], cols);
        expect(mem[(psx >> 2) + s]).toBe(sx);
        matvecQ8ActRef(want, q, scale, xq, sx, rows, cols);
        for (let g = 0; g < G; g++) for (let j = 0; j < H; j++) {
          const pr = panelRow(G, g, j);
          expect(mem[(py >> 2) + pr]).toBe(want[g * H + j]);
          expect(mem[(pyT >> 2) + pr * n + s]).toBe(want[g * H + j]);
        }
      }
    }
  });
});

describe('state transposition: gather_t and scatter_t', () => {
  it('move rows [0, rows) of m streams to and from [rowsP][n] exactly, padding rows zeroed, nothing else written', () => {
    for (const [rows, rowsP, m, stride, off] of [[4, 8, 4, 4, 0], [7, 8, 5, 9, 1], [128, 128, 64, 256, 128], [13, 16, 63, 27, 3], [3, 4, 1, 3, 0], [16, 16, 8, 35, 19]]) {
      const n = Math.ceil(m / 8) * 8;
      const { k, alloc, f32 } = harness();
      const total = m * stride + 8; // slack past the last stream: must stay untouched
      const src = alloc(total * 4), dT = alloc(rowsP * n * 4 + 64), dst = alloc(total * 4);
      const S = uniform(total, 3), sentinel = -12345.5;
      f32().set(S, src >> 2);
      f32().fill(sentinel, dT >> 2, (dT >> 2) + rowsP * n + 16);
      k.gather_t(src + off * 4, stride, dT, rows, rowsP, m, n);
      const T = f32().slice(dT >> 2, (dT >> 2) + rowsP * n + 16);
      for (let j = 0; j < rowsP; j++) {
        for (let s = 0; s < n; s++) {
          const want = j >= rows ? 0 : s < m ? S[s * stride + off + j] : sentinel;
          if (T[j * n + s] !== want) throw new Error(`gather rows ${rows} m ${m}: [${j}][${s}] ${T[j * n + s]} vs ${want}`);
        }
      }
      expect(Array.from(T.subarray(rowsP * n))).toEqual(new Array(16).fill(sentinel));
      // scatter into a copy of other data: only rows [0, rows) of each stream change
      const D = uniform(total, 5);
      f32().set(D, dst >> 2);
      k.scatter_t(dT, dst + off * 4, stride, rows, m, n);
      const got = f32().slice(dst >> 2, (dst >> 2) + total);
      const want = Float32Array.from(D);
      for (let s = 0; s < m; s++) for (let j = 0; j < rows; j++) want[s * stride + off + j] = S[s * stride + off + j];
      expect(got).toEqual(want);
    }
  });
});

describe('output stage: affine_out', () => {
  it('writes std · h + mean in float64, rounded once to f32, bit for bit, for m streams and nothing past them', () => {
    let f32Differs = 0;
    for (const [O, m, stride, off] of [[1, 1, 1, 0], [2, 3, 4, 2], [7, 5, 9, 1], [128, 64, 256, 128], [33, 63, 33, 0], [5, 8, 13, 8]]) {
      const { k, alloc, f32 } = harness();
      const src = alloc((m * stride + 8) * 4), std = alloc(O * 4), mean = alloc(O * 4), dst = alloc((m * O + 16) * 4);
      const S = uniform(m * stride + 8, 3), sd = Float32Array.from({ length: O }, () => 0.01 + rand() * 40), mu = uniform(O, 100);
      f32().set(S, src >> 2);
      f32().set(sd, std >> 2);
      f32().set(mu, mean >> 2);
      const sentinel = -12345.5;
      f32().fill(sentinel, dst >> 2, (dst >> 2) + m * O + 16);
      k.affine_out(src + off * 4, stride, std, mean, dst, O, m);
      const got = f32().slice(dst >> 2, (dst >> 2) + m * O + 16);
      for (let s = 0; s < m; s++) {
        for (let o = 0; o < O; o++) {
          const y = S[s * stride + off + o], want = affineOutF32(y, sd[o], mu[o]);
          if (got[s * O + o] !== want) throw new Error(`O ${O} m ${m}: [${s}][${o}] ${got[s * O + o]} vs ${want}`);
          // float32 arithmetic (two roundings) would differ here: the test can tell them apart
          if (Math.fround(Math.fround(y * sd[o]) + mu[o]) !== want) f32Differs++;
        }
      }
      expect(Array.from(got.subarray(m * O))).toEqual(new Array(16).fill(sentinel));
    }
    expect(f32Differs).toBeGreaterThan(0);
  });
});
