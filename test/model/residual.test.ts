// outputs.residual (model format v1, optional): a regression model whose outputs are changes
// from the current reading of the input with the same name. Round trip through the codec,
// the raw msgpack it writes, and every way the field can be wrong (each names the field).
import { Packr, Unpackr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, modelToWire, ModelFormatError, type Model } from '../../src/model/index.js';
import { classification, dense, plain, recurrent, regression } from './model-builders.js';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
type Wire = Record<string, any>;

/** Inputs temperature, humidity, light; outputs humidity, temperature (other order on purpose). */
function residualModel(residual: unknown = true): Model {
  const m = regression([recurrent('gru', 3, 4, 51), dense(4, 2, 'linear', 52)], { horizon: 12 });
  return { ...m, outputs: { ...m.outputs, names: ['humidity', 'temperature'], residual: residual as boolean } };
}

function wireOf(m: Model, edit: (w: Wire) => void = () => {}): Uint8Array {
  const w = modelToWire(m) as Wire;
  edit(w);
  return packr.pack(w);
}

function refusal(run: () => unknown): ModelFormatError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    return e as ModelFormatError;
  }
  throw new Error('expected a ModelFormatError, but nothing was thrown');
}

function expectRefused(run: () => unknown, message: RegExp): void {
  const e = refusal(run);
  expect(e.field).toBe('outputs.residual');
  expect(e.message.startsWith('outputs.residual: ')).toBe(true);
  expect(e.message).toMatch(message);
}

describe('outputs.residual round trip', () => {
  it('true survives encode/decode, is written as a msgpack boolean, and re-encodes to the same bytes', () => {
    const m = residualModel();
    const bytes = encodeModel(m);
    const raw = unpackr.unpack(bytes) as Wire;
    expect(raw.outputs.residual).toBe(true);
    const back = decodeModel(bytes);
    expect(back.outputs.residual).toBe(true);
    expect(back.outputs.names).toEqual(['humidity', 'temperature']);
    expect(plain(back)).toEqual(plain(m));
    expect(Buffer.from(encodeModel(back)).equals(Buffer.from(bytes))).toBe(true);
  });

  it('false is kept as false (and a model without the field has none)', () => {
    const off = decodeModel(encodeModel(residualModel(false)));
    expect(off.outputs.residual).toBe(false);
    const plainModel = regression([recurrent('lstm', 2, 3, 53), dense(3, 2, 'linear', 54)]);
    const back = decodeModel(encodeModel(plainModel));
    expect('residual' in back.outputs).toBe(false);
    expect('residual' in (unpackr.unpack(encodeModel(plainModel)) as Wire).outputs).toBe(false);
  });

  it('without output mean/std (the change is the network output itself) is valid', () => {
    const m = residualModel();
    const bare: Model = { ...m, outputs: { names: m.outputs.names, residual: true } };
    expect(decodeModel(encodeModel(bare)).outputs).toEqual({ names: ['humidity', 'temperature'], residual: true });
  });
});

describe('outputs.residual refused', () => {
  it('an output name that is not an input, naming the output', () => {
    // The regression builder names outputs y0, y1: no such inputs.
    const m = regression([recurrent('rnn', 3, 4, 55), dense(4, 2, 'linear', 56)]);
    const bytes = wireOf(m, (w) => (w.outputs.residual = true));
    expectRefused(() => decodeModel(bytes), /output "y0" is not an input/);
    // Only one of two outputs missing from the inputs is still refused, and named.
    const half = wireOf(residualModel(), (w) => (w.outputs.names = ['humidity', 'dew_point']));
    expectRefused(() => decodeModel(half), /output "dew_point" is not an input.*inputs: temperature, humidity, light/);
    // encodeModel validates too, so such a model is never written.
    expectRefused(() => encodeModel({ ...m, outputs: { ...m.outputs, residual: true } }), /output "y0" is not an input/);
  });

  it('on a classification model, true or false', () => {
    const c = classification([recurrent('gru', 3, 4, 57), dense(4, 2, 'softmax', 58)], ['ok', 'fault']);
    for (const v of [true, false]) {
      expectRefused(() => decodeModel(wireOf(c, (w) => (w.outputs.residual = v))), /only regression models have residual outputs/);
    }
    expectRefused(() => encodeModel({ ...c, outputs: { ...c.outputs, residual: true } }), /only regression/);
  });

  it('a value that is not a boolean', () => {
    const cases: [unknown, RegExp][] = [
      [1, /expected true or false, got number 1/],
      [0, /expected true or false, got number 0/],
      ['true', /expected true or false, got "true"/],
      [null, /expected true or false, got null/],
      [[true], /expected true or false, got an array/],
    ];
    for (const [v, message] of cases) {
      expectRefused(() => decodeModel(wireOf(residualModel(), (w) => (w.outputs.residual = v))), message);
    }
    // A non-boolean in memory reaches the validator instead of vanishing in modelToWire.
    expectRefused(() => encodeModel(residualModel('yes')), /expected true or false, got "yes"/);
  });
});
