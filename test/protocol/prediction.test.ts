import { describe, expect, it } from 'vitest';
import { initModel } from '../../src/model/init.js';
import { buildPrediction, encodePrediction, f32Json } from '../../src/protocol/prediction.js';

describe('predictions on the wire', () => {
  const regression = initModel({ name: 'reg', modelVersion: 3, inputs: ['a', 'b'], outputs: ['a', 'b'], cell: 'gru', hiddenSizes: [4], dense: [{ size: 2, activation: 'linear' }] }, 1);
  const classifier = initModel({
    name: 'cls', task: 'classification', inputs: ['a'], outputs: ['label'], labels: ['calm', 'storm', 'fog'],
    cell: 'rnn', hiddenSizes: [3], dense: [{ size: 3, activation: 'softmax' }],
  }, 2);

  it('regression: y keyed by output name, model name and version, device, seq and ts', () => {
    const y = new Float32Array([1.5, -2.25]);
    const bytes = encodePrediction(regression, { device: 'm1', seq: 4, ts: 1000 }, y);
    expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual({ device: 'm1', seq: 4, ts: 1000, model: { name: 'reg', version: 3 }, y: { a: 1.5, b: -2.25 } });
  });

  it('classification adds the argmax label and its probability', () => {
    const p = buildPrediction(classifier, { device: 'd' }, new Float32Array([0.2, 0.7, 0.1]));
    expect(p.label).toBe('storm');
    expect(p.p).toBeCloseTo(0.7, 6);
    expect(Object.keys(p.y)).toEqual(['calm', 'storm', 'fog']);
    expect(p.seq).toBeUndefined();
  });

  it('prints float32 values with the digits that read back as the same float32', () => {
    const v = Math.fround(0.1);
    expect(f32Json(v)).toBe(0.100000001);
    expect(Math.fround(f32Json(v))).toBe(v);
    expect(f32Json(3)).toBe(3);
  });
});
