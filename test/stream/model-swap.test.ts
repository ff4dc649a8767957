// Hot swap inside the stream, without a broker: a model offer in the reading flow swaps
// the model between two readings; probation rolls back a failing model.
import { from, lastValueFrom, map, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { Model } from '../../src/model/types.js';
import { createSession, type Session, type StreamState } from '../../src/runtime/session.js';
import { createCounters } from '../../src/stream/counters.js';
import type { ModelOfferEvent, ModelStatusEvent, PredictionEvent, ReadingEvent, StreamEvent } from '../../src/stream/events.js';
import { inferPerDevice, type InferOptions } from '../../src/stream/infer-per-device.js';
import { recurrentShape } from '../../src/stream/model-slot.js';
import { exploding, version } from '../helpers/swap-models.js';
import { reading } from './support.js';

const v1 = version('m', 1);
const v2 = version('m', 2); // same shape, other weights
const v2small = version('m', 2, { hidden: 4 }); // other recurrent shape

const offer = (model: Model, sha256 = `sha-${model.name}-${model.modelVersion}-${model.layers[0].type}`): ModelOfferEvent =>
  ({ kind: 'model-offer', result: { ok: true, model, sha256, keyId: 'k1' }, origin: { receivedAt: 7 } });
const failedOffer = (code: string): ModelOfferEvent => ({ kind: 'model-offer', result: { ok: false, code, message: `refused: ${code}` }, origin: { receivedAt: 7 } });

type Opts = Partial<InferOptions>;
async function run(events: (StreamEvent | StreamEvent[])[], opts: Opts = {}) {
  const counters = createCounters();
  const out = await lastValueFrom(from(events as StreamEvent[]).pipe(inferPerDevice(createSession(v1), { counters, swap: { probation: 0, runningSha256: 'sha-v1', ...opts.swap }, ...opts }), toArray()));
  return { out, counters };
}
const preds = (out: StreamEvent[]) => out.filter((e): e is PredictionEvent => e.kind === 'prediction');
const statuses = (out: StreamEvent[]) => out.filter((e): e is ModelStatusEvent => e.kind === 'model-status');

/** Independent reference: a plain loop over sessions, one state per device, with the swap done by hand. */
function reference(steps: { device: string; values: number[]; model: Model; resetBefore?: boolean }[]): number[][] {
  const sessions = new Map<Model, Session>();
  const states = new Map<string, StreamState>();
  return steps.map((s) => {
    const session = sessions.get(s.model) ?? sessions.set(s.model, createSession(s.model)).get(s.model)!;
    let st = states.get(s.device);
    if (!st || s.resetBefore) states.set(s.device, (st = session.createState()));
    return Array.from(session.step(st, Float32Array.from(s.values), new Float32Array(2)));
  });
}

describe('model swap in the stream', () => {
  const a0 = reading('a', 0, [20, 40]);
  const b0 = reading('b', 0, [21, 41]);
  const a1 = reading('a', 1, [22, 42]);
  const b1 = reading('b', 1, [23, 43]);

  it('swaps between two readings; same recurrent shape keeps each device state', async () => {
    const { out, counters } = await run([a0, b0, offer(v2), a1, b1]);
    expect(out.map((e) => e.kind)).toEqual(['prediction', 'prediction', 'model-status', 'prediction', 'prediction']);
    expect(preds(out).map((p) => p.model.modelVersion)).toEqual([1, 1, 2, 2]);
    const want = reference([
      { device: 'a', values: [20, 40], model: v1 }, { device: 'b', values: [21, 41], model: v1 },
      { device: 'a', values: [22, 42], model: v2 }, { device: 'b', values: [23, 43], model: v2 },
    ]);
    expect(preds(out).map((p) => Array.from(p.y))).toEqual(want);
    expect(statuses(out)[0]).toMatchObject({ status: 'accepted', name: 'm', version: 2, statesKept: true, running: { name: 'm', version: 2 } });
    expect(counters).toMatchObject({ swaps: 1, swapResets: 0, modelRejects: 0 });
  });

  it('a different recurrent shape resets every device state, counted', async () => {
    expect(recurrentShape(v2small)).not.toBe(recurrentShape(v1));
    const { out, counters } = await run([a0, b0, offer(v2small), a1, b1]);
    const want = reference([
      { device: 'a', values: [22, 42], model: v2small }, { device: 'b', values: [23, 43], model: v2small },
    ]);
    expect(preds(out).slice(2).map((p) => Array.from(p.y))).toEqual(want);
    expect(statuses(out)[0]).toMatchObject({ status: 'accepted', statesKept: false });
    expect(counters).toMatchObject({ swaps: 1, swapResets: 2 });
  });

  it('an offer inside a burst (stepBatch path) still lands between the same two readings', async () => {
    const single = await run([a0, b0, offer(v2), a1, b1]);
    const burst = await run([[a0, b0, offer(v2), a1, b1]]);
    expect(preds(burst.out).map((p) => [p.model.modelVersion, ...Array.from(p.y)])).toEqual(preds(single.out).map((p) => [p.model.modelVersion, ...Array.from(p.y)]));
    expect(burst.counters.batches).toBe(2);
  });

  it('refuses older or equal versions, other inputs, another name, and unverified offers; the old model keeps serving', async () => {
    const cases: [ModelOfferEvent, string][] = [
      [offer(version('m', 1, { seed: 9 }), 'sha-other'), 'not-newer'],
      [offer(version('m', 3, { inputs: ['humidity', 'temperature'] })), 'incompatible-inputs'],
      [offer(version('m', 3, { inputs: ['temperature', 'humidity', 'pressure'] })), 'incompatible-inputs'],
      [offer(version('other', 3)), 'name-mismatch'],
      [failedOffer('bad-signature'), 'bad-signature'],
      [failedOffer('unsigned'), 'unsigned'],
    ];
    const events: StreamEvent[] = [a0];
    cases.forEach(([o], i) => events.push(o, reading('a', i + 1, [20 + i, 40])));
    const { out, counters } = await run(events);
    expect(statuses(out).map((s) => [s.status, s.code])).toEqual(cases.map(([, code]) => ['rejected', code]));
    expect(statuses(out).every((s) => s.running.version === 1)).toBe(true);
    expect(preds(out).map((p) => p.model.modelVersion)).toEqual(Array(cases.length + 1).fill(1));
    expect(counters).toMatchObject({ swaps: 0, modelRejects: cases.length });

    const older = await run([offer(version('m', 3)), a0, offer(v2), a1]);
    expect(statuses(older.out).map((s) => [s.status, s.code, s.running.version])).toEqual([['accepted', undefined, 3], ['rejected', 'not-newer', 3]]);
    expect(preds(older.out).map((p) => p.model.modelVersion)).toEqual([3, 3]);
  });

  it('the running model offered again (a retained redelivery) is "unchanged", not a reject', async () => {
    const { out, counters } = await run([offer(v2, 'sha-2'), a0, offer(v2, 'sha-2'), a1]);
    expect(statuses(out).map((s) => [s.status, s.code])).toEqual([['accepted', undefined], ['unchanged', 'unchanged']]);
    expect(counters.modelRejects).toBe(0);
  });

  it('--allow-downgrade accepts an older version', async () => {
    const { out } = await run([a0, offer(version('m', 1, { seed: 3 }), 'sha-old')], { swap: { allowDowngrade: true } });
    expect(statuses(out)[0]).toMatchObject({ status: 'accepted', version: 1 });
  });

  it('probation: a non-finite output rolls back; the reading is predicted by the old model; that version is refused after', async () => {
    const bad = exploding('m', 2);
    const { out, counters } = await run([a0, b0, offer(bad, 'sha-bad'), a1, b1, offer(bad, 'sha-bad')], { swap: { probation: 10 } });
    expect(out.map((e) => (e.kind === 'model-status' ? e.status : e.kind))).toEqual(['prediction', 'prediction', 'accepted', 'rolled-back', 'prediction', 'prediction', 'rejected']);
    const rb = statuses(out)[1];
    expect(rb).toMatchObject({ name: 'm', version: 2, code: 'non-finite-output', statesKept: false, running: { name: 'm', version: 1 } });
    expect(rb.reason).toMatch(/device a/);
    // Every reading has exactly one prediction, all from v1; after the rollback each device starts from zero.
    const p = preds(out);
    expect(p.map((e) => [e.device, e.model.modelVersion])).toEqual([['a', 1], ['b', 1], ['a', 1], ['b', 1]]);
    expect(p.slice(2).map((e) => Array.from(e.y))).toEqual(reference([
      { device: 'a', values: [22, 42], model: v1 }, { device: 'b', values: [23, 43], model: v1 },
    ]));
    expect(p[2].fresh).toBe(true);
    expect(statuses(out)[2]).toMatchObject({ status: 'rejected', code: 'rolled-back-before' });
    // Reset twice: the swap to another shape (RNN) and the rollback.
    expect(counters).toMatchObject({ swaps: 1, rollbacks: 1, swapResets: 4, deadLetters: 0 });
  });

  it('probation: a throwing model rolls back too, and versions remembered from an earlier run are refused', async () => {
    let calls = 0;
    const throwing = (m: Model): Session => {
      const s = createSession(m);
      if (m.modelVersion !== 2) return s;
      return { ...s, step: (...args) => (++calls === 3 ? (() => { throw new Error('kaboom'); })() : s.step(...args)) };
    };
    const evs = [offer(v2), a0, b0, a1, b1];
    const { out } = await run(evs, { swap: { probation: 5, createSession: throwing } });
    expect(out.map((e) => (e.kind === 'model-status' ? e.status : e.kind))).toEqual(['accepted', 'prediction', 'prediction', 'rolled-back', 'prediction', 'prediction']);
    expect(statuses(out)[1]).toMatchObject({ code: 'step-error', reason: expect.stringMatching(/kaboom/) });
    expect(preds(out).map((p) => p.model.modelVersion)).toEqual([2, 2, 1, 1]);

    const again = await run([offer(v2), a0], { swap: { rolledBack: [{ name: 'm', version: 2 }] } });
    expect(statuses(again.out)[0]).toMatchObject({ status: 'rejected', code: 'rolled-back-before' });
  });

  it('after N good readings the model is committed; a later non-finite output is only a dead letter', async () => {
    let bad = false;
    const flaky = (m: Model): Session => {
      const s = createSession(m);
      return m.modelVersion === 2 ? { ...s, step: (...args) => (bad ? new Float32Array([NaN, 0]) : s.step(...args)) } : s;
    };
    const events: StreamEvent[] = [offer(v2), a0, b0, a1];
    const counters = createCounters();
    const src = from([...events, b1]).pipe(map((e) => {
      if (e === b1) bad = true;
      return e;
    }));
    const out = await lastValueFrom(src.pipe(inferPerDevice(createSession(v1), { counters, swap: { probation: 3, createSession: flaky } }), toArray()));
    expect(out.map((e) => (e.kind === 'model-status' ? e.status : e.kind === 'dead-letter' ? e.code : e.kind)))
      .toEqual(['accepted', 'prediction', 'prediction', 'prediction', 'committed', 'non-finite-output']);
    expect(counters.rollbacks).toBe(0);
  });

  it('marble: each reading is predicted by exactly one model, the swap sits where the offer was', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    scheduler.run(({ cold, expectObservable }) => {
      const values: Record<string, StreamEvent> = {
        a: reading('a', 0, [20, 40]), b: reading('a', 1, [21, 41]), S: offer(v2),
        c: reading('a', 2, [22, 42]), d: reading('b', 0, [23, 43]), T: offer(version('m', 2, { seed: 5 }), 'sha-dup'),
      };
      const source = cold('a-b-S-c-d-T-c|', values);
      const label = (e: StreamEvent) =>
        e.kind === 'prediction' ? `${e.device}${e.reading.seq}@v${e.model.modelVersion}` : e.kind === 'model-status' ? `${e.status}:v${e.version}` : e.kind;
      const counters = createCounters();
      expectObservable(source.pipe(inferPerDevice(createSession(v1), { counters, swap: { probation: 0 } }), map(label))).toBe('a-b-S-c-d-T-D|', {
        a: 'a0@v1', b: 'a1@v1', S: 'accepted:v2', c: 'a2@v2', d: 'b0@v2', T: 'rejected:v2', D: 'dropped',
      });
    });
  });
});
