// run --anomaly in the stream operator: each prediction carries its reading scored against
// the forecast made for it `horizon` readings earlier, and the device's forecast ring follows
// the device table's lifecycle (new device, gap reset, seq gap, eviction, model swap). The
// model is a hand-built persistence forecaster, so every expected score is worked out by hand:
// score(u) = max_o |x_u[o] − x_{u−h}[o]| / rmse[o].
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/model/types.js';
import { createSession } from '../../src/runtime/session.js';
import { createCounters } from '../../src/stream/counters.js';
import type { ModelOfferEvent, StreamEvent } from '../../src/stream/events.js';
import { inferPerDevice, type InferOptions } from '../../src/stream/infer-per-device.js';
import { persistenceModel } from '../helpers/persistence-model.js';
import { reading } from './support.js';

const h2 = persistenceModel({ horizon: 2, anomaly: { rmse: [1, 2], threshold: 3 } });

function run(model: Model, inputs: (StreamEvent | readonly StreamEvent[])[], options: Partial<InferOptions> = {}) {
  const counters = createCounters();
  const out: StreamEvent[] = [];
  const src = new Subject<StreamEvent | readonly StreamEvent[]>();
  const sub = src.pipe(inferPerDevice(createSession(model), { counters, anomaly: {}, swap: { probation: { minReadings: 0 } }, ...options })).subscribe((e) => out.push(e));
  for (const e of inputs) src.next(e);
  sub.unsubscribe();
  return { out, counters };
}

/** [score, flag] of each prediction, in order (null, null while warming up). */
const scores = (out: StreamEvent[]): [number | null, boolean | null][] => out.flatMap((e) => (e.kind === 'prediction' ? [[e.anomaly?.score ?? null, e.anomaly?.flag ?? null] as [number | null, boolean | null]] : []));

// Device readings [u, 0] for u = 0..8, with a spike of +10 on reading 5.
const ramp = (device = 'd', from = 0, to = 9, t0 = 0) =>
  Array.from({ length: to - from }, (_, k) => from + k).map((u) => reading(device, u, [u + (u === 5 ? 10 : 0), 0], t0 + u * 1000));

