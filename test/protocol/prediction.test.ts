import { describe, expect, it } from 'vitest';
import { initModel } from '../../src/model/init.js';
import { buildPrediction, encodePrediction, f32Json, f32JsonText } from '../../src/protocol/prediction.js';

/** Mulberry32: reproducible test values. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

  it('says how many steps the device state has seen since its last reset', () => {
    const doc = JSON.parse(new TextDecoder().decode(encodePrediction(regression, { device: 'm1', seq: 4, ts: 1000, steps: 7 }, new Float32Array([1, 2]))));
    expect(Object.keys(doc)).toEqual(['device', 'seq', 'ts', 'steps', 'model', 'y']);
    expect(doc.steps).toBe(7);
  });

  it('encodes exactly the bytes of JSON.stringify(buildPrediction(...)), for every key and value shape', () => {
    // encodePrediction writes from a per-model template; the reference is the plain object path.
    const odd = initModel({
      name: 'we"ird\u00e9', modelVersion: 7, task: 'classification', inputs: ['a'], outputs: ['label'],
      labels: ['b', '10', 'a"q', '2', 'b', '__proto__', 'ünï', 'toString'],
      cell: 'lstm', hiddenSizes: [2], dense: [{ size: 8, activation: 'softmax' }],
    }, 3);
    const same = (m: typeof regression, input: { device: string; seq?: number; ts?: number; steps?: number }, y: ArrayLike<number>) => {
      const want = JSON.stringify(buildPrediction(m, input, y));
      expect(new TextDecoder().decode(encodePrediction(m, input, y))).toBe(want);
    };
    const inputs = [
      { device: 'm1', seq: 4, ts: 1000 }, { device: 'm1' }, { device: 'q"\\/é\n', ts: 1764158400000.123 },
      { device: 'm', seq: 0, ts: -0 }, { device: '', seq: Number.MAX_SAFE_INTEGER, ts: 1e21 }, { device: 'n', seq: NaN, ts: Infinity },
      { device: 'w', seq: 3, ts: 1000, steps: 1 }, { device: 'w', steps: 123456 },
    ];
    const ys2 = [[1.5, -2.25], [0.1, 1e-7], [NaN, Infinity], [-0, 3e38], [1 / 3]];
    for (const input of inputs) for (const y of ys2) same(regression, input, new Float32Array(y));
    for (const input of inputs) {
      same(odd, input, new Float32Array([0.1, 0.2, 0.05, 0.3, 0.15, 0.05, 0.1, 0.05]));
      same(odd, input, new Float32Array([0.1, 0.2, 0.9, NaN, 0.9, 0.05, 0.1, -Infinity]));
      same(odd, input, [0.5, 0.25]); // fewer outputs than labels: the missing ones are left out
      same(classifier, input, new Float32Array([0.2, 0.7, 0.1]));
      same(classifier, input, new Float32Array([0.2, 0.7, 0.1, 0.9])); // argmax past the labels: no label key
    }
  });

  it('run --anomaly: "anomaly" {score, flag} last, the score to 6 digits, both null while warming up; the same bytes as buildPrediction', () => {
    const y = new Float32Array([1, 2]);
    const doc = (anomaly: { score: number | null; flag: boolean | null }) => {
      const text = new TextDecoder().decode(encodePrediction(regression, { device: 'm1', seq: 4, steps: 9, anomaly }, y));
      expect(text).toBe(JSON.stringify(buildPrediction(regression, { device: 'm1', seq: 4, steps: 9, anomaly }, y)));
      return JSON.parse(text);
    };
    const scored = doc({ score: 12.3456789, flag: true });
    expect(Object.keys(scored)).toEqual(['device', 'seq', 'steps', 'model', 'y', 'anomaly']);
    expect(scored.anomaly).toEqual({ score: 12.3457, flag: true });
    expect(doc({ score: null, flag: null }).anomaly).toEqual({ score: null, flag: null });
    expect(doc({ score: 0, flag: false }).anomaly).toEqual({ score: 0, flag: false });
    expect(doc({ score: 1e-9, flag: false }).anomaly.score).toBe(1e-9);
    const cls = new TextDecoder().decode(encodePrediction(classifier, { device: 'd', anomaly: { score: 2, flag: false } }, new Float32Array([0.2, 0.7, 0.1])));
    expect(cls).toBe(JSON.stringify(buildPrediction(classifier, { device: 'd', anomaly: { score: 2, flag: false } }, new Float32Array([0.2, 0.7, 0.1]))));
  });

  it('f32JsonText writes what JSON.stringify(f32Json(v)) writes', () => {
    const edges = [0, -0, 1, -1, 0.1, 1e-6, 1e-7, 9.99999e-7, 1.0000001e-6, 999999999, 999999999.5, 1e9, 123456789, 1e21, 3.4e38, 1e39, -1e-45, 1e-46, 100, 1.5, 2 ** 24 + 1, NaN, Infinity, -Infinity];
    const rnd = seeded(7);
    const random = Array.from({ length: 20_000 }, (_, i) => (rnd() - 0.5) * 10 ** ((i % 50) - 25));
    for (const v of [...edges, ...random]) expect(f32JsonText(v)).toBe(JSON.stringify(f32Json(v)));
  });

  it('prints float32 values with the digits that read back as the same float32', () => {
    const v = Math.fround(0.1);
    expect(f32Json(v)).toBe(0.100000001);
    expect(Math.fround(f32Json(v))).toBe(v);
    expect(f32Json(3)).toBe(3);
  });
});
