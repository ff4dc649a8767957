// Time-dependent behaviour with marble tests (virtual time, TestScheduler).
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { createSession } from '../../src/runtime/session.js';
import { batchSameTick } from '../../src/stream/batch-same-tick.js';
import { createCounters } from '../../src/stream/counters.js';
import type { StreamEvent } from '../../src/stream/events.js';
import { inferPerDevice } from '../../src/stream/infer-per-device.js';
import { model, reading } from './support.js';

const session = createSession(model);
const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('stream timing (marbles)', () => {
  it('a gap longer than resetAfter resets the device state (fresh: F), shorter keeps it (C)', () => {
    const counters = createCounters();
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      // a: device a, b: device b; time is each event's arrival time in virtual ms.
      const input = cold('a 5ms a 5ms b 20ms a 3ms a|');
      // Stamp each reading with its virtual arrival time, as the MQTT source does with the clock.
      const stamped = input.pipe(map((d, i) => reading(d, i, [20 + i, 40], ts.now()) as StreamEvent));
      const out = stamped.pipe(inferPerDevice(session, { counters, resetAfterMs: 10 }), map((e) => (e.kind === 'prediction' ? (e.fresh ? 'F' : 'C') : 'X')));
      expectObservable(out).toBe('F 5ms C 5ms F 20ms F 3ms C|');
    });
    expect(counters.resets).toBe(1); // a's gap 6 -> 33
  });

  it('resetAfter uses the reading ts when it has one', () => {
    const counters = createCounters();
    scheduler().run(({ cold, expectObservable }) => {
      const src = cold('abc|', {
        a: reading('a', 0, [1, 1], 0, 1_000),
        b: reading('a', 1, [1, 1], 0, 5_000),
        c: reading('a', 2, [1, 1], 0, 70_000),
      } as Record<string, StreamEvent>);
      const out = src.pipe(inferPerDevice(session, { counters, resetAfterMs: 60_000 }), map((e) => (e.kind === 'prediction' && e.fresh ? 'F' : 'C')));
      expectObservable(out).toBe('FCF|');
    });
    expect(counters.resets).toBe(1);
  });

  it('batchSameTick groups values of one tick and keeps later ticks apart', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('(abc) 3ms d 2ms (ef)|').pipe(batchSameTick(), map((xs) => xs.join('')));
      expectObservable(out).toBe('x 7ms y 2ms z 3ms |', { x: 'abc', y: 'd', z: 'ef' });
    });
  });

  it('batchSameTick flushes early at maxSize', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const out = cold('(abcde)|').pipe(batchSameTick(undefined, 2), map((xs) => xs.join('')));
      expectObservable(out).toBe('(xyz)--|', { x: 'ab', y: 'cd', z: 'e' });
    });
  });
});
