// The decoder and int8 tensors (issue 6): a file with a bad scale or a -128 is refused with
// an error that names the field; a good one decodes to exactly what was written.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeModel, ModelFormatError } from '../../src/model/index.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });

function f32Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

const f32 = (values: readonly number[]) => ({ dtype: 'f32', shape: [values.length], data: f32Bytes(values) });

/** An RNN (I=2, H=2) with an int8 dense head [1, 2], as a plain wire map built by hand. */
function wire(): any {
  return {
    format: 'edge-rnn', version: 1, name: 'int8-wire', modelVersion: 1, task: 'regression',
    inputs: { names: ['a', 'b'], mean: f32([0, 0]), std: f32([1, 1]) },
    outputs: { names: ['y'] },
    layers: [
      {
        type: 'rnn', inputSize: 2, hiddenSize: 2, activation: 'tanh',
        wIh: { dtype: 'i8', shape: [2, 2], data: Uint8Array.of(1, 0xff, 127, 0x81), scale: f32([0.5, 0.25]) }, // 1, -1, 127, -127
        wHh: { dtype: 'f32', shape: [2, 2], data: f32Bytes([0.1, 0.2, 0.3, 0.4]) },
        bIh: f32([0, 0]), bHh: f32([0, 0]),
      },
      {
        type: 'dense', inputSize: 2, outputSize: 1, activation: 'linear',
        w: { dtype: 'i8', shape: [1, 2], data: Uint8Array.of(3, 0xfd), scale: f32([0.125]) }, // 3, -3
        b: f32([0.5]),
      },
    ],
  };
}

function decodeError(mutate: (w: any) => void): ModelFormatError {
  const w = wire();
  mutate(w);
  try {
    decodeModel(packr.pack(w));
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    return e as ModelFormatError;
  }
  throw new Error('decoded a model that should have been refused');
}

describe('decoding int8 tensors', () => {
  it('decodes a valid int8 tensor to its values and scales', () => {
    const m = decodeModel(packr.pack(wire()));
    const l0 = m.layers[0], l1 = m.layers[1];
    if (l0.type === 'dense' || l1.type !== 'dense') throw new Error('layer types');
    expect(l0.wIh.dtype).toBe('i8');
    if (l0.wIh.dtype !== 'i8' || l1.w.dtype !== 'i8') throw new Error('dtype');
    expect(Array.from(l0.wIh.data)).toEqual([1, -1, 127, -127]);
    expect(Array.from(l0.wIh.scale)).toEqual([0.5, 0.25]);
    expect(Array.from(l1.w.data)).toEqual([3, -3]);
    expect(l0.wHh.dtype).toBe('f32');
  });

  const bad: [string, (w: any) => void, RegExp][] = [
    ['a missing scale', (w) => delete w.layers[0].wIh.scale, /layers\[0\]\.wIh\.scale.*missing/],
    ['a scale with too few rows', (w) => (w.layers[0].wIh.scale = f32([0.5])), /layers\[0\]\.wIh\.scale/],
    ['a scale with too many rows', (w) => (w.layers[1].w.scale = f32([0.5, 0.5])), /layers\[1\]\.w\.scale/],
    ['a scale whose data does not match its shape', (w) => (w.layers[0].wIh.scale = { dtype: 'f32', shape: [2], data: f32Bytes([0.5]) }), /layers\[0\]\.wIh\.scale\.data/],
    ['a zero scale', (w) => (w.layers[0].wIh.scale = f32([0.5, 0])), /layers\[0\]\.wIh\.scale.*row 1/],
    ['a negative zero scale', (w) => (w.layers[0].wIh.scale = f32([-0, 0.5])), /layers\[0\]\.wIh\.scale.*row 0/],
    ['a negative scale', (w) => (w.layers[1].w.scale = f32([-0.125])), /layers\[1\]\.w\.scale.*row 0/],
    ['a NaN scale', (w) => (w.layers[0].wIh.scale = f32([NaN, 0.5])), /layers\[0\]\.wIh\.scale/],
    ['an infinite scale', (w) => (w.layers[0].wIh.scale = f32([0.5, Infinity])), /layers\[0\]\.wIh\.scale/],
    ['a -infinite scale', (w) => (w.layers[1].w.scale = f32([-Infinity])), /layers\[1\]\.w\.scale/],
    ['an int8 scale', (w) => (w.layers[0].wIh.scale = { dtype: 'i8', shape: [2], data: Uint8Array.of(1, 1) }), /layers\[0\]\.wIh\.scale\.dtype/],
    ['the value -128', (w) => (w.layers[0].wIh.data = Uint8Array.of(1, 0x80, 127, 0x81)), /layers\[0\]\.wIh\.data.*-128/],
    ['the value -128 in a dense head', (w) => (w.layers[1].w.data = Uint8Array.of(0x80, 0)), /layers\[1\]\.w\.data.*-128/],
    ['int8 data of the wrong length', (w) => (w.layers[0].wIh.data = Uint8Array.of(1, 2, 3)), /layers\[0\]\.wIh\.data/],
    ['an int8 bias', (w) => (w.layers[1].b = { dtype: 'i8', shape: [1], data: Uint8Array.of(1), scale: f32([1]) }), /layers\[1\]\.b\.dtype/],
  ];
  it.each(bad)('refuses %s, naming the field', (_what, mutate, message) => {
    expect(decodeError(mutate).message).toMatch(message);
  });
});
