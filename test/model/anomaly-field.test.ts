// outputs.anomaly (model format v1, optional, issue 15): the validation RMSE per output and a
// default threshold, written by `train`, read by `run --anomaly`. Round trip through the codec
// and the raw msgpack, old files without it, and every way it can be wrong (each names the field).
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, modelToWire, ModelFormatError, type Model } from '../../src/model/index.js';
import { quantizeModel } from '../../src/model/quantize.js';
import { classification, dense, recurrent, regression } from './model-builders.js';

const packr = new Packr({ useRecords: false });
type Wire = Record<string, any>;

/** Inputs temperature, humidity, light; forecasts humidity, temperature 12 steps ahead. */
function forecaster(): Model {
  const m = regression([recurrent('gru', 3, 4, 61), dense(4, 2, 'linear', 62)], { horizon: 12 });
  return { ...m, outputs: { ...m.outputs, names: ['humidity', 'temperature'] } };
}

const RMSE = Float32Array.of(0.1972, 0.03319);
function withAnomaly(m: Model, threshold = 5.451): Model {
  return { ...m, outputs: { ...m.outputs, anomaly: { rmse: { dtype: 'f32', shape: [2], data: RMSE }, threshold } } };
}

function wireOf(m: Model, edit: (w: Wire) => void): Uint8Array {
  const w = modelToWire(m) as Wire;
  edit(w);
  return packr.pack(w);
}

function refused(bytes: Uint8Array): ModelFormatError {
  try {
    decodeModel(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    return e as ModelFormatError;
  }
  throw new Error('expected a ModelFormatError, but the model decoded');
}

describe('outputs.anomaly', () => {
  it('round-trips: rmse as an f32 tensor, the threshold as a float64 number', () => {
    const back = decodeModel(encodeModel(withAnomaly(forecaster(), 5.451)));
    expect(back.outputs.anomaly!.threshold).toBe(5.451);
    expect(back.outputs.anomaly!.rmse.shape).toEqual([2]);
    expect([...back.outputs.anomaly!.rmse.data]).toEqual([...RMSE]);
    // and the raw map holds it under outputs
    const w = modelToWire(back) as Wire;
    expect(Object.keys(w.outputs.anomaly)).toEqual(['rmse', 'threshold']);
    expect(w.outputs.anomaly.rmse.dtype).toBe('f32');
  });

  it('is optional: a file without it decodes with no anomaly scale, as before', () => {
    const back = decodeModel(encodeModel(forecaster()));
    expect(back.outputs.anomaly).toBeUndefined();
    expect('anomaly' in (modelToWire(back) as Wire).outputs).toBe(false);
  });

  const cases: [string, (w: Wire) => void, string, RegExp][] = [
    ['no horizon', (w) => delete w.outputs.horizon, 'outputs.anomaly', /needs outputs\.horizon/],
    ['an output that is not an input', (w) => (w.outputs.names = ['humidity', 'dew']), 'outputs.anomaly', /output "dew" is not an input/],
    ['not a map', (w) => (w.outputs.anomaly = 3), 'outputs.anomaly', /expected a map/],
    ['no rmse', (w) => delete w.outputs.anomaly.rmse, 'outputs.anomaly.rmse', /missing/],
    ['rmse of the wrong length', (w) => (w.outputs.anomaly.rmse = { dtype: 'f32', shape: [3], data: new Uint8Array(12) }), 'outputs.anomaly.rmse.shape', /.+/],
    ['an rmse of 0', (w) => (w.outputs.anomaly.rmse.data = new Uint8Array(new Float32Array([0.2, 0]).buffer)), 'outputs.anomaly.rmse.data', /rmse\[1\] is 0, must be > 0/],
    ['no threshold', (w) => delete w.outputs.anomaly.threshold, 'outputs.anomaly.threshold', /missing/],
    ['a threshold of 0', (w) => (w.outputs.anomaly.threshold = 0), 'outputs.anomaly.threshold', /expected a finite number > 0, got number 0/],
    ['a threshold that is text', (w) => (w.outputs.anomaly.threshold = '5'), 'outputs.anomaly.threshold', /expected a finite number > 0/],
    ['an infinite threshold', (w) => (w.outputs.anomaly.threshold = Infinity), 'outputs.anomaly.threshold', /expected a finite number > 0/],
  ];
  for (const [what, edit, field, message] of cases) {
    it(`refuses ${what}, naming ${field}`, () => {
      const e = refused(wireOf(withAnomaly(forecaster()), edit));
      expect(e.field).toBe(field);
      expect(e.message).toMatch(message);
    });
  }

  it('refuses it on a classifier', () => {
    const c = classification([recurrent('gru', 3, 4, 63), dense(4, 2, 'softmax', 64)], ['ok', 'fault']);
    const e = refused(wireOf(c, (w) => (w.outputs.anomaly = { rmse: modelToWire(withAnomaly(forecaster())).outputs, threshold: 1 })));
    expect(e.field).toBe('outputs.anomaly');
    expect(e.message).toMatch(/only regression forecasters/);
  });

  it('survives quantization: an int8 copy keeps the float model\'s scale and threshold', () => {
    const back = decodeModel(encodeModel(quantizeModel(withAnomaly(forecaster(), 4.25))));
    expect(back.layers.some((l) => l.type !== 'dense' && l.wIh.dtype === 'i8')).toBe(true);
    expect(back.outputs.anomaly!.threshold).toBe(4.25);
    expect([...back.outputs.anomaly!.rmse.data]).toEqual([...RMSE]);
  });

  it('is validated on encode too: an invalid scale is never written', () => {
    expect(() => encodeModel(withAnomaly(forecaster(), -1))).toThrow(ModelFormatError);
  });
});
