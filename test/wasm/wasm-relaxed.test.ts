// The relaxed-SIMD module (f32x4.relaxed_madd in the matrix kernels) against its references.
// Node 18 and 20 do not validate it, so here (vitest's engine) it must not be chosen; its
// numbers come from test/wasm/relaxed-runner.ts run under Node 22 (test/helpers/node22.ts),
// and this file asserts on them. Without a Node 22 binary those tests skip, saying why.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { instantiateKernels, wasmRelaxedSimdSupported } from '../../src/kernels/wasm/kernels.js';
import { fmaF32 } from '../../src/kernels/wasm/reference.js';
import { chooseWasmVariant, createSession } from '../../src/runtime/session.js';
import { findNode22, runTsJson } from '../helpers/node22.js';
import type { RelaxedReport } from './relaxed-runner.js';
import { inputs, MODELS, runAll } from './session-models.js';

describe('fmaF32 (the fused mirror)', () => {
  it('rounds once: where the float64 sum is an exact f32 tie, the true sum decides', () => {
    const a = 4 * (1 + 2 ** -15), b = 4 * (1 - 2 ** -15), c = 2 ** 28 + 32; // a b = 16 - 2^-26
    expect(Math.fround(a * b + c)).toBe(2 ** 28 + 64); // rounded twice: the tie goes to even
    expect(fmaF32(a, b, c)).toBe(2 ** 28 + 32); // once: just below the tie
    expect(fmaF32(-a, b, -c)).toBe(-(2 ** 28 + 32));
    expect(fmaF32(3, 5, 0.5)).toBe(15.5);
    expect(fmaF32(1 + 2 ** -12, 1 + 2 ** -12, -1)).toBe(2 ** -11 + 2 ** -24); // mul then add loses 2^-24
    expect(Math.fround(Math.fround((1 + 2 ** -12) ** 2) - 1)).toBe(2 ** -11);
  });
});

describe('variant choice on this engine', () => {
  afterEach(() => vi.unstubAllEnvs());

  it(`${process.version}: no relaxed SIMD, so the baseline module; forcing relaxed is a one-line error`, () => {
    const major = Number(process.version.slice(1).split('.')[0]);
    if (major < 22) expect(wasmRelaxedSimdSupported()).toBe(false);
    expect(chooseWasmVariant(undefined, false)).toBe('baseline');
    expect(chooseWasmVariant(undefined, true)).toBe('relaxed');
    expect(chooseWasmVariant('baseline', true)).toBe('baseline');
    expect(() => chooseWasmVariant('relaxed', false)).toThrow(/^EDGE_RNN_WASM=relaxed, but this JS engine has no WebAssembly relaxed SIMD/);
    expect(() => chooseWasmVariant('fma', true)).toThrow(/^EDGE_RNN_WASM must be baseline or relaxed, got "fma"$/);
    if (!wasmRelaxedSimdSupported()) expect(() => instantiateKernels('relaxed')).toThrow(/Node 22 or later/);
  });

  it('EDGE_RNN_WASM=baseline gives the baseline module\'s numbers', () => {
    const m = MODELS[3][1];
    const xs = inputs(20, 1, m.inputs.names.length);
    const want = runAll(createSession(m, { kernels: 'wasm', wasmVariant: 'baseline' }), xs, 1, true);
    vi.stubEnv('EDGE_RNN_WASM', 'baseline');
    expect(Array.from(runAll(createSession(m, { kernels: 'wasm' }), xs, 1, true))).toEqual(Array.from(want));
  });
});

const node22 = findNode22();
if ('missing' in node22) console.warn(`wasm-relaxed: skipping the Node 22 tests: ${node22.missing}`);

describe.skipIf('missing' in node22)('relaxed-SIMD module under Node 22', { timeout: 180_000 }, () => {
  let report: RelaxedReport | undefined;
  const get = (): RelaxedReport => (report ??= runTsJson<RelaxedReport>((node22 as { path: string }).path, 'test/wasm/relaxed-runner.ts'));

  it('Node 22 validates the relaxed module and the session picks it', () => {
    expect(get().engine).toMatch(/^v2[2-9]\.|^v[3-9]\d\./);
    expect(get().relaxed).toBe(true);
    expect(get().chosen).toBe('relaxed');
  });

  it('mv_f32 and mm_f32 equal one mirror bit for bit at every shape (fused here: the CPU has FMA), batched = single, 1e-5 of float64', () => {
    const { products } = get();
    expect(products.length).toBeGreaterThan(100);
    const fusedAll = products.every((p) => p.fused), unfusedAll = products.every((p) => p.unfused);
    expect(fusedAll || unfusedAll).toBe(true); // the engine chose one rounding, for every kernel call
    const fma = process.arch === 'x64' && / fma /.test(readFileSync('/proc/cpuinfo', 'utf8').replace(/\n/g, ' '));
    if (fma) expect(fusedAll).toBe(true);
    // the mirrors themselves are told apart by these inputs: the fused check is not vacuous
    expect(products.filter((p) => p.fusedDiffersFromUnfused).length).toBeGreaterThan(products.length / 2);
    for (const p of products) {
      expect(p.mmEqualsMv, `G${p.G} H${p.H} cols${p.cols} n${p.n}`).toBe(true);
      expect(p.maxRel64, `G${p.G} H${p.H} cols${p.cols} n${p.n}`).toBeLessThan(1e-5);
    }
    // not only multiples of the blocks
    expect(products.some((p) => p.H % 4 !== 0 && p.cols % 8 !== 0 && p.n % 8 === 4)).toBe(true);
  });

  it('sessions: stepBatch equals single steps bit for bit, within 1e-5 of the JS session (int8: 0.1), every model', () => {
    const { sessions } = get();
    expect(sessions.length).toBe(MODELS.length + 3);
    for (const s of sessions) {
      expect(s.batchEqualsSingle, s.name).toBe(true);
      expect(s.maxRelVsJs, s.name).toBeLessThan(s.name.endsWith('int8') ? 0.1 : 1e-5);
    }
    // the f32 models' numbers do come from the relaxed kernels (fused rounding differs somewhere)
    expect(sessions.filter((s) => !s.name.endsWith('int8') && s.differsFromBaseline).length).toBeGreaterThan(MODELS.length / 2);
  });
});
