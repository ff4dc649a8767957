// The windowed forward pass against PyTorch (issue 19): every fixture in
// test/fixtures/golden-window (torch float64 on the same float32 weights; regenerate with
// scripts/golden/make-window-golden.py) — nn.LSTM / nn.GRU / nn.RNN, bidirectional or not,
// 1 and 2 layers, outputs.from "last" and "mean", Linear heads — built into a model, sent
// through the codec, and fed reading by reading through a windowed session on the JS and
// the WebAssembly kernels: a result exactly at the readings that end a hop, within 1e-5 of
// torch. The int8 model: on the JS kernels within 1e-5 of torch run on its q · scale weights;
// on the wasm kernels (whose int8 products quantize the activations too) equal to its own
// reference, the wasm step session's int8 kernels composed direction by direction.
import { afterAll, describe, expect, it } from 'vitest';
import { denseStackForward } from '../../src/kernels/dense.js';
import { decodeModel, encodeModel, planModel, tensorF32, type Model, type RecurrentLayer } from '../../src/model/index.js';
import { quantizeModel } from '../../src/model/quantize.js';
import { createSession, type KernelChoice } from '../../src/runtime/session.js';
import { isWindowSession } from '../../src/runtime/session-window.js';
import { loadWindowFixtures, windowFixtureModel, type WindowFixture, type WindowResult } from './window-fixture.js';

const TOLERANCE = 1e-5;
const PATHS: KernelChoice[] = ['js', 'wasm'];
const fixtures = loadWindowFixtures();
const observed: Record<string, Record<string, number>> = {};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Every reading through a windowed session: the results, at the readings that ended a window. */
function runWindows(model: Model, kernels: KernelChoice, inputs: readonly number[][]): { last: number; first: number | undefined; y: Float32Array }[] {
  const s = createSession(model, { kernels });
  if (!isWindowSession(s)) throw new Error('not a windowed session');
  const state = s.createState();
  const out: { last: number; first: number | undefined; y: Float32Array }[] = [];
  inputs.forEach((x, r) => {
    const y = new Float32Array(s.outputSize);
    if (s.window.push(state, Float32Array.from(x), 1000 + r, y)) out.push({ last: r, first: s.window.firstSeq(state), y });
  });
  return out;
}

/**
 * The reference the windowed session must equal on a kernel path: each layer's directions as
 * one-layer causal models (identity normalisation, output = h) stepped by the step session of
 * that path over the window (the reverse direction over the window reversed), then reduced
 * and the head applied here.
 */
function composedReference(model: Model, kernels: KernelChoice, window: readonly Float32Array[]): Float32Array {
  const plan = planModel(model);
  const W = window.length;
  let seq = window.map((x) => Float32Array.from(x));
  for (const r of plan.recurrent) {
    const H = r.hiddenSize;
    const outs = seq.map(() => new Float32Array(r.outputSize));
    const cells: RecurrentLayer[] = r.reverse ? [r.layer, r.reverse] : [r.layer];
    cells.forEach((cell, d) => {
      const { direction: _d, reverse: _r, ...one } = cell;
      const m: Model = {
        format: 'edge-rnn', version: 1, name: 'direction', modelVersion: 1, task: 'regression',
        inputs: { names: Array.from({ length: r.inputSize }, (_, i) => `x${i}`), mean: tensorF32([r.inputSize], new Array(r.inputSize).fill(0)), std: tensorF32([r.inputSize], new Array(r.inputSize).fill(1)) },
        outputs: { names: Array.from({ length: H }, (_, j) => `h${j}`) },
        layers: [one],
      };
      const s = createSession(m, { kernels }), st = s.createState();
      for (let k = 0; k < W; k++) {
        const t = d === 0 ? k : W - 1 - k;
        outs[t].set(s.step(st, seq[t]), d * H);
      }
    });
    seq = outs;
  }
  const last = plan.recurrent[plan.recurrent.length - 1];
  const reduced = new Float32Array(last.outputSize);
  for (let j = 0; j < last.outputSize; j++) {
    if (plan.window!.from === 'mean') {
      let sum = 0;
      for (let t = 0; t < W; t++) sum += seq[t][j];
      reduced[j] = sum / W;
    } else reduced[j] = j < last.hiddenSize ? seq[W - 1][j] : seq[0][j];
  }
  const y = denseStackForward(plan.dense.map((d) => new Float32Array(d.outputSize)), plan.dense, reduced);
  const { mean, std } = model.outputs;
  return Float32Array.from(y, (v, o) => (mean && std ? v * std.data[o] + mean.data[o] : v));
}

