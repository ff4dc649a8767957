// int8 models in the step session: the output of a quantized model follows the float32
// model built (here, by hand) from q * scale, step after step, for every cell type, stacks
// and mixed int8/float32 layers; and an int8 file steps the same after encode/decode.
//
// Pinned to the JS kernels (EDGE_RNN_KERNELS=js): they keep activations float, so int8 is
// exactly "the float model of q * scale" up to float rounding. (The WebAssembly path also
// quantizes activations per call and is held to its own reference in its own tests.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, type Model } from '../../src/model/index.js';
import { quantizeModel } from '../../src/model/quantize.js';
import { createSession } from '../../src/runtime/session.js';
import { dense, dequantizedByHand, prng, recurrent, regressionModel, weightTensors } from './helpers.js';

/** Max |int8 session - float32-of-dequantized session| per output, any step. */
const TOLERANCE = 1e-5;
const STEPS = 200;

function inputs(I: number, seed: number): Float32Array[] {
  const rand = prng(seed);
  return Array.from({ length: STEPS }, (_, t) => Float32Array.from({ length: I }, (_, i) => Math.sin(0.05 * t * (i + 1)) * 3 + (rand() - 0.5)));
}

function run(model: Model, xs: Float32Array[]): Float32Array[] {
  const s = createSession(model);
  const st = s.createState();
  return xs.map((x) => Float32Array.from(s.step(st, x)));
}

function maxDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((y, t) => y.forEach((v, o) => (m = Math.max(m, Math.abs(v - b[t][o])))));
  return m;
}

const savedKernels = process.env.EDGE_RNN_KERNELS;
beforeAll(() => {
  process.env.EDGE_RNN_KERNELS = 'js';
});
afterAll(() => {
  if (savedKernels === undefined) delete process.env.EDGE_RNN_KERNELS;
  else process.env.EDGE_RNN_KERNELS = savedKernels;
});

const rand = prng(99);
const MODELS: [string, Model, number[] | undefined][] = [
  ['lstm 3->16 + dense', regressionModel([recurrent('lstm', 3, 16, rand), dense(16, 3, 'linear', rand)]), undefined],
  ['gru 2->12 + 12 (stacked) + dense', regressionModel([recurrent('gru', 2, 12, rand), recurrent('gru', 12, 12, rand), dense(12, 2, 'linear', rand)]), undefined],
  ['rnn 4->8, no head', regressionModel([recurrent('rnn', 4, 8, rand)]), undefined],
  ['lstm 2->32 + dense tanh + dense', regressionModel([recurrent('lstm', 2, 32, rand), dense(32, 8, 'tanh', rand), dense(8, 2, 'linear', rand)]), undefined],
  ['mixed: lstm int8, lstm f32, dense int8', regressionModel([recurrent('lstm', 2, 8, rand), recurrent('lstm', 8, 8, rand), dense(8, 2, 'linear', rand)]), [0, 2]],
];

describe('int8 session vs the float32 model of its dequantized weights', () => {
  it.each(MODELS)('%s', (_name, model, layers) => {
    const q = quantizeModel(model, { layers });
    expect(weightTensors(q).some((t) => t.dtype === 'i8')).toBe(true);
    const xs = inputs(model.inputs.names.length, 3);
    const y8 = run(q, xs);
    const yRef = run(dequantizedByHand(q), xs);
    expect(maxDiff(y8, yRef)).toBeLessThanOrEqual(TOLERANCE);
    // And quantization did change something (the comparison is not vacuous).
    expect(maxDiff(y8, run(model, xs))).toBeGreaterThan(0);
  });

  it('steps an int8 model identically after encode and decode, and stepBatch equals single steps', () => {
    const model = quantizeModel(MODELS[0][1]);
    const decoded = decodeModel(encodeModel(model));
    const xs = inputs(3, 4);
    const a = run(model, xs), b = run(decoded, xs);
    expect(maxDiff(a, b)).toBe(0);

    const s = createSession(decoded);
    const states = [s.createState(), s.createState()];
    const ys = new Float32Array(2 * s.outputSize);
    xs.forEach((x, t) => {
      const pair = new Float32Array(6);
      pair.set(x, 0);
      pair.set(xs[STEPS - 1 - t], 3);
      s.stepBatch(states, pair, ys);
      expect(Array.from(ys.subarray(0, 3))).toEqual(Array.from(a[t]));
    });
  });
});
