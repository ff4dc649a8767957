// `edge-rnn import` against PyTorch: each fixture is a real torch.onnx.export graph
// (scripts/python/make-onnx-fixtures.py) with PyTorch's own outputs over 200 steps from a
// non-zero initial state. Imported, encoded, decoded and stepped through the session from
// that state, on both kernel paths, the outputs match PyTorch to 1e-5 at every step.
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '../../src/model/index.js';
import { createSession, type KernelChoice } from '../../src/runtime/session.js';
import { importFixture, loadOnnxFixtures } from './onnx-fixture.js';

const TOLERANCE = 1e-5;
const fixtures = loadOnnxFixtures();

it('has the fixtures (regenerate with /usr/bin/python3 scripts/python/make-onnx-fixtures.py)', () => {
  const kinds = new Set(fixtures.map((f) => `${f.cell}/${f.activation ?? ''}/${f.numLayers}`));
  for (const k of ['lstm//1', 'lstm//2', 'gru//1', 'gru//2', 'rnn/tanh/2', 'rnn/relu/1']) expect(kinds).toContain(k);
  expect(fixtures.some((f) => f.hiddenSize === 1)).toBe(true);
  expect(fixtures.some((f) => f.hiddenSize % 4 !== 0 && f.hiddenSize > 1)).toBe(true);
  expect(fixtures.some((f) => f.lastStep)).toBe(true); // the Gather + Gemm head
  expect(fixtures.some((f) => f.name.endsWith('no-state-input'))).toBe(true); // torch's own zero state (Shape -> ConstantOfShape)
  expect(fixtures.some((f) => f.batchFirst) && fixtures.some((f) => !f.batchFirst)).toBe(true);
  for (const f of fixtures) expect(f.steps).toBeGreaterThanOrEqual(200);
});

describe.each(fixtures.flatMap((fx) => (['js', 'wasm'] as KernelChoice[]).map((k) => [fx.name, k, fx] as const)))('%s on %s kernels', (_n, kernels, fx) => {
  it(`imports and matches torch ${fx.torch} within ${TOLERANCE} over ${fx.steps} steps from a non-zero state`, () => {
    const { model } = importFixture(fx);
    expect(model.layers.filter((l) => l.type !== 'dense').length).toBe(fx.numLayers);
    expect(model.task).toBe(fx.task);
    const session = createSession(decodeModel(encodeModel(model)), { kernels });
    const state = session.createState();
    fx.h0.forEach((h, k) => state.h[k].set(h));
    fx.c0?.forEach((c, k) => state.c[k]!.set(c));
    let worst = 0;
    fx.inputs.forEach((x, t) => {
      const y = session.step(state, x);
      expect(y.length).toBe(fx.expected[t].length);
      for (let o = 0; o < y.length; o++) worst = Math.max(worst, Math.abs(y[o] - fx.expected[t][o]));
    });
    expect(worst).toBeLessThanOrEqual(TOLERANCE);
  });
});

it('a gate order mix-up would be seen: the fixtures are sensitive to every gate', () => {
  // Swap the first two gate blocks of an LSTM's wIh (i <-> f): the outputs must move by far more than the tolerance.
  const fx = fixtures.find((f) => f.cell === 'lstm' && f.hiddenSize > 1)!;
  const { model } = importFixture(fx);
  const l = model.layers[0];
  if (l.type === 'dense') throw new Error('expected a recurrent first layer');
  const H = l.hiddenSize, I = l.inputSize;
  const w = l.wIh.data as Float32Array;
  const i = w.slice(0, H * I);
  w.copyWithin(0, H * I, 2 * H * I);
  w.set(i, H * I);
  const session = createSession(model, { kernels: 'js' });
  const state = session.createState();
  fx.h0.forEach((h, k) => state.h[k].set(h));
  fx.c0?.forEach((c, k) => state.c[k]!.set(c));
  let worst = 0;
  fx.inputs.forEach((x, t) => {
    const y = session.step(state, x);
    for (let o = 0; o < y.length; o++) worst = Math.max(worst, Math.abs(y[o] - fx.expected[t][o]));
  });
  expect(worst).toBeGreaterThan(1e-3);
});
