import { from, lastValueFrom, of, Subject, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createSession } from '../../src/runtime/session.js';
import { batchSameTick } from '../../src/stream/batch-same-tick.js';
import { createCounters } from '../../src/stream/counters.js';
import type { PredictionEvent, StreamEvent } from '../../src/stream/events.js';
import { inferPerDevice } from '../../src/stream/infer-per-device.js';
import { interleaved, model, reading, referenceOutputs } from './support.js';

const session = createSession(model);
const run = (events: StreamEvent[] | StreamEvent[][], opts: Partial<Parameters<typeof inferPerDevice>[1]> = {}) => {
  const counters = createCounters();
  const out = lastValueFrom(from(events as StreamEvent[]).pipe(inferPerDevice(session, { counters, ...opts }), toArray()));
  return out.then((o) => ({ out: o, counters }));
};
const ys = (out: StreamEvent[]) => out.filter((e): e is PredictionEvent => e.kind === 'prediction').map((e) => Array.from(e.y));

describe('inferPerDevice', () => {
  it('keeps one state per device: equal to stepping each device on its own', async () => {
    const events = interleaved(5, 12);
    const { out, counters } = await run(events);
    expect(ys(out)).toEqual(referenceOutputs(session, events).map((y) => Array.from(y)));
    expect(out.map((e) => (e as PredictionEvent).device)).toEqual(events.map((e) => e.device));
    expect(counters.predictions).toBe(60);
    expect(counters.devices).toBe(5);
  });

  it('gives the same numbers stepping arrays with stepBatch as stepping one by one', async () => {
    const events = interleaved(7, 9);
    // Bursts that repeat devices and straddle device boundaries.
    const bursts: StreamEvent[][] = [];
    for (let i = 0; i < events.length; i += 10) bursts.push(events.slice(i, i + 10));
    const single = await run(events);
    const batched = await run(bursts);
    expect(ys(batched.out)).toEqual(ys(single.out));
    expect(batched.counters.batches).toBeGreaterThan(0);
    expect(batched.counters.batchedReadings).toBeGreaterThan(events.length / 2);
    // Same through batchSameTick: everything `from` emits arrives in one tick.
    const counters = createCounters();
    const viaTick = await lastValueFrom(from(events).pipe(batchSameTick(), inferPerDevice(session, { counters }), toArray()));
    expect(ys(viaTick)).toEqual(ys(single.out));
    expect(counters.batches).toBeGreaterThan(0);
  });

  it('drops duplicate and older seq without advancing the state, and counts them', async () => {
    const a = [reading('a', 1, [20, 40]), reading('a', 2, [21, 41]), reading('a', 3, [22, 42])];
    const withDups = [a[0], a[1], reading('a', 2, [99, 99]), reading('a', 1, [99, 99]), a[2]];
    for (const input of [withDups, [withDups]]) {
      const { out, counters } = await run(input as StreamEvent[]);
      expect(out.map((e) => e.kind)).toEqual(['prediction', 'prediction', 'dropped', 'dropped', 'prediction']);
      expect(ys(out)).toEqual(referenceOutputs(session, a).map((y) => Array.from(y)));
      expect(counters.duplicates).toBe(2);
    }
  });

  it('readings without seq are never dropped', async () => {
    const { out } = await run([reading('a', undefined, [1, 2]), reading('a', undefined, [1, 2])]);
    expect(out.map((e) => e.kind)).toEqual(['prediction', 'prediction']);
  });

  it('evicts the least recently seen device beyond maxDevices and counts it', async () => {
    const first = (d: string) => referenceOutputs(session, [reading(d, 0, [25, 45])])[0];
    const events = [
      reading('a', 0, [20, 40]), reading('b', 0, [21, 41]),
      reading('a', 1, [22, 42]), // a is now more recent than b
      reading('c', 0, [23, 43]), // evicts b
      reading('b', 1, [25, 45]), // b starts over from a zero state; evicts a
      reading('c', 1, [24, 44]), // c kept its state
    ];
    const { out, counters } = await run(events, { maxDevices: 2 });
    expect(counters.evictions).toBe(2);
    expect(counters.peakDevices).toBe(2);
    const p = out as PredictionEvent[];
    expect(p.map((e) => e.fresh)).toEqual([true, true, false, true, true, false]);
    expect(Array.from(p[4].y)).toEqual(Array.from(first('b')));
    expect(Array.from(p[5].y)).toEqual(Array.from(referenceOutputs(session, [events[3], events[5]])[1]));
  });

  it('turns a failing step into a dead letter and keeps going', async () => {
    const failing = { ...session, step: (...args: Parameters<typeof session.step>) => {
      if (args[1][0] === 13) throw new Error('boom');
      return session.step(...args);
    } };
    const counters = createCounters();
    const events = [reading('a', 0, [1, 2]), reading('a', 1, [13, 2]), reading('a', 2, [3, 4])];
    const out = await lastValueFrom(from(events).pipe(inferPerDevice(failing, { counters }), toArray()));
    expect(out.map((e) => (e.kind === 'dead-letter' ? e.code : e.kind))).toEqual(['prediction', 'step-error', 'prediction']);
    expect(counters.deadByReason).toEqual({ 'step-error': 1 });
  });

  it('a non-finite output is a dead letter and resets that device', async () => {
    const events = [reading('a', 0, [1, 2]), reading('a', 1, [1e38, 1e38]), reading('a', 2, [3, 4])];
    const huge = createSession({ ...model, inputs: { ...model.inputs, std: { ...model.inputs.std, data: new Float32Array([1e-30, 1e-30]) } } });
    const counters = createCounters();
    // The input guard would refuse 1e38 before stepping (test/stream/input-guard.test.ts): off here.
    const out = await lastValueFrom(from(events).pipe(inferPerDevice(huge, { counters, guardPolicy: 'off' }), toArray()));
    expect(out.map((e) => (e.kind === 'dead-letter' ? e.code : e.kind))).toEqual(['prediction', 'non-finite-output', 'prediction']);
    expect(Array.from((out[2] as PredictionEvent).y).every(Number.isFinite)).toBe(true);
  });

  it('rejects a reading of the wrong width as a dead letter', async () => {
    const { out } = await run([reading('a', 0, [1])]);
    expect(out[0]).toMatchObject({ kind: 'dead-letter', code: 'wrong-width' });
  });

  it('two subscriptions never share state', async () => {
    const src = new Subject<StreamEvent>();
    const counters = createCounters();
    const op = src.pipe(inferPerDevice(session, { counters }));
    const got: number[][][] = [[], []];
    op.subscribe((e) => got[0].push(Array.from((e as PredictionEvent).y)));
    src.next(reading('a', 0, [20, 40]));
    op.subscribe((e) => got[1].push(Array.from((e as PredictionEvent).y)));
    src.next(reading('a', 1, [21, 41]));
    const ref = referenceOutputs(session, [reading('a', 0, [20, 40]), reading('a', 1, [21, 41])]).map((y) => Array.from(y));
    expect(got[0]).toEqual(ref);
    expect(got[1]).toEqual([referenceOutputs(session, [reading('a', 1, [21, 41])])[0]].map((y) => Array.from(y)));
  });

  it('passes dead letters from upstream through in order', async () => {
    const dl: StreamEvent = { kind: 'dead-letter', code: 'x', message: 'm', origin: { receivedAt: 0 } };
    const { out } = await run([reading('a', 0, [1, 2]), dl, reading('a', 1, [1, 2])]);
    expect(out.map((e) => e.kind)).toEqual(['prediction', 'dead-letter', 'prediction']);
    await expect(lastValueFrom(of(dl).pipe(inferPerDevice(session, { counters: createCounters() })))).resolves.toBe(dl);
  });
});
