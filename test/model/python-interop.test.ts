// Language-neutral check: a model file written by a ~35-line Python script (stdlib + msgpack
// only, scripts/python/write_model.py) decodes here and predicts what a pure-Python float64
// LSTM computed from the DESIGN.md equations. CI does not run Python: the file and the expected
// outputs are committed. To regenerate them (Debian: apt-get install python3-msgpack):
//     python3 scripts/python/write_model.py test/fixtures/python
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '../../src/model/index.js';
import { createSession } from '../../src/runtime/index.js';

const dir = new URL('../fixtures/python/', import.meta.url);
const bytes = new Uint8Array(readFileSync(new URL('lstm-from-python.msgpack', dir)));
const expected = JSON.parse(readFileSync(new URL('lstm-from-python.expected.json', dir), 'utf8')) as {
  inputs: number[][];
  outputs: number[][];
  finalH: number[];
  finalC: number[];
};

// The generator's weights, recomputed here: vals(n, k)[i] = f32(0.6 sin(1.3k + 0.77i + 0.1i²)).
const vals = (n: number, k: number): number[] => Array.from({ length: n }, (_, i) => Math.fround(0.6 * Math.sin(1.3 * k + 0.77 * i + 0.1 * i * i)));

describe('a model file written by Python', () => {
  const model = decodeModel(bytes);

  it('decodes with every field the script wrote', () => {
    expect(model.name).toBe('from-python');
    expect(model.modelVersion).toBe(7);
    expect(model.task).toBe('regression');
    expect(model.inputs.names).toEqual(['temperature', 'humidity']);
    expect(Array.from(model.inputs.mean.data)).toEqual([20, 50]);
    expect(Array.from(model.inputs.std.data)).toEqual([4, 8]);
    expect(model.outputs).toMatchObject({ names: ['temperature', 'humidity'], horizon: 1 });
    expect(Array.from(model.outputs.std!.data)).toEqual([2.5, 6]);
    expect(model.meta).toEqual({ trainedWith: 'scripts/python/write_model.py', license: 'MIT' });
    expect(model.layers.map((l) => l.type)).toEqual(['lstm', 'dense']);
    const [lstm, dense] = model.layers;
    if (lstm.type !== 'lstm' || dense.type !== 'dense') throw new Error('layer types');
    expect(lstm.wIh.shape).toEqual([12, 2]);
    expect(lstm.wHh.shape).toEqual([12, 3]);
    // Little-endian float32 from struct.pack('<f'): element by element, within float64 sin's ulp.
    const checks: [Float32Array, number][] = [[lstm.wIh.data as Float32Array, 1], [lstm.wHh.data as Float32Array, 2], [lstm.bIh.data, 3], [lstm.bHh.data, 4], [dense.w.data as Float32Array, 5], [dense.b.data, 6]];
    for (const [data, k] of checks) {
      const want = vals(data.length, k);
      data.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-7));
    }
  });

  it('predicts the pure-Python float64 LSTM outputs within 1e-5', () => {
    const session = createSession(model);
    const state = session.createState();
    expect(expected.inputs.length).toBeGreaterThanOrEqual(5);
    expected.inputs.forEach((x, t) => {
      const y = session.step(state, x);
      expected.outputs[t].forEach((want, k) => expect(Math.abs(y[k] - want), `step ${t} output ${k}`).toBeLessThanOrEqual(1e-5));
    });
    expected.finalH.forEach((want, j) => expect(Math.abs(state.h[0][j] - want)).toBeLessThanOrEqual(1e-6));
    expected.finalC.forEach((want, j) => expect(Math.abs(state.c[0]![j] - want)).toBeLessThanOrEqual(1e-6));
  });

  it('re-encodes to the very bytes Python wrote (same canonical msgpack)', () => {
    expect(Buffer.from(encodeModel(model)).equals(Buffer.from(bytes))).toBe(true);
  });
});