function normalisedWindow(model: Model, inputs: readonly number[][], last: number): Float32Array[] {
  const W = model.window!.size, { mean, std } = model.inputs;
  return inputs.slice(last - W + 1, last + 1).map((x) => Float32Array.from(x, (v, i) => (Math.fround(v) - mean.data[i]) / std.data[i]));
}

function expectAgainst(fx: WindowFixture, got: ReturnType<typeof runWindows>, expected: readonly WindowResult[], key: string): void {
  expect(got.map((g) => g.last)).toEqual(expected.map((e) => e.last));
  let worst = 0;
  got.forEach((g, k) => (worst = Math.max(worst, maxAbsDiff(g.y, expected[k].y))));
  (observed[fx.name] ??= {})[key] = worst;
  expect(worst).toBeLessThanOrEqual(TOLERANCE);
}

afterAll(() => console.table(observed));

it('has the fixtures: LSTM, GRU and RNN, bidirectional and not, 1 and 2 layers, last and mean', () => {
  expect(fixtures.length).toBeGreaterThanOrEqual(10);
  const kinds = new Set(fixtures.map((f) => `${f.cell}/${f.bidirectional ? 'bi' : 'fwd'}/${f.numLayers}/${f.from}`));
  for (const k of ['lstm/bi/1/last', 'lstm/bi/2/mean', 'gru/bi/1/mean', 'gru/bi/2/last', 'rnn/bi/1/last', 'rnn/bi/2/mean', 'lstm/fwd/2/last']) expect(kinds).toContain(k);
  for (const f of fixtures) expect(f.expected.length).toBeGreaterThanOrEqual(5);
});

describe.each(fixtures.flatMap((fx) => PATHS.map((kernels) => [fx.name, kernels, fx] as const)))('%s on %s kernels', (_name, kernels, fx) => {
  const model = decodeModel(encodeModel(windowFixtureModel(fx)));
  const { size: W, hop } = fx.window;

  it(`gives one result per hop (${hop}) once ${W} readings are in, each within ${TOLERANCE} of torch ${fx.torch}`, () => {
    const got = runWindows(model, kernels, fx.inputs);
    expect(got.map((g) => g.last)).toEqual(Array.from({ length: got.length }, (_, k) => W - 1 + k * hop));
    expect(got.map((g) => g.first)).toEqual(got.map((g) => 1000 + g.last - W + 1));
    expectAgainst(fx, got, fx.expected, kernels);
  });

  it('equals the step session of the same kernels composed direction by direction', () => {
    for (const m of [model, quantizeModel(model)]) {
      const got = runWindows(m, kernels, fx.inputs);
      for (const g of got) expect(maxAbsDiff(g.y, composedReference(m, kernels, normalisedWindow(m, fx.inputs, g.last)))).toBeLessThanOrEqual(kernels === 'js' ? 1e-6 : 0);
    }
  });

  if (kernels === 'js') {
    it(`int8: within ${TOLERANCE} of torch on the int8 model's q · scale weights`, () => {
      const q = decodeModel(encodeModel(quantizeModel(model)));
      expectAgainst(fx, runWindows(q, kernels, fx.inputs), fx.expectedInt8, 'js-int8');
    });
  }
});
