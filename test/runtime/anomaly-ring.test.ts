// The forecast ring and the score against a hand-computed sequence: horizon 3, forecasts
// chosen by hand, each reading scored against the forecast made three readings earlier.
import { describe, expect, it } from 'vitest';
import { anomalyProblem, anomalyScore, anomalyScorer, ForecastRing, type AnomalyScorer } from '../../src/runtime/anomaly.js';
import { persistenceModel } from '../helpers/persistence-model.js';

// Two outputs; output 0 is input 1 and output 1 is input 0 (the index map is exercised).
const scorer: AnomalyScorer = { horizon: 3, width: 2, inputIndex: Int32Array.of(1, 0), rmse: Float32Array.of(0.5, 2), threshold: 3 };

describe('ForecastRing (horizon 3)', () => {
  // Forecast made at reading t (for reading t + 3): [10 t, -t].
  const forecast = (t: number) => [10 * t, -t];
  // Reading t: inputs [x0, x1]; the forecast compared with it is forecast(t - 3) = [10(t-3), -(t-3)],
  // where output 0 reads input 1 and output 1 reads input 0.
  const readings = [
    [0, 0], [0, 0], [0, 0], // t = 0, 1, 2: nothing pending yet
    [0, 1], // t = 3 vs forecast(0) = [0, 0]: |1 - 0| / 0.5 = 2, |0 - 0| / 2 = 0 -> 2
    [-3, 12], // t = 4 vs forecast(1) = [10, -1]: |12 - 10| / 0.5 = 4, |-3 + 1| / 2 = 1 -> 4
    [6, 20], // t = 5 vs forecast(2) = [20, -2]: 0, |6 + 2| / 2 = 4 -> 4
    [-3, 30.25], // t = 6 vs forecast(3) = [30, -3]: 0.5, 0 -> 0.5
  ];
  const expected = [NaN, NaN, NaN, 2, 4, 4, 0.5];

  it('scores each reading against the forecast made three readings earlier', () => {
    const ring = new ForecastRing(3, 2);
    const got = readings.map((x, t) => ring.advance(scorer, x, forecast(t)));
    expect(got).toEqual(expected);
    expect(ring.pending).toBe(3);
  });

  it('after clear() the next three readings get no score, then scoring resumes against forecasts made after it', () => {
    const ring = new ForecastRing(3, 2);
    for (let t = 0; t < 5; t++) ring.advance(scorer, readings[t], forecast(t));
    ring.clear();
    expect(ring.pending).toBe(0);
    // Readings 5, 6, 7 after the clear: no score; reading 8 is scored against forecast(5) = [50, -5].
    expect(ring.advance(scorer, [0, 0], forecast(5))).toBeNaN();
    expect(ring.advance(scorer, [0, 0], forecast(6))).toBeNaN();
    expect(ring.advance(scorer, [0, 0], forecast(7))).toBeNaN();
    // |49 - 50| / 0.5 = 2; |-1 + 5| / 2 = 2 -> 2
    expect(ring.advance(scorer, [-1, 49], forecast(8))).toBe(2);
  });

  it('allocates its slots once: the same buffer after any number of readings', () => {
    const ring = new ForecastRing(3, 2);
    const slots = ring.slots;
    for (let t = 0; t < 100; t++) ring.advance(scorer, [0, 0], forecast(t));
    expect(ring.slots).toBe(slots);
    expect(slots.length).toBe(6);
  });

  it('anomalyScore is the max over outputs of the normalised absolute error', () => {
    expect(anomalyScore(scorer, [1, 1], Float32Array.of(9, 9, 0, 4), 2)).toBe(Math.max(1 / 0.5, 3 / 2));
  });
});

describe('anomalyScorer', () => {
  it("takes the model's scale and threshold, and an override", () => {
    const m = persistenceModel({ inputs: ['p', 'q'], horizon: 4, anomaly: { rmse: [0.25, 3], threshold: 5 } });
    const s = anomalyScorer(m);
    expect([s.horizon, s.width, [...s.inputIndex], [...s.rmse], s.threshold]).toEqual([4, 2, [0, 1], [0.25, 3], 5]);
    expect(anomalyScorer(m, 7.5).threshold).toBe(7.5);
    expect(() => anomalyScorer(m, 0)).toThrow(/threshold must be a finite number > 0/);
  });

  it('refuses a model without outputs.anomaly with a one-line reason', () => {
    const m = persistenceModel({ horizon: 2, name: 'old' });
    expect(anomalyProblem(m)).toMatch(/^model old v1 has no outputs\.anomaly/);
    expect(() => anomalyScorer(m)).toThrow(/no outputs\.anomaly/);
  });
});