describe('anomaly scores in the stream', () => {
  it('scores each reading against the forecast made two readings earlier; the spike and its echo are flagged', () => {
    const { out, counters } = run(h2, ramp());
    // u >= 2 on the ramp: |u - (u - 2)| / 1 = 2. Reading 5 (15) against reading 3: 12.
    // Reading 7 against the forecast made at the spike (15): |7 - 15| = 8. Reading 6 against 4: 2.
    expect(scores(out)).toEqual([[null, null], [null, null], [2, false], [2, false], [2, false], [12, true], [2, false], [8, true], [2, false]]);
    expect(counters.anomalyFlags).toBe(2);
  });

  it('takes the threshold override', () => {
    const { out } = run(h2, ramp(), { anomaly: { threshold: 10 } });
    expect(scores(out).map(([, f]) => f)).toEqual([null, null, false, false, false, true, false, false, false]);
  });

  it('scores the second output by its own rmse and takes the max over outputs', () => {
    // Output 1 moves by 6 over two readings: 6 / 2 = 3 (not > 3); output 0 by 1: 1 / 1.
    const ev = [0, 1, 2].map((u) => reading('d', u, [u / 2, 3 * u]));
    expect(scores(run(h2, ev).out)[2]).toEqual([3, false]);
  });

  it('keeps one ring per device: interleaved devices are scored against their own forecasts', () => {
    const ev = [0, 1, 2].flatMap((u) => [reading('a', u, [u, 0]), reading('b', u, [10 * u, 0])]);
    expect(scores(run(h2, ev).out).slice(4)).toEqual([[2, false], [20, true]]);
  });

  it('a gap reset (new epoch) clears the ring: the next two readings get no score', () => {
    const ev = [...ramp('d', 0, 4), ...ramp('d', 4, 8, 60_000)];
    const { out, counters } = run(h2, ev, { resetAfterMs: 10_000 });
    expect(counters.resets).toBe(1);
    // 4 and 5 (the reset, then one more) unscored; 6 against 4: 2; 7 against the spike 15: 8.
    expect(scores(out).slice(4)).toEqual([[null, null], [null, null], [2, false], [8, true]]);
  });

  it('a seq gap clears the ring: forecasts no longer line up with the readings that come', () => {
    const ev = [0, 1, 2, 3, 6, 7, 8].map((s) => reading('d', s, [s, 0]));
    const { out, counters } = run(h2, ev);
    expect(counters.missedReadings).toBe(2);
    // 0, 1 warm up; 2, 3 scored (2); seq 6 and 7 after the gap unscored; 8 against 6: 2.
    expect(scores(out)).toEqual([[null, null], [null, null], [2, false], [2, false], [null, null], [null, null], [2, false]]);
  });

  it('an evicted device starts cold when it comes back', () => {
    const ev = [reading('a', 0, [0, 0]), reading('a', 1, [1, 0]), reading('a', 2, [2, 0]), reading('b', 0, [0, 0]), reading('a', 3, [3, 0])];
    const { out, counters } = run(h2, ev, { maxDevices: 1 });
    expect(counters.evictions).toBe(2);
    expect(scores(out)).toEqual([[null, null], [null, null], [2, false], [null, null], [null, null]]);
  });

  it('gives the same scores when readings arrive as arrays (batched stepping)', () => {
    const single = run(h2, [0, 1, 2, 3].flatMap((u) => [reading('a', u, [u, 0]), reading('b', u, [u * u, 0])]));
    const batched = run(h2, [0, 1, 2, 3].map((u) => [reading('a', u, [u, 0]), reading('b', u, [u * u, 0])]));
    expect(scores(batched.out)).toEqual(scores(single.out));
    expect(batched.counters.batches).toBeGreaterThan(0);
  });

  const offer = (model: Model, sha256: string): ModelOfferEvent => ({ kind: 'model-offer', result: { ok: true, model, sha256, keyId: 'k' }, origin: { receivedAt: 0 } });

  it('a swap to a model of another horizon starts every ring again, with that model\'s scale and threshold', () => {
    const h3 = persistenceModel({ horizon: 3, modelVersion: 2, anomaly: { rmse: [4, 4], threshold: 1 } });
    const ev = [...[0, 1, 2, 3].map((u) => reading('d', u, [u, 0])), offer(h3, 'b'), ...[4, 5, 6, 7].map((u) => reading('d', u, [u, 0]))];
    const { out } = run(h2, ev);
    expect(out.some((e) => e.kind === 'model-status' && e.status === 'accepted')).toBe(true);
    // After the swap: 4, 5, 6 unscored (horizon 3); 7 against 4: |7 - 4| / 4 = 0.75, not > 1.
    expect(scores(out).slice(4)).toEqual([[null, null], [null, null], [null, null], [0.75, false]]);
  });

  it('refuses a pushed model without outputs.anomaly, and goes on scoring with the running one', () => {
    const old = persistenceModel({ horizon: 2, modelVersion: 2 });
    const ev = [...[0, 1, 2].map((u) => reading('d', u, [u, 0])), offer(old, 'c'), reading('d', 3, [3, 0])];
    const { out, counters } = run(h2, ev);
    const status = out.find((e) => e.kind === 'model-status');
    expect(status).toMatchObject({ status: 'rejected', code: 'no-anomaly-scale' });
    expect(counters.modelRejects).toBe(1);
    expect(scores(out).slice(2)).toEqual([[2, false], [2, false]]);
  });

  it('refuses to build the line when the starting model has no anomaly scale', () => {
    expect(() => run(persistenceModel({ horizon: 2, name: 'old' }), [])).toThrow(/model old v1 has no outputs\.anomaly/);
  });

  it('leaves predictions without the field when anomaly scoring is off', () => {
    const counters = createCounters();
    const out: StreamEvent[] = [];
    const src = new Subject<StreamEvent>();
    src.pipe(inferPerDevice(createSession(h2), { counters })).subscribe((e) => out.push(e));
    [0, 1, 2].forEach((u) => src.next(reading('d', u, [u, 0])));
    expect(out.every((e) => e.kind === 'prediction' && e.anomaly === undefined)).toBe(true);
  });
});
