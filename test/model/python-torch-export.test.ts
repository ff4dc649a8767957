// scripts/python/torch_export.py writes a PyTorch nn.GRU (2 layers) + Linear/Tanh/Linear head
// straight to format v1, without ONNX; committed with PyTorch's own float64 outputs over 200
// raw readings from a non-zero state. Decoded here and stepped from that state, it matches to
// 1e-5 in the network's units (outputs are de-normalised with std up to 4).
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { decodeModel } from '../../src/model/index.js';
import { createSession } from '../../src/runtime/index.js';
import { isWindowSession } from '../../src/runtime/session-window.js';

const dir = new URL('../fixtures/python/', import.meta.url);
const expected = JSON.parse(readFileSync(new URL('torch-gru.expected.json', dir), 'utf8')) as {
  inputs: number[][]; h0: number[][]; outputs: number[][]; finalH: number[][];
};

it('a model written by torch_export.py runs to PyTorch (regenerate: /usr/bin/python3 scripts/python/torch_export.py)', () => {
  const model = decodeModel(new Uint8Array(readFileSync(new URL('torch-gru.msgpack', dir))));
  expect(model.layers.map((l) => `${l.type}${l.type === 'dense' ? `:${l.activation}` : ''}`)).toEqual(['gru', 'gru', 'dense:tanh', 'dense:linear']);
  expect(model.meta?.trainedWith).toMatch(/^pytorch 1\.13/);
  const std = Array.from(model.outputs.std!.data);
  const session = createSession(model);
  const state = session.createState();
  expected.h0.forEach((h, k) => state.h[k].set(h));
  expect(expected.inputs.length).toBeGreaterThanOrEqual(200);
  let worst = 0;
  expected.inputs.forEach((x, t) => {
    const y = session.step(state, x);
    y.forEach((v, o) => { worst = Math.max(worst, Math.abs(v - expected.outputs[t][o]) / std[o]); });
  });
  expect(worst).toBeLessThanOrEqual(1e-5);
  expected.finalH.forEach((h, k) => h.forEach((v, j) => expect(Math.abs(state.h[k][j] - v)).toBeLessThanOrEqual(1e-5)));
});

it('a windowed bidirectional LSTM written by torch_export.py (h_n of both directions: pool last) runs to PyTorch at every window', () => {
  const w = JSON.parse(readFileSync(new URL('torch-bilstm-window.expected.json', dir), 'utf8')) as { inputs: number[][]; ends: number[]; outputs: number[][] };
  const model = decodeModel(new Uint8Array(readFileSync(new URL('torch-bilstm-window.msgpack', dir))));
  expect(model.window).toEqual({ size: 8, hop: 3 });
  expect(model.outputs.from).toBe('last');
  expect(model.layers.map((l) => (l.type === 'dense' ? 'dense' : `${l.type}:${l.direction}:${l.inputSize}`))).toEqual(['lstm:bidirectional:2', 'lstm:bidirectional:8', 'dense']);
  for (const kernels of ['js', 'wasm'] as const) {
    const session = createSession(model, { kernels });
    if (!isWindowSession(session)) throw new Error('expected a windowed session');
    const state = session.createState();
    const y = new Float32Array(session.outputSize);
    const ends: number[] = [];
    let worst = 0;
    w.inputs.forEach((x, t) => {
      if (!session.window.push(state, x, t, y)) return;
      y.forEach((v, o) => { worst = Math.max(worst, Math.abs(v - w.outputs[ends.length][o])); });
      ends.push(t);
    });
    expect(ends).toEqual(w.ends);
    expect(worst).toBeLessThanOrEqual(1e-5);
  }
});
