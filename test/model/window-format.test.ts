// Format v1's windowed-model fields (issue 19): `window`, `outputs.from`, a recurrent layer's
// `direction: "bidirectional"` with `reverse` weights. Round trips, every refusal names its
// field, files without the fields decode exactly as before, the plan's shapes, and int8
// quantization of the reverse weights.
import { readFileSync } from 'node:fs';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  decodeModel, encodeModel, modelToWire, ModelFormatError, outputSize, parameterCount, planModel, type Model, type TensorI8,
} from '../../src/model/index.js';
import { dequantizeModel, layerF32Bytes, layerWeightBytes, quantizeModel } from '../../src/model/quantize.js';
import {
  bidirectional, classification, dense, plain, recurrent, regression, smallWindowedBiGru, windowed,
} from './model-builders.js';

const packr = new Packr({ useRecords: false });
type Wire = Record<string, any>;

// bi-LSTM(3→4, out 8) → bi-GRU(8→5, out 10) → dense linear(10→2); window 12 hop 3, mean.
const stack = (): Model => windowed(regression([
  bidirectional('lstm', 3, 4, 1), bidirectional('gru', 8, 5, 2), dense(10, 2, 'linear', 3),
]), 12, 3, 'mean');

function bad(edit: (w: Wire) => void, model: Model = stack()): Uint8Array {
  const w = modelToWire(model) as Wire;
  edit(w);
  return packr.pack(w);
}

function expectRefused(bytes: Uint8Array, field: string, message: RegExp): void {
  let caught: unknown;
  try {
    decodeModel(bytes);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ModelFormatError);
  const e = caught as ModelFormatError;
  expect(e.field).toBe(field);
  expect(e.message).toMatch(message);
  expect(e.message.startsWith(`${field}: `)).toBe(true);
}

describe('windowed bidirectional models round-trip', () => {
  it('decode(encode(m)) is m, bit for bit, and re-encodes to the same bytes', () => {
    for (const m of [stack(), smallWindowedBiGru()]) {
      const bytes = encodeModel(m);
      const back = decodeModel(bytes);
      expect(plain(back)).toEqual(plain(m));
      expect(Buffer.from(encodeModel(back)).equals(Buffer.from(bytes))).toBe(true);
    }
  });

  it('writes the fields where the format says: layer direction + reverse map, top-level window, outputs.from', () => {
    const w = modelToWire(stack()) as Wire;
    expect(w.window).toEqual({ size: 12, hop: 3 });
    expect(w.outputs.from).toBe('mean');
    expect(w.layers[0].direction).toBe('bidirectional');
    expect(Object.keys(w.layers[0].reverse)).toEqual(['wIh', 'wHh', 'bIh', 'bHh']);
    expect(w.layers[0].reverse.wIh.shape).toEqual([16, 3]);
    expect(w.layers[1].reverse.wHh.shape).toEqual([15, 5]);
    expect(w.layers[2].direction).toBeUndefined();
  });

  it('a windowed forward-only model (sequence classification) is valid too; "forward" may be written out', () => {
    const m = windowed(classification([recurrent('lstm', 3, 4, 1), dense(4, 2, 'softmax', 2)], ['a', 'b']), 5, 5, 'last');
    expect(decodeModel(encodeModel(m)).window).toEqual({ size: 5, hop: 5 });
    const explicit = decodeModel(bad((w) => (w.layers[0].direction = 'forward'), m));
    expect((explicit.layers[0] as { direction?: string }).direction).toBe('forward');
  });

  it('counts both directions: outputSize 2H, parameterCount', () => {
    const m = stack();
    const perDir = (G: number, I: number, H: number) => G * H * I + G * H * H + 2 * G * H;
    expect(outputSize(windowed(regression([bidirectional('gru', 3, 4, 1)]), 4, 1))).toBe(8);
    expect(parameterCount(m)).toBe(2 * perDir(4, 3, 4) + 2 * perDir(3, 8, 5) + 10 * 2 + 2);
  });
});

describe('files without the fields decode as before', () => {
  it.each(['mote-events', 'mote-forecaster', 'mote-events.int8', 'example-lstm'])('models/%s.msgpack: no window, no direction, same bytes back', (name) => {
    const bytes = readFileSync(`models/${name}.msgpack`);
    const m = decodeModel(bytes);
    expect(m.window).toBeUndefined();
    expect(m.outputs.from).toBeUndefined();
    for (const l of m.layers) if (l.type !== 'dense') expect([l.direction, l.reverse]).toEqual([undefined, undefined]);
    expect(planModel(m).window).toBeNull();
    expect(Buffer.from(encodeModel(m)).equals(bytes)).toBe(true);
  });
});

