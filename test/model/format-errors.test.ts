// Model format v1: every malformed file is refused with a ModelFormatError whose `field` names
// where the problem is and whose message says what it is. Bad inputs are made by editing the
// wire object of a valid model and packing it as a plain msgpack map.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, modelToWire, ModelFormatError, type Model } from '../../src/model/index.js';
import { classification, dense, recurrent, regression } from './model-builders.js';

const packr = new Packr({ useRecords: false });
type Wire = Record<string, any>;

// lstm(3→4) → gru(4→5) → dense relu(5→3) → dense linear(3→2), regression with output mean/std.
const base = (): Model => regression([recurrent('lstm', 3, 4, 1), recurrent('gru', 4, 5, 2), dense(5, 3, 'relu', 3), dense(3, 2, 'linear', 4)]);
const int8Base = (): Model => regression([recurrent('lstm', 3, 4, 5, { int8: true }), dense(4, 2, 'linear', 6, true)]);
const classBase = (): Model => classification([recurrent('gru', 3, 4, 7), dense(4, 3, 'softmax', 8)], ['ok', 'drift', 'stuck']);

/** The wire object of `model`, edited by `edit`, as msgpack bytes. */
function bad(edit: (w: Wire) => void, model: Model = base()): Uint8Array {
  const w = modelToWire(model) as Wire;
  edit(w);
  return packr.pack(w);
}

function f32Bytes(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return out;
}

/** Set one float of a wire tensor's little-endian data. */
function setF32(tensor: Wire, index: number, value: number): void {
  const data = Uint8Array.from(tensor.data as Uint8Array);
  new DataView(data.buffer).setFloat32(index * 4, value, true);
  tensor.data = data;
}

function errorOf(run: () => unknown): ModelFormatError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    return e as ModelFormatError;
  }
  throw new Error('expected a ModelFormatError, but nothing was thrown');
}

function expectRefused(bytes: Uint8Array, field: string, message: RegExp): void {
  const e = errorOf(() => decodeModel(bytes));
  expect(e.field).toBe(field);
  expect(e.message).toMatch(message);
  expect(e.message.startsWith(field ? `${field}: ` : '')).toBe(true);
}

