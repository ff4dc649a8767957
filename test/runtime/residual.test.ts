// Residual outputs in both sessions (JS and WebAssembly), single steps and stepBatch. The
// reference is computed by hand from a twin model: the same weights and statistics with
// outputs.residual off, whose outputs are the de-normalised changes f32(y' · std + mean);
// the residual model must output f32(x_raw[input of the same name] + change).
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, initModel, seededRandom, type Model } from '../../src/model/index.js';
import { quantizeModel } from '../../src/model/quantize.js';
import { createSession, type KernelChoice } from '../../src/runtime/session.js';
import { WASM_BATCH_MIN, WASM_CHUNK } from '../../src/runtime/session-wasm.js';

const INPUTS = ['temperature', 'humidity', 'light'];
// Outputs in another order than the inputs, so a mix-up of indices cannot pass.
const OUTPUTS = ['humidity', 'temperature'];
const IDX = OUTPUTS.map((n) => INPUTS.indexOf(n)); // [1, 0]

function twins(cell: 'lstm' | 'gru' | 'rnn', hidden: number[], seed: number, denseHead = true): { residual: Model; plain: Model } {
  const m = initModel({
    name: 'res', cell, inputs: INPUTS, outputs: OUTPUTS, horizon: 12, hiddenSizes: hidden,
    rnnActivation: 'relu', dense: denseHead ? [{ size: 2, activation: 'linear' }] : [],
  }, seed);
  const f = (a: number[]) => ({ dtype: 'f32' as const, shape: [a.length], data: Float32Array.from(a) });
  const plain: Model = {
    ...m,
    inputs: { ...m.inputs, mean: f([22, 45, 300]), std: f([3, 12, 150]) },
    outputs: { ...m.outputs, mean: f([0.05, -0.02]), std: f([0.4, 0.03]) },
  };
  const residual: Model = { ...plain, outputs: { ...plain.outputs, residual: true } };
  // Through the codec, so the file's field (not just the in-memory flag) drives the session.
  return { residual: decodeModel(encodeModel(residual)), plain };
}

/** Readings like a mote's: levels far from 0, so a missing add-back shows. */
function readings(n: number, seed: number): number[][] {
  const r = seededRandom(seed);
  return Array.from({ length: n }, (_, t) => [
    Math.fround(20 + 4 * Math.sin(t / 9) + r()), Math.fround(50 + 10 * Math.cos(t / 7) + r()), Math.fround(200 + 300 * r()),
  ]);
}

const CASES: [string, { residual: Model; plain: Model }][] = [
  ['lstm 16', twins('lstm', [16], 3)],
  ['gru 8+5', twins('gru', [8, 5], 4)],
  ['relu rnn 32', twins('rnn', [32], 5)],
  // h is the output (hidden 2 = the two outputs): the wasm session's batched output stage
  ['gru 2, no dense head', twins('gru', [2], 7, false)],
];
{
  const { residual, plain } = twins('lstm', [12], 6);
  CASES.push(['int8 lstm 12', { residual: quantizeModel(residual), plain: quantizeModel(plain) }]);
}

describe.each(['js', 'wasm'] as KernelChoice[])('residual outputs, %s kernels', (kernels) => {
  it.each(CASES)('%s: step = twin output + the raw input of the same name', (_name, { residual, plain }) => {
    const a = createSession(residual, { kernels });
    const b = createSession(plain, { kernels });
    const sa = a.createState(), sb = b.createState();
    let maxShift = 0;
    for (const x of readings(200, 11)) {
      const y = a.step(sa, x);
      const d = b.step(sb, x);
      for (let o = 0; o < 2; o++) {
        expect(y[o]).toBe(Math.fround(x[IDX[o]] + d[o]));
        maxShift = Math.max(maxShift, Math.abs(y[o] - d[o]));
      }
    }
    // The add-back is the reading's level (tens), not a rounding-size difference.
    expect(maxShift).toBeGreaterThan(15);
    // The state evolves exactly as the twin's: the residual only touches the output.
    expect(sa.buffer).toEqual(sb.buffer);
  });

  it.each(CASES)('%s: stepBatch (looped and chunked) = twin stepBatch + raw inputs', (_name, { residual, plain }) => {
    const a = createSession(residual, { kernels });
    const b = createSession(plain, { kernels });
    // Below the batched-kernel threshold, and over one chunk (a partial second chunk).
    for (const n of [WASM_BATCH_MIN - 1, WASM_CHUNK + 5]) {
      const sa = Array.from({ length: n }, () => a.createState());
      const sb = Array.from({ length: n }, () => b.createState());
      const xs = new Float32Array(n * 3), ya = new Float32Array(n * 2), yb = new Float32Array(n * 2);
      const streams = Array.from({ length: n }, (_, s) => readings(30, 100 + s));
      for (let t = 0; t < 30; t++) {
        for (let s = 0; s < n; s++) xs.set(streams[s][t], s * 3);
        a.stepBatch(sa, xs, ya);
        b.stepBatch(sb, xs, yb);
        for (let s = 0; s < n; s++) {
          for (let o = 0; o < 2; o++) expect(ya[s * 2 + o]).toBe(Math.fround(xs[s * 3 + IDX[o]] + yb[s * 2 + o]));
        }
      }
    }
  });

  it('a step with float64 readings adds the reading as given (one float32 rounding of the sum)', () => {
    const { residual, plain } = CASES[0][1];
    const a = createSession(residual, { kernels }), b = createSession(plain, { kernels });
    const sa = a.createState(), sb = b.createState();
    const x = [21.123456789123, 47.987654321987, 250.5];
    const y = Array.from(a.step(sa, x));
    const d = b.step(sb, x);
    expect(y).toEqual([Math.fround(x[1] + d[0]), Math.fround(x[0] + d[1])]);
  });
});
