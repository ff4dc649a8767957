// A throwing step inside a batch (issue 14): only the reading that failed becomes a dead
// letter; the rest of its batch is predicted with exactly the numbers of one-at-a-time
// stepping, and the stream goes on. Before, the error ended the whole stream.
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createSession, type Session } from '../../src/runtime/session.js';
import { createCounters } from '../../src/stream/counters.js';
import type { PredictionEvent, ReadingEvent, StreamEvent } from '../../src/stream/events.js';
import { inferPerDevice } from '../../src/stream/infer-per-device.js';
import { model, reading, referenceOutputs } from './support.js';

const BAD = 13;
const inner = createSession(model);

/**
 * A session that throws on a reading whose first value is BAD. Its stepBatch steps the
 * streams in turn, as the JS session does, so the streams before the bad one have already
 * advanced when it throws: the fallback must not step them twice.
 */
function failingSession(): Session & { batchThrows: number } {
  const s = {
    ...inner,
    batchThrows: 0,
    step(state: Parameters<Session['step']>[0], x: ArrayLike<number>, out?: Float32Array) {
      if (x[0] === BAD) throw new Error('boom');
      return inner.step(state, x, out);
    },
    stepBatch(states: Parameters<Session['stepBatch']>[0], xs: Float32Array, ys: Float32Array) {
      const I = inner.inputSize, O = inner.outputSize;
      states.forEach((st, k) => {
        if (xs[k * I] === BAD) {
          s.batchThrows++;
          throw new Error('boom in a batch');
        }
        inner.step(st, xs.subarray(k * I, (k + 1) * I), ys.subarray(k * O, (k + 1) * O));
      });
    },
  };
  return s;
}

const rounds = (n: number, devices: string[]): ReadingEvent[][] =>
  Array.from({ length: n }, (_, m) => devices.map((d, i) => reading(d, m, [20 + Math.sin(m + i) * 4, 40 + Math.cos(m * i) * 2])));

describe('inferPerDevice: a throwing batch', () => {
  it('dead-letters only the failing reading, predicts the rest as one at a time would, and keeps the stream', async () => {
    const devices = ['a', 'b', 'c', 'd', 'e'];
    const input = rounds(4, devices);
    input[1][2] = reading('c', 1, [BAD, 40]); // device c's second reading fails
    const session = failingSession();
    const counters = createCounters();
    const out = await lastValueFrom(from(input as StreamEvent[][]).pipe(inferPerDevice(session, { counters }), toArray()));

    expect(session.batchThrows).toBe(1);
    const kinds = out.map((e) => (e.kind === 'dead-letter' ? `${e.code}:${e.device}` : e.kind));
    expect(kinds).toEqual([
      ...devices.map(() => 'prediction'),
      'prediction', 'prediction', 'step-error:c', 'prediction', 'prediction',
      ...devices.map(() => 'prediction'), ...devices.map(() => 'prediction'),
    ]);
    expect(counters.deadByReason).toEqual({ 'step-error': 1 });
    expect(counters.predictions).toBe(19);
    // The reference: every reading but the failed one, each stepped on its own; the failed
    // reading did not advance device c's state.
    const good = input.flat().filter((e) => e.reading.values[0] !== BAD);
    const ys = out.filter((e): e is PredictionEvent => e.kind === 'prediction');
    expect(ys.map((e) => e.device)).toEqual(good.map((e) => e.device));
    expect(ys.map((e) => Array.from(e.y))).toEqual(referenceOutputs(inner, good).map((y) => Array.from(y)));
  });

  it('a batch of only failing readings gives one dead letter each', async () => {
    const input = [[reading('a', 0, [BAD, 1]), reading('b', 0, [BAD, 2])], [reading('a', 1, [1, 2])]];
    const counters = createCounters();
    const out = await lastValueFrom(from(input as StreamEvent[][]).pipe(inferPerDevice(failingSession(), { counters }), toArray()));
    expect(out.map((e) => (e.kind === 'dead-letter' ? `${e.code}:${e.device}` : e.kind))).toEqual(['step-error:a', 'step-error:b', 'prediction']);
    expect(Array.from((out[2] as PredictionEvent).y)).toEqual(Array.from(referenceOutputs(inner, [input[1][0]])[0]));
  });
});