describe('refusals name the field', () => {
  it('direction: unknown value', () => expectRefused(bad((w) => (w.layers[0].direction = 'both')), 'layers[0].direction', /unknown value "both".*forward, bidirectional/));
  it('reverse weights without direction "bidirectional"', () => {
    expectRefused(bad((w) => delete w.layers[0].direction), 'layers[0].reverse', /only a layer with direction "bidirectional"/);
    expectRefused(bad((w) => (w.layers[1].direction = 'forward')), 'layers[1].reverse', /only a layer with direction "bidirectional"/);
  });
  it('bidirectional without a window', () => {
    expectRefused(bad((w) => { delete w.window; delete w.outputs.from; }), 'layers[0].direction', /needs a top-level window/);
  });
  it('bidirectional without reverse weights', () => expectRefused(bad((w) => delete w.layers[0].reverse), 'layers[0].reverse', /missing.*reverse direction/));
  it('reverse is not a map', () => expectRefused(bad((w) => (w.layers[0].reverse = [1])), 'layers[0].reverse', /expected a map, got an array/));
  it('a reverse tensor missing or of the wrong shape', () => {
    expectRefused(bad((w) => delete w.layers[1].reverse.bHh), 'layers[1].reverse.bHh', /missing/);
    expectRefused(bad((w) => (w.layers[0].reverse.wIh = w.layers[0].reverse.wHh)), 'layers[0].reverse.wIh.shape', /\[16, 4\].*expected \[16, 3\]/);
  });
  it('a reverse tensor with a non-finite value', () => {
    expectRefused(bad((w) => {
      const t = w.layers[0].reverse.bIh;
      const data = Uint8Array.from(t.data);
      new DataView(data.buffer).setFloat32(8, NaN, true);
      t.data = data;
    }), 'layers[0].reverse.bIh.data', /non-finite value NaN at index 2/);
  });
  it('the layer after a bidirectional one reads 2H', () => {
    expectRefused(bad((w) => (w.layers[1].inputSize = 4)), 'layers[1].inputSize', /4 does not match the 8 values/);
    expectRefused(bad((w) => (w.layers[2].inputSize = 5)), 'layers[2].inputSize', /5 does not match the 10 values/);
  });
  it('regression names count the 2H outputs of a bidirectional last layer', () => {
    const m = windowed(regression([bidirectional('rnn', 2, 3, 4)]), 4, 2);
    expect(m.outputs.names).toHaveLength(6);
    expectRefused(bad((w) => (w.outputs.names = w.outputs.names.slice(0, 3)), m), 'outputs.names', /3 names for 6 outputs/);
  });
  it('window: not a map, size and hop not positive integers, size too large, hop above size', () => {
    expectRefused(bad((w) => (w.window = 12)), 'window', /expected a map, got number 12/);
    expectRefused(bad((w) => delete w.window.size), 'window.size', /missing/);
    expectRefused(bad((w) => (w.window.size = 0)), 'window.size', /positive integer/);
    expectRefused(bad((w) => (w.window.size = 4097)), 'window.size', /4097 readings is more than the 4096/);
    expectRefused(bad((w) => (w.window.hop = 2.5)), 'window.hop', /positive integer, got number 2.5/);
    expectRefused(bad((w) => (w.window.hop = 13)), 'window.hop', /13 is larger than window.size 12/);
  });
  it('outputs.from: missing with a window, unknown value, given without a window', () => {
    expectRefused(bad((w) => delete w.outputs.from), 'outputs.from', /missing.*"last" or "mean"/);
    expectRefused(bad((w) => (w.outputs.from = 'first')), 'outputs.from', /unknown value "first"/);
    const causal = regression([recurrent('lstm', 3, 4, 1)]);
    expectRefused(bad((w) => (w.outputs.from = 'last'), causal), 'outputs.from', /only a windowed model/);
  });
  it('residual and anomaly outputs are per-reading things, refused on a windowed model', () => {
    expectRefused(bad((w) => (w.outputs.residual = false)), 'outputs.residual', /windowed model/);
    expectRefused(bad((w) => (w.outputs.anomaly = { rmse: w.outputs.mean, threshold: 3 })), 'outputs.anomaly', /windowed model/);
  });
  it('encodeModel refuses an in-memory model whose direction and reverse disagree', () => {
    const m = stack();
    const l0 = m.layers[0] as ReturnType<typeof bidirectional>;
    const broken: Model = { ...m, layers: [{ ...l0, reverse: undefined }, ...m.layers.slice(1)] };
    expect(() => encodeModel(broken)).toThrow(/layers\[0\]\.reverse: missing/);
  });
});

