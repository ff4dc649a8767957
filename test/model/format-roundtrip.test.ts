// Model format v1: what is encoded comes back bit for bit, the encoding is deterministic, and a
// decoded model owns its memory (no views into the caller's buffer).
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, modelToWire, type DenseActivation, type Model } from '../../src/model/index.js';
import { createSession } from '../../src/runtime/index.js';
import {
  classification, dense, f32, plain, recurrent, regression, smallInt8Gru, smallLstm, typedArrays,
} from './model-builders.js';

const DENSE_ACTIVATIONS: DenseActivation[] = ['linear', 'relu', 'tanh', 'sigmoid', 'softmax'];

const cases: [string, Model][] = [
  ['rnn tanh', regression([recurrent('rnn', 2, 5, 1, { activation: 'tanh' })])],
  ['rnn relu', regression([recurrent('rnn', 3, 4, 2, { activation: 'relu' }), dense(4, 1, 'linear', 3)])],
  ['lstm', regression([recurrent('lstm', 4, 6, 4), dense(6, 2, 'linear', 5)], { horizon: 3 })],
  ['gru', regression([recurrent('gru', 2, 7, 6), dense(7, 1, 'linear', 7)], { outMeanStd: false })],
  ['stacked lstm, gru, rnn + two dense', regression([
    recurrent('lstm', 3, 8, 10), recurrent('gru', 8, 5, 11), recurrent('rnn', 5, 4, 12, { activation: 'relu' }),
    dense(4, 6, 'relu', 13), dense(6, 2, 'tanh', 14),
  ], { horizon: 1 })],
  ...DENSE_ACTIVATIONS.map((act, k): [string, Model] => [
    `dense head ${act}`,
    act === 'softmax'
      ? classification([recurrent('gru', 2, 4, 20 + k), dense(4, 3, 'softmax', 30 + k)], ['a', 'b', 'c'])
      : regression([recurrent('lstm', 2, 4, 20 + k), dense(4, 3, act, 30 + k)]),
  ]),
  ['classification, stacked', classification(
    [recurrent('lstm', 4, 6, 40), recurrent('lstm', 6, 6, 41), dense(6, 5, 'relu', 42), dense(5, 4, 'softmax', 43)],
    ['idle', 'walk', 'run', 'fall'],
  )],
  ['regression with meta', regression([recurrent('rnn', 2, 3, 50), dense(3, 2, 'sigmoid', 51)], {
    meta: {
      created: '2026-11-26T11:34:10Z', dataset: 'suthaharan-single-hop', trainedWith: 'edge-rnn 0.1.0',
      metrics: { mae: 0.125, rmse: 0.5, perOutput: [0.25, -1.5] }, license: 'CC-BY-4.0',
      epochs: 40, shuffled: true, notes: null, tags: ['mote', 'temperature'],
    },
  })],
  ['int8 lstm + int8 dense', regression([recurrent('lstm', 3, 4, 60, { int8: true }), dense(4, 2, 'linear', 61, true)])],
  ['int8 gru classifier', smallInt8Gru()],
  ['mixed int8 / f32 layers', regression([recurrent('gru', 2, 5, 70, { int8: true }), recurrent('rnn', 5, 3, 71), dense(3, 1, 'linear', 72, true)])],
];

