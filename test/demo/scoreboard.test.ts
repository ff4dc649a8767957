// The demo's scoreboard: counts, and the mean absolute error of a forecaster's prediction
// made at seq s against the reading at seq s + horizon, whichever arrives first.
import { describe, expect, it } from 'vitest';
import { Scoreboard } from '../../src/cli/demo/scoreboard.js';
import type { Model } from '../../src/model/types.js';

const model = (horizon?: number) =>
  ({ name: 'm', modelVersion: 1, task: 'regression', inputs: { names: ['temperature', 'humidity'] }, outputs: { names: ['temperature', 'humidity'], ...(horizon !== undefined ? { horizon } : {}) } }) as unknown as Model;
const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
const reading = (seq: number, t: number, h: number) => enc({ ts: 1000 + seq, seq, values: { temperature: t, humidity: h } });
const prediction = (device: string, seq: number, t: number, h: number) => enc({ device, seq, ts: 1, model: { name: 'm', version: 1 }, y: { temperature: t, humidity: h } });

describe('Scoreboard', () => {
  it('scores the prediction at seq s against the reading at s + horizon, in either arrival order', () => {
    const b = new Scoreboard(model(2));
    b.reading('a', reading(0, 20, 50));
    b.prediction(prediction('a', 0, 21, 49)); // for seq 2
    b.reading('a', reading(1, 20.5, 50));
    b.prediction(prediction('a', 1, 22, 50)); // for seq 3
    b.reading('a', reading(2, 20, 51)); // scores seq-0 prediction: |21-20| = 1, |49-51| = 2
    b.reading('b', reading(3, 10, 10));
    b.prediction(prediction('b', 1, 13, 14)); // reading b@3 came first: |13-10| = 3, |14-10| = 4
    b.reading('a', reading(3, 23, 50)); // scores seq-1 prediction: 1, 0
    const s = b.summary();
    expect(s.horizon).toBe(2);
    expect(s.readings).toBe(5);
    expect(s.predictions).toBe(3);
    expect(s.scored).toBe(3);
    expect(s.mae.temperature).toBeCloseTo((1 + 3 + 1) / 3, 12);
    expect(s.mae.humidity).toBeCloseTo((2 + 4 + 0) / 3, 12);
    expect(b.rows.get('a')!.lastError).toEqual({ temperature: 1, humidity: 0 });
    expect(b.rows.get('a')!.lastPredictionFor).toBe(3);
  });

  it('takes horizon 1 when the model does not say, and never scores across devices', () => {
    const b = new Scoreboard(model());
    b.prediction(prediction('a', 0, 1, 1));
    b.reading('b', reading(1, 5, 5));
    expect(b.summary().scored).toBe(0);
    b.reading('a', reading(1, 2, 3));
    expect(b.summary().mae).toEqual({ temperature: 1, humidity: 2 });
  });

  it('counts invalid readings as messages but scores nothing from them, and dead letters by reason', () => {
    const b = new Scoreboard(model(1));
    b.prediction(prediction('a', 0, 1, 1));
    b.reading('a', new TextEncoder().encode('{"seq":1,"values":{"temperature":NaN}}'));
    b.deadLetter(enc({ reason: 'invalid-json', device: 'a' }));
    b.deadLetter(enc({ reason: 'invalid-json', device: 'a' }));
    b.deadLetter(enc({ reason: 'non-finite' }));
    const s = b.summary();
    expect(s.readings).toBe(1);
    expect(s.scored).toBe(0);
    expect(Number.isNaN(s.mae.temperature)).toBe(true);
    expect(s.deadLetters).toBe(3);
    expect(s.deadByReason).toEqual({ 'invalid-json': 2, 'non-finite': 1 });
    expect(b.rows.get('a')!.deadLetters).toBe(2);
  });
});