describe('the plan of a windowed bidirectional model', () => {
  it('gives each layer its output width, its reverse cell and the window facts', () => {
    const m = stack();
    const p = planModel(m);
    expect(p.recurrent.map((r) => r.outputSize)).toEqual([8, 10]);
    expect(p.recurrent.map((r) => r.inputSize)).toEqual([3, 8]);
    const rev = p.recurrent[0].reverse!;
    const l0 = m.layers[0] as ReturnType<typeof bidirectional>;
    expect(rev.wIh).toBe(l0.reverse!.wIh);
    expect(rev.bHh).toBe(l0.reverse!.bHh);
    expect([rev.type, rev.inputSize, rev.hiddenSize, rev.direction, rev.reverse]).toEqual(['lstm', 3, 4, undefined, undefined]);
    expect(p.window).toEqual({ size: 12, hop: 3, from: 'mean', seqWidth: 10, reducedSize: 10, maxHidden: 5 });
    expect(p.outputSize).toBe(2);
    expect(p.shapeKey).toBe('lstm:4x2,gru:5x2,window:12');
  });

  it('keeps the per-reading plan of a forward-only layer unchanged (no reverse) and an RNN reverse keeps its activation', () => {
    const m = windowed(regression([recurrent('gru', 3, 4, 1), bidirectional('rnn', 4, 2, 2, { activation: 'relu' })]), 3, 1, 'last');
    const p = planModel(m);
    expect(p.recurrent[0].reverse).toBeNull();
    expect(p.recurrent[1].reverse).toMatchObject({ type: 'rnn', activation: 'relu', hiddenSize: 2 });
    expect(p.window?.seqWidth).toBe(4);
    expect(p.shapeKey).toBe('gru:4,rnn:2x2,window:3');
  });
});

describe('int8 quantization of reverse weights', () => {
  it('quantizes both directions per row and dequantizes within half a step', () => {
    const m = stack();
    const q = quantizeModel(m);
    for (let k = 0; k < 2; k++) {
      const l = m.layers[k] as ReturnType<typeof bidirectional>;
      const ql = q.layers[k] as ReturnType<typeof bidirectional>;
      for (const key of ['wIh', 'wHh'] as const) {
        const t = ql.reverse![key] as TensorI8;
        expect(t.dtype).toBe('i8');
        const f = l.reverse![key].data as Float32Array;
        const cols = t.shape[1];
        // In float64: the builders' awkward values include ±float32 max, whose q · scale overflows float32.
        for (let i = 0; i < f.length; i++) {
          const s = t.scale[Math.floor(i / cols)];
          expect(Math.abs(t.data[i] * s - f[i])).toBeLessThanOrEqual(s / 2 * (1 + 1e-6));
        }
        expect((dequantizeModel(q).layers[k] as ReturnType<typeof bidirectional>).reverse![key].dtype).toBe('f32');
      }
      expect(ql.reverse!.bIh).toBe(l.reverse!.bIh); // biases stay float32
    }
    const back = decodeModel(encodeModel(q));
    expect(plain(back)).toEqual(plain(q));
  });

  it('counts the reverse weights in the layer byte sizes', () => {
    const l = stack().layers[0];
    const G = 16, I = 3, H = 4;
    expect(layerF32Bytes(l)).toBe(2 * (G * I + G * H + 2 * G) * 4);
    const ql = quantizeModel(stack()).layers[0];
    expect(layerWeightBytes(ql)).toBe(2 * (G * I + G * H + 2 * G * 4 + 2 * G * 4));
  });

  it('quantizing only chosen layers leaves the others (and their reverse weights) float32', () => {
    const q = quantizeModel(stack(), { layers: [1] });
    expect((q.layers[0] as ReturnType<typeof bidirectional>).reverse!.wIh.dtype).toBe('f32');
    expect((q.layers[1] as ReturnType<typeof bidirectional>).reverse!.wIh.dtype).toBe('i8');
  });
});