describe('model format v1 round trip', () => {
  it.each(cases)('%s: every field and tensor value survives exactly', (_, model) => {
    const back = decodeModel(encodeModel(model));
    expect(plain(back)).toStrictEqual(plain(model));
    // plain() compares values; also pin the element types the runtime relies on.
    for (const [k, layer] of back.layers.entries()) {
      const orig = model.layers[k];
      const pairs = layer.type === 'dense' ? [[layer.w, (orig as typeof layer).w]] : [[layer.wIh, (orig as typeof layer).wIh], [layer.wHh, (orig as typeof layer).wHh]];
      for (const [got, want] of pairs) {
        expect(got.dtype).toBe(want.dtype);
        expect(got.data).toBeInstanceOf(want.dtype === 'i8' ? Int8Array : Float32Array);
        if (got.dtype === 'i8') expect(got.scale).toBeInstanceOf(Float32Array);
      }
    }
  });

  it.each(cases)('%s: equal models give equal bytes, and re-encoding a decoded model is byte-identical', (_, model) => {
    const a = encodeModel(model);
    const clone = decodeModel(encodeModel(model)); // a separate object graph with equal content
    const b = encodeModel(clone);
    expect(Buffer.from(b).equals(Buffer.from(a))).toBe(true);
    expect(Buffer.from(encodeModel(model)).equals(Buffer.from(a))).toBe(true);
  });

  it('keeps the awkward float32 values (-0, subnormals, ±max) bit for bit', () => {
    const model = regression([recurrent('lstm', 2, 4, 80)]);
    const w = (model.layers[0] as { wHh: { data: Float32Array } }).wHh.data;
    expect(w.some((v) => Object.is(v, -0))).toBe(true); // the builder did put them in
    const back = decodeModel(encodeModel(model)).layers[0] as { wHh: { data: Float32Array } };
    expect(Array.from(new Uint32Array(back.wHh.data.buffer, back.wHh.data.byteOffset, back.wHh.data.length)))
      .toEqual(Array.from(new Uint32Array(w.buffer, w.byteOffset, w.length)));
  });

  it('writes the documented wire layout: plain maps, little-endian f32 and raw i8 bins', () => {
    const model = regression([recurrent('lstm', 3, 4, 90, { int8: true }), dense(4, 2, 'linear', 91)], { horizon: 2 });
    const raw = new Unpackr({ useRecords: false, mapsAsObjects: true }).unpack(encodeModel(model)) as Record<string, any>;
    expect(Object.keys(raw)).toEqual(['format', 'version', 'name', 'modelVersion', 'task', 'inputs', 'outputs', 'layers']);
    expect(raw.format).toBe('edge-rnn');
    expect(raw.version).toBe(1);
    expect(raw.outputs.horizon).toBe(2);
    const lstm = model.layers[0] as { wIh: { data: Int8Array; scale: Float32Array } };
    expect(raw.layers[0].wIh.dtype).toBe('i8');
    expect(raw.layers[0].wIh.shape).toEqual([16, 3]);
    expect(Array.from(new Int8Array(raw.layers[0].wIh.data.buffer, raw.layers[0].wIh.data.byteOffset, 48))).toEqual(Array.from(lstm.wIh.data));
    const scaleBytes: Uint8Array = raw.layers[0].wIh.scale.data;
    const scaleView = new DataView(scaleBytes.buffer, scaleBytes.byteOffset, scaleBytes.byteLength);
    expect(scaleBytes.byteLength).toBe(16 * 4);
    for (let r = 0; r < 16; r++) expect(scaleView.getFloat32(r * 4, true)).toBe(lstm.wIh.scale[r]);
    const b: Uint8Array = raw.layers[1].b.data;
    const want = (model.layers[1] as { b: { data: Float32Array } }).b.data;
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    expect(b.byteLength).toBe(8);
    expect([view.getFloat32(0, true), view.getFloat32(4, true)]).toEqual(Array.from(want));
  });

  it('the decoder copies bins: decoded arrays do not alias the input, and mutating the input changes nothing', () => {
    const withBlob = { ...smallLstm(), meta: { calibration: new Uint8Array([1, 2, 3, 4, 5]) } };
    for (const model of [smallLstm(), smallInt8Gru(), withBlob]) {
      const bytes = encodeModel(model);
      const input = new Uint8Array(bytes); // our own buffer, so the test owns what it mutates
      const back = decodeModel(input);
      const arrays = typedArrays(back);
      expect(arrays.length).toBeGreaterThan(6);
      for (const { path, array } of arrays) expect(array.buffer, path).not.toBe(input.buffer);
      if (model === withBlob) expect((back.meta!.calibration as Uint8Array).buffer).not.toBe(input.buffer);
      const before = plain(back);
      input.fill(0xff);
      expect(plain(back)).toStrictEqual(before);
      expect(plain(back)).toStrictEqual(plain(model));
    }
  });

  it('encoding does not keep references to the model arrays, and a later encode does not overwrite earlier bytes', () => {
    const model = smallLstm();
    const bytes = encodeModel(model);
    const copy = Uint8Array.from(bytes);
    (model.layers[0] as { wIh: { data: Float32Array } }).wIh.data.fill(7);
    encodeModel(smallInt8Gru());
    encodeModel(model);
    expect(Buffer.from(bytes).equals(Buffer.from(copy))).toBe(true);
  });

  it('reads integers that another writer stored as int64 / uint64', () => {
    // msgpackr packs BigInt as 64-bit ints (0xcf / 0xd3), as some writers in other languages do.
    const model = regression([recurrent('lstm', 2, 3, 110), dense(3, 1, 'linear', 111)], { horizon: 4 });
    const w = modelToWire(model) as Record<string, any>;
    Object.assign(w, { version: 1n, modelVersion: 3n });
    Object.assign(w.layers[0], { inputSize: 2n, hiddenSize: 3n });
    w.layers[0].wIh.shape = [12n, 2n];
    w.outputs.horizon = 4n;
    w.meta = { epochs: 40n, seed: 2n ** 63n + 5n };
    const bytes = new Packr({ useRecords: false }).pack(w);
    expect(Buffer.from(bytes).includes(0xcf)).toBe(true);
    const back = decodeModel(bytes);
    expect(back.version).toBe(1);
    expect(back.modelVersion).toBe(3);
    expect(back.outputs.horizon).toBe(4);
    expect(back.meta).toEqual({ epochs: 40, seed: 2n ** 63n + 5n }); // beyond 2^53 stays exact, as BigInt
    expect(plain({ ...back, meta: undefined })).toStrictEqual(plain({ ...model, modelVersion: 3 }));
  });

  it('keeps a meta timestamp (the standard msgpack timestamp extension)', () => {
    const created = new Date('2026-11-26T11:34:10.250Z');
    const back = decodeModel(encodeModel(regression([recurrent('gru', 2, 3, 120)], { meta: { created } })));
    expect(back.meta?.created).toEqual(created);
  });

  it('decodes from a Uint8Array at an odd byte offset (bins unaligned for Float32Array)', () => {
    const model = smallLstm();
    const bytes = encodeModel(model);
    const big = new Uint8Array(bytes.length + 3);
    big.set(bytes, 3);
    expect(plain(decodeModel(big.subarray(3)))).toStrictEqual(plain(model));
  });

  it('a decoded model steps exactly like the original', () => {
    for (const model of [cases[4][1], smallInt8Gru()]) {
      const a = createSession(model);
      const b = createSession(decodeModel(encodeModel(model)));
      const sa = a.createState();
      const sb = b.createState();
      const x = f32([a.inputSize], 5, 20).data;
      for (let t = 0; t < 5; t++) {
        x[0] += 1;
        expect(Array.from(b.step(sb, x))).toEqual(Array.from(a.step(sa, x)));
      }
    }
  });

  it('keeps int8 data and scale exactly, including -127, 0 and 127', () => {
    const model = regression([recurrent('rnn', 5, 6, 95, { int8: true }), dense(6, 2, 'linear', 97, true)]);
    const back = decodeModel(encodeModel(model));
    const w = (back.layers[0] as { wIh: { data: Int8Array; scale: Float32Array } }).wIh;
    expect(w.data).toBeInstanceOf(Int8Array);
    expect(Array.from(w.data)).toEqual(expect.arrayContaining([-127, 0, 127]));
    expect(plain(back)).toStrictEqual(plain(model));
  });
});