describe('model format v1 refuses malformed files', () => {
  it('the unedited base models decode (so every failure below comes from its edit)', () => {
    for (const m of [base(), int8Base(), classBase()]) expect(decodeModel(bad(() => {}, m)).name).toBe(m.name);
  });

  describe('bytes that are not one msgpack model map', () => {
    const good = encodeModel(base());
    it('not msgpack at all (an unknown extension type)', () => expectRefused(new Uint8Array([0xd4, 0x05, 0x00]), '', /not a valid msgpack document/));
    it('empty file', () => expectRefused(new Uint8Array(0), '', /truncated/));
    it('truncated file', () => {
      expectRefused(good.subarray(0, good.length - 9), '', /^truncated/);
      expectRefused(good.subarray(0, 40), '', /^truncated/);
    });
    it('trailing bytes after the map', () => {
      const e = errorOf(() => decodeModel(Buffer.concat([good, new Uint8Array([0x00])])));
      expect(e.field).toBe('');
      expect(e.message).toMatch(/trailing bytes/);
      expect(e.message).not.toMatch(/truncated/);
    });
    it('two models back to back', () => expectRefused(Buffer.concat([good, good]), '', /trailing bytes/));
    it('a list instead of a map', () => expectRefused(packr.pack([1, 2, 3]), '', /expected a map, got an array/));
    it('JSON text instead of msgpack', () => expectRefused(new TextEncoder().encode('{"format":"edge-rnn"}'), '', /trailing bytes|not a valid msgpack/));
  });

  describe('header', () => {
    it('wrong magic', () => expectRefused(bad((w) => (w.format = 'edge-cnn')), 'format', /not an edge-rnn model.*"edge-cnn"/));
    it('missing magic', () => expectRefused(bad((w) => delete w.format), 'format', /missing/));
    it('unknown version', () => expectRefused(bad((w) => (w.version = 2)), 'version', /unknown format version number 2/));
    it('version as a string', () => expectRefused(bad((w) => (w.version = '1')), 'version', /unknown format version "1"/));
    it('modelVersion not a positive integer', () => expectRefused(bad((w) => (w.modelVersion = 1.5)), 'modelVersion', /positive integer/));
    it('unknown task', () => expectRefused(bad((w) => (w.task = 'ranking')), 'task', /unknown value "ranking"/));
  });

  describe('missing fields', () => {
    const cases: [string, (w: Wire) => void, string][] = [
      ['name', (w) => delete w.name, 'name'],
      ['modelVersion', (w) => delete w.modelVersion, 'modelVersion'],
      ['task', (w) => delete w.task, 'task'],
      ['inputs', (w) => delete w.inputs, 'inputs'],
      ['inputs.names', (w) => delete w.inputs.names, 'inputs.names'],
      ['inputs.mean', (w) => delete w.inputs.mean, 'inputs.mean'],
      ['inputs.std', (w) => delete w.inputs.std, 'inputs.std'],
      ['outputs', (w) => delete w.outputs, 'outputs'],
      ['outputs.names', (w) => delete w.outputs.names, 'outputs.names'],
      ['layers', (w) => delete w.layers, 'layers'],
      ['layers[0].type', (w) => delete w.layers[0].type, 'layers[0].type'],
      ['layers[0].inputSize', (w) => delete w.layers[0].inputSize, 'layers[0].inputSize'],
      ['layers[0].hiddenSize', (w) => delete w.layers[0].hiddenSize, 'layers[0].hiddenSize'],
      ['layers[0].wHh', (w) => delete w.layers[0].wHh, 'layers[0].wHh'],
      ['layers[1].bIh', (w) => delete w.layers[1].bIh, 'layers[1].bIh'],
      ['layers[0].wIh.data', (w) => delete w.layers[0].wIh.data, 'layers[0].wIh.data'],
      ['layers[0].wIh.shape', (w) => delete w.layers[0].wIh.shape, 'layers[0].wIh.shape'],
      ['layers[0].wIh.dtype', (w) => delete w.layers[0].wIh.dtype, 'layers[0].wIh.dtype'],
      ['layers[2].outputSize', (w) => delete w.layers[2].outputSize, 'layers[2].outputSize'],
      ['layers[2].activation', (w) => delete w.layers[2].activation, 'layers[2].activation'],
      ['layers[3].w', (w) => delete w.layers[3].w, 'layers[3].w'],
      ['layers[3].b', (w) => delete w.layers[3].b, 'layers[3].b'],
      ['outputs.std (mean given)', (w) => delete w.outputs.std, 'outputs.std'],
      ['outputs.mean (std given)', (w) => delete w.outputs.mean, 'outputs.mean'],
      ['name set to nil', (w) => (w.name = undefined), 'name'],
    ];
    it.each(cases)('%s', (_, edit, field) => expectRefused(bad(edit), field, /missing/));
    it('rnn activation', () => {
      const m = regression([recurrent('rnn', 3, 4, 9)]);
      expectRefused(bad((w) => delete w.layers[0].activation, m), 'layers[0].activation', /missing/);
    });
  });

  describe('layers', () => {
    it('empty layer list', () => expectRefused(bad((w) => (w.layers = [])), 'layers', /non-empty list/));
    it('unknown layer type', () => expectRefused(bad((w) => (w.layers[1].type = 'transformer')), 'layers[1].type', /unknown value "transformer".*rnn, lstm, gru, dense/));
    it('unknown dense activation', () => expectRefused(bad((w) => (w.layers[2].activation = 'gelu')), 'layers[2].activation', /unknown value "gelu"/));
    it('unknown rnn activation', () => {
      const m = regression([recurrent('rnn', 3, 4, 9)]);
      expectRefused(bad((w) => (w.layers[0].activation = 'sigmoid'), m), 'layers[0].activation', /unknown value "sigmoid".*tanh, relu/);
    });
    it('dense as the first layer', () => {
      const m = regression([recurrent('rnn', 3, 3, 9)]);
      expectRefused(bad((w) => (w.layers = [(modelToWire(base()) as Wire).layers[2], ...w.layers]), m), 'layers[0].type', /first layer must be recurrent/);
    });
    it('recurrent after dense', () => {
      const m = regression([recurrent('lstm', 3, 4, 1), dense(4, 4, 'relu', 2), recurrent('gru', 4, 2, 3)]);
      expectRefused(bad(() => {}, m), 'layers[2].type', /recurrent layers must come before dense layers/);
    });
    it('inputSize not matching the previous hiddenSize', () => {
      // A self-consistent gru(6→5) after an lstm with hiddenSize 4.
      const m = regression([recurrent('lstm', 3, 4, 1), recurrent('gru', 6, 5, 2)]);
      expectRefused(bad(() => {}, m), 'layers[1].inputSize', /6 does not match the 4 values/);
    });
    it('first layer inputSize not matching the number of inputs', () => {
      expectRefused(bad((w) => (w.inputs.names = ['a', 'b'])), 'inputs.mean.shape', /\[3\] does not match.*\[2\]/);
    });
    it('dense inputSize not matching the previous layer', () => {
      const m = regression([recurrent('lstm', 3, 4, 1), dense(5, 2, 'linear', 2)]);
      expectRefused(bad(() => {}, m), 'layers[1].inputSize', /5 does not match the 4 values/);
    });
    it('hiddenSize not a positive integer', () => expectRefused(bad((w) => (w.layers[0].hiddenSize = 0)), 'layers[0].hiddenSize', /positive integer, got number 0/));
    it('a layer that is not a map', () => expectRefused(bad((w) => (w.layers[1] = 'gru')), 'layers[1]', /expected a map/));
  });

  describe('tensors', () => {
    it('shape not matching the layer', () => {
      // wHh of lstm(3→4) must be [16, 4]; give it a self-consistent [16, 5].
      expectRefused(bad((w) => {
        w.layers[0].wHh = { dtype: 'f32', shape: [16, 5], data: new Uint8Array(16 * 5 * 4) };
      }), 'layers[0].wHh.shape', /\[16, 5\] does not match the layer \(expected \[16, 4\]\)/);
    });
    it('transposed weight', () => expectRefused(bad((w) => (w.layers[3].w.shape = [3, 2])), 'layers[3].w.shape', /\[3, 2\] does not match the layer \(expected \[2, 3\]\)/));
    it('three-dimensional shape', () => expectRefused(bad((w) => (w.layers[0].bIh.shape = [2, 2, 4])), 'layers[0].bIh.shape', /expected \[rows, cols\] or \[n\]/));
    it('negative dimension', () => expectRefused(bad((w) => (w.layers[0].bIh.shape = [-16])), 'layers[0].bIh.shape[0]', /positive integer/));
    it('data shorter than the shape', () => expectRefused(
      bad((w) => (w.layers[0].wHh.data = w.layers[0].wHh.data.subarray(4))),
      'layers[0].wHh.data', /252 bytes, expected 256 for f32 shape \[16, 4\]/,
    ));
    it('data longer than the shape', () => expectRefused(
      bad((w) => (w.inputs.mean.data = f32Bytes([1, 2, 3, 4]))), 'inputs.mean.data', /16 bytes, expected 12/,
    ));
    it('data length not a multiple of 4', () => expectRefused(
      bad((w) => (w.layers[3].b.data = new Uint8Array(7))), 'layers[3].b.data', /7 bytes, expected 8/,
    ));
    it('data as a list of numbers instead of a bin', () => expectRefused(
      bad((w) => (w.layers[3].b.data = [0.5, 0.25])), 'layers[3].b.data', /expected binary data, got an array/,
    ));
    it('unknown dtype', () => expectRefused(bad((w) => (w.layers[0].wIh.dtype = 'f16')), 'layers[0].wIh.dtype', /unknown value "f16"/));
    it('int8 bias (biases are f32)', () => expectRefused(bad((w) => (w.layers[0].bIh.dtype = 'i8')), 'layers[0].bIh.dtype', /expected "f32"/));
    it('NaN weight', () => expectRefused(bad((w) => setF32(w.layers[1].wHh, 5, NaN)), 'layers[1].wHh.data', /non-finite value NaN at index 5/));
    it('Infinity weight', () => expectRefused(bad((w) => setF32(w.layers[3].w, 1, Infinity)), 'layers[3].w.data', /non-finite value Infinity at index 1/));
    it('-Infinity bias', () => expectRefused(bad((w) => setF32(w.layers[2].b, 2, -Infinity)), 'layers[2].b.data', /non-finite value -Infinity at index 2/));
    it('NaN input mean', () => expectRefused(bad((w) => setF32(w.inputs.mean, 0, NaN)), 'inputs.mean.data', /non-finite/));
    it('NaN output mean', () => expectRefused(bad((w) => setF32(w.outputs.mean, 1, NaN)), 'outputs.mean.data', /non-finite value NaN at index 1/));
  });

  describe('normalisation', () => {
    it('input std of zero', () => expectRefused(bad((w) => setF32(w.inputs.std, 1, 0)), 'inputs.std.data', /std\[1\] is 0, must be > 0/));
    it('negative input std', () => expectRefused(bad((w) => setF32(w.inputs.std, 2, -1)), 'inputs.std.data', /std\[2\] is -1, must be > 0/));
    it('output std of zero', () => expectRefused(bad((w) => setF32(w.outputs.std, 0, 0)), 'outputs.std.data', /std\[0\] is 0, must be > 0/));
    it('negative output std', () => expectRefused(bad((w) => setF32(w.outputs.std, 1, -0.5)), 'outputs.std.data', /std\[1\] is -0.5, must be > 0/));
    it('infinite input std', () => expectRefused(bad((w) => setF32(w.inputs.std, 0, Infinity)), 'inputs.std.data', /non-finite/));
    it('duplicate input names', () => expectRefused(bad((w) => (w.inputs.names = ['a', 'b', 'a'])), 'inputs.names', /duplicate name "a"/));
    it('output names not matching the output width', () => expectRefused(bad((w) => (w.outputs.names = ['y'])), 'outputs.names', /1 names for 2 outputs/));
    it('horizon not a positive integer', () => expectRefused(bad((w) => (w.outputs.horizon = -2)), 'outputs.horizon', /positive integer/));
  });

  describe('classification', () => {
    it('without labels', () => expectRefused(bad((w) => delete w.outputs.labels, classBase()), 'outputs.labels', /missing/));
    it('labels not matching the output width', () => expectRefused(bad((w) => (w.outputs.labels = ['ok', 'drift']), classBase()), 'outputs.labels', /2 labels for 3 output units/));
    it('without softmax', () => expectRefused(
      bad((w) => (w.layers[1].activation = 'sigmoid'), classBase()), 'layers[1].activation', /classification model must end in a dense layer with softmax/,
    ));
    it('ending in a recurrent layer', () => {
      const m = classification([recurrent('gru', 3, 3, 7)], ['a', 'b', 'c']);
      expectRefused(bad(() => {}, m), 'layers[0].type', /classification model must end in a dense layer with softmax/);
    });
    it('with output mean/std', () => expectRefused(bad((w) => (w.outputs.mean = (modelToWire(base()) as Wire).outputs.mean), classBase()), 'outputs.mean', /not de-normalised/));
    it('labels on a regression model', () => expectRefused(bad((w) => (w.outputs.labels = ['a', 'b'])), 'outputs.labels', /only classification/));
  });

  describe('int8 tensors', () => {
    const wIh = 'layers[0].wIh'; // lstm(3→4): [16, 3], scale [16]
    it('missing scale', () => expectRefused(bad((w) => delete w.layers[0].wIh.scale, int8Base()), `${wIh}.scale`, /missing/));
    it('scale with the wrong length (shape)', () => expectRefused(
      bad((w) => (w.layers[0].wIh.scale = { dtype: 'f32', shape: [15], data: new Uint8Array(60) }), int8Base()),
      `${wIh}.scale.shape`, /\[15\] does not match the layer \(expected \[16\]\)/,
    ));
    it('scale with the wrong length (data)', () => expectRefused(
      bad((w) => (w.layers[0].wIh.scale.data = w.layers[0].wIh.scale.data.subarray(0, 60)), int8Base()),
      `${wIh}.scale.data`, /60 bytes, expected 64/,
    ));
    it('zero scale', () => expectRefused(bad((w) => setF32(w.layers[0].wIh.scale, 3, 0), int8Base()), `${wIh}.scale`, /scale of row 3 is 0, must be > 0/));
    it('negative scale', () => expectRefused(bad((w) => setF32(w.layers[1].w.scale, 1, -0.01), int8Base()), 'layers[1].w.scale', /scale of row 1 is -0.0099\d*, must be > 0/));
    it('NaN scale', () => expectRefused(bad((w) => setF32(w.layers[0].wHh.scale, 0, NaN), int8Base()), 'layers[0].wHh.scale.data', /non-finite value NaN at index 0/));
    it('infinite scale', () => expectRefused(bad((w) => setF32(w.layers[0].wHh.scale, 2, Infinity), int8Base()), 'layers[0].wHh.scale.data', /non-finite value Infinity at index 2/));
    it('a value of -128', () => expectRefused(
      bad((w) => {
        const data = Uint8Array.from(w.layers[0].wIh.data as Uint8Array);
        data[7] = 0x80; // -128 as int8
        w.layers[0].wIh.data = data;
      }, int8Base()),
      `${wIh}.data`, /value -128 at index 7/,
    ));
    it('data length not matching the shape', () => expectRefused(
      bad((w) => (w.layers[0].wIh.data = new Uint8Array(47)), int8Base()), `${wIh}.data`, /47 bytes, expected 48 for i8 shape \[16, 3\]/,
    ));
    it('scale given as i8', () => expectRefused(bad((w) => (w.layers[0].wIh.scale.dtype = 'i8'), int8Base()), `${wIh}.scale.dtype`, /expected "f32"/));
  });

  describe('meta is plain msgpack data', () => {
    // moreTypes lets msgpackr write its own extensions, as a careless JS writer might.
    const extPackr = new Packr({ useRecords: false, moreTypes: true, structuredClone: true } as ConstructorParameters<typeof Packr>[0]);
    const withMeta = (meta: unknown): Uint8Array => {
      const w = modelToWire(base()) as Wire;
      w.meta = meta;
      return extPackr.pack(w);
    };
    it('meta that is not a map', () => expectRefused(withMeta(['a']), 'meta', /expected a map, got an array/));
    it('a Set (msgpackr extension)', () => expectRefused(withMeta({ tags: new Set(['a']) }), 'meta.tags', /expected plain data.*got Set/));
    it('a RegExp (msgpackr extension)', () => expectRefused(withMeta({ notes: [1, /x+/] }), 'meta.notes[1]', /got RegExp/));
    it('a BigInt beyond 64 bits (msgpackr extension)', () => expectRefused(withMeta({ n: 2n ** 70n }), 'meta.n', /got BigInt/));
    it('a self-referencing map (structured clone extension)', () => {
      const loop: Record<string, unknown> = { a: 1 };
      loop.self = loop;
      expect(() => decodeModel(withMeta({ loop }))).toThrow(ModelFormatError);
    });
    it('encodeModel refuses an in-memory cycle instead of overflowing the stack', () => {
      const loop: Record<string, unknown> = {};
      loop.self = loop;
      const e = errorOf(() => encodeModel({ ...base(), meta: { loop } }));
      expect(e.field).toMatch(/^meta\.loop(\.self)+$/);
      expect(e.message).toMatch(/nested more than 32 levels/);
    });
  });

  describe('encodeModel refuses an invalid in-memory model', () => {
    const expectEncodeRefused = (m: Model, field: string, message: RegExp): void => {
      const e = errorOf(() => encodeModel(m));
      expect(e.field).toBe(field);
      expect(e.message).toMatch(message);
    };
    it('NaN weight', () => {
      const m = base();
      (m.layers[0] as { wIh: { data: Float32Array } }).wIh.data[2] = NaN;
      expectEncodeRefused(m, 'layers[0].wIh.data', /non-finite value NaN at index 2/);
    });
    it('zero std', () => {
      const m = base();
      m.inputs.std.data[0] = 0;
      expectEncodeRefused(m, 'inputs.std.data', /must be > 0/);
    });
    it('data not matching its shape', () => {
      const m = base();
      const layers = [...m.layers];
      layers[3] = { ...(layers[3] as Extract<Model['layers'][number], { type: 'dense' }>), b: { dtype: 'f32', shape: [2], data: new Float32Array(3) } };
      expectEncodeRefused({ ...m, layers }, 'layers[3].b.data', /12 bytes, expected 8/);
    });
    it('int8 value -128 and zero scale', () => {
      const a = int8Base();
      (a.layers[0] as { wHh: { data: Int8Array } }).wHh.data[4] = -128;
      expectEncodeRefused(a, 'layers[0].wHh.data', /-128 at index 4/);
      const b = int8Base();
      (b.layers[1] as { w: { scale: Float32Array } }).w.scale[0] = 0;
      expectEncodeRefused(b, 'layers[1].w.scale', /row 0 is 0/);
    });
    it('mismatched layer sizes', () => {
      expectEncodeRefused(regression([recurrent('lstm', 3, 4, 1), recurrent('lstm', 5, 4, 2)]), 'layers[1].inputSize', /5 does not match the 4/);
    });
    it('horizon 0 (refused, not silently dropped)', () => {
      const m = base();
      expectEncodeRefused({ ...m, outputs: { ...m.outputs, horizon: 0 } }, 'outputs.horizon', /positive integer, got number 0/);
    });
    it('classification without softmax', () => {
      expectEncodeRefused(classification([recurrent('gru', 3, 4, 7), dense(4, 3, 'linear', 8)], ['a', 'b', 'c']), 'layers[1].activation', /softmax/);
    });
  });
});
