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
import { initialState, transition } from '../../src/stream/model-lifecycle.js';
import { planModel } from '../../src/model/plan.js';
import { DEFAULT_PROBATION } from '../../src/stream/probation.js';
import { diverging, exploding, saturating, TARGET_MEAN, TARGET_STD, version, withTargetStats } from '../helpers/swap-models.js';
import { reading } from './support.js';

const v1 = version('m', 1);
const v2 = version('m', 2); // same shape, other weights, retrained from scratch
const v2cont = { ...v2, meta: { continuesFrom: 'sha-v1' } }; // declares it continues v1 (train --init-from)
const v2small = version('m', 2, { hidden: 4 }); // other recurrent shape

const offer = (model: Model, sha256 = `sha-${model.name}-${model.modelVersion}-${model.layers[0].type}`): ModelOfferEvent =>
  ({ kind: 'model-offer', result: { ok: true, model, sha256, keyId: 'k1' }, origin: { receivedAt: 7 } });
const failedOffer = (code: string): ModelOfferEvent => ({ kind: 'model-offer', result: { ok: false, code, message: `refused: ${code}` }, origin: { receivedAt: 7 } });

type Opts = Partial<InferOptions>;
async function run(events: (StreamEvent | StreamEvent[])[], opts: Opts = {}) {
  const counters = createCounters();
  const out = await lastValueFrom(from(events as StreamEvent[]).pipe(inferPerDevice(createSession(v1), { counters, swap: { probation: { minReadings: 0 }, runningSha256: 'sha-v1', ...opts.swap }, ...opts }), toArray()));
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

  it('swaps between two readings; a model that continues the running one keeps each device state', async () => {
    const { out, counters } = await run([a0, b0, offer(v2cont), a1, b1]);
    expect(out.map((e) => e.kind)).toEqual(['prediction', 'prediction', 'model-status', 'model-status', 'prediction', 'prediction']);
    expect(preds(out).map((p) => p.model.modelVersion)).toEqual([1, 1, 2, 2]);
    const want = reference([
      { device: 'a', values: [20, 40], model: v1 }, { device: 'b', values: [21, 41], model: v1 },
      { device: 'a', values: [22, 42], model: v2 }, { device: 'b', values: [23, 43], model: v2 },
    ]);
    expect(preds(out).map((p) => Array.from(p.y))).toEqual(want);
    expect(statuses(out)[0]).toMatchObject({ status: 'accepted', name: 'm', version: 2, statesKept: true, statesReason: 'continues-running', running: { name: 'm', version: 2 } });
    expect(statuses(out)[1]).toMatchObject({ status: 'committed', version: 2 }); // no probation here
    expect(counters).toMatchObject({ swaps: 1, swapResets: 0, modelRejects: 0 });
  });

  it('state on swap: reset unless the model continues the running one (or the operator allows same-shape keeping)', async () => {
    const cases: [string, Model, Opts, boolean, string][] = [
      ['retrained from scratch', v2, {}, false, 'fresh-model'],
      ['continues another model', { ...v2, meta: { continuesFrom: 'sha-other' } }, {}, false, 'continues-other'],
      ['continues the running one', v2cont, {}, true, 'continues-running'],
      ['other recurrent shape, even if it claims to continue', { ...v2small, meta: { continuesFrom: 'sha-v1' } }, {}, false, 'shape-changed'],
      ['fresh, but keepStatesOnSameShape', v2, { swap: { keepStatesOnSameShape: true } }, true, 'same-shape-allowed'],
    ];
    for (const [what, m, opts, kept, why] of cases) {
      const { out, counters } = await run([a0, b0, offer(m), a1, b1], opts);
      expect(statuses(out)[0], what).toMatchObject({ status: 'accepted', statesKept: kept, statesReason: why });
      expect(counters.swapResets, what).toBe(kept ? 0 : 2);
      const fresh = reference([{ device: 'a', values: [22, 42], model: m }, { device: 'b', values: [23, 43], model: m }]);
      if (!kept) expect(preds(out).slice(2).map((p) => Array.from(p.y)), what).toEqual(fresh);
      else expect(preds(out).slice(2).map((p) => Array.from(p.y)), what).not.toEqual(fresh);
    }
  });

  it('a different recurrent shape resets every device state, counted', async () => {
    expect(planModel(v2small).shapeKey).not.toBe(planModel(v1).shapeKey);
    const { out, counters } = await run([a0, b0, offer(v2small), a1, b1]);
    const want = reference([
      { device: 'a', values: [22, 42], model: v2small }, { device: 'b', values: [23, 43], model: v2small },
    ]);
    expect(preds(out).slice(2).map((p) => Array.from(p.y))).toEqual(want);
    expect(statuses(out)[0]).toMatchObject({ status: 'accepted', statesKept: false, statesReason: 'shape-changed' });
    expect(counters).toMatchObject({ swaps: 1, swapResets: 2 });
  });

  it('an offer inside a burst (stepBatch path) still lands between the same two readings', async () => {
    const single = await run([a0, b0, offer(v2cont), a1, b1]);
    const burst = await run([[a0, b0, offer(v2cont), a1, b1]]);
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
    expect(statuses(older.out).map((s) => [s.status, s.code, s.running.version])).toEqual([['accepted', undefined, 3], ['committed', undefined, 3], ['rejected', 'not-newer', 3]]);
    expect(preds(older.out).map((p) => p.model.modelVersion)).toEqual([3, 3]);
  });

  it('the running model offered again (a retained redelivery) is "unchanged", not a reject', async () => {
    const { out, counters } = await run([offer(v2, 'sha-2'), a0, offer(v2, 'sha-2'), a1]);
    expect(statuses(out).map((s) => [s.status, s.code])).toEqual([['accepted', undefined], ['committed', undefined], ['unchanged', 'unchanged']]);
    expect(counters.modelRejects).toBe(0);
  });

  it('--allow-downgrade accepts an older version', async () => {
    const { out } = await run([a0, offer(version('m', 1, { seed: 3 }), 'sha-old')], { swap: { allowDowngrade: true } });
    expect(statuses(out)[0]).toMatchObject({ status: 'accepted', version: 1 });
  });

  it('probation: a non-finite output rolls back; the reading is predicted by the old model; that version is refused after', async () => {
    const bad = exploding('m', 2);
    const { out, counters } = await run([a0, b0, offer(bad, 'sha-bad'), a1, b1, offer(bad, 'sha-bad')], { swap: { probation: { minReadings: 10 } } });
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
    const { out } = await run(evs, { swap: { probation: { minReadings: 5 }, createSession: throwing } });
    expect(out.map((e) => (e.kind === 'model-status' ? e.status : e.kind))).toEqual(['accepted', 'prediction', 'prediction', 'rolled-back', 'prediction', 'prediction']);
    expect(statuses(out)[1]).toMatchObject({ code: 'step-error', reason: expect.stringMatching(/kaboom/) });
    expect(preds(out).map((p) => p.model.modelVersion)).toEqual([2, 2, 1, 1]);

    const remembered = transition(transition(initialState({ name: 'm', version: 1 }), { type: 'accept', model: { name: 'm', version: 2 } }), { type: 'roll-back' });
    const again = await run([offer(v2), a0], { swap: { lifecycle: remembered } });
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
    const out = await lastValueFrom(src.pipe(inferPerDevice(createSession(v1), { counters, swap: { probation: { minReadings: 3, minDevices: 1, minStepsPerDevice: 1 }, createSession: flaky } }), toArray()));
    expect(out.map((e) => (e.kind === 'model-status' ? e.status : e.kind === 'dead-letter' ? e.code : e.kind)))
      .toEqual(['accepted', 'prediction', 'prediction', 'prediction', 'committed', 'non-finite-output']);
    expect(counters.rollbacks).toBe(0);
  });

  describe('probation judged per device, with the model\'s own statistics (issue 13)', () => {
    const base = withTargetStats(v1, TARGET_MEAN, TARGET_STD);
    /** 100 devices, `rounds` readings each, round-robin (the spread that once hid a diverging model). */
    const fleet = (rounds: number) => Array.from({ length: 100 * rounds }, (_, i) => reading(`d${i % 100}`, Math.floor(i / 100), [20 + (i % 7) / 10, 40 - (i % 5) / 10]));
    async function push(bad: Model, rounds: number) {
      const counters = createCounters();
      const events: StreamEvent[] = [offer(bad, 'sha-bad'), ...fleet(rounds)];
      const out = await lastValueFrom(from(events).pipe(inferPerDevice(createSession(base), { counters, swap: { runningSha256: 'sha-v1' } }), toArray()));
      return { out, counters };
    }
    const implausible = (out: StreamEvent[]) => preds(out).filter((p) => p.model.modelVersion === 2 && p.y.some((v, o) => !(Math.abs((v - TARGET_MEAN[o]) / TARGET_STD[o]) <= 10)));

    it('a model diverging after a few steps, readings spread over 100 devices, is rolled back; none of its implausible outputs is published', async () => {
      const { out, counters } = await push(diverging('m', 2), 10);
      const rb = statuses(out).find((e) => e.status === 'rolled-back');
      expect(rb).toMatchObject({ version: 2, code: 'implausible-output', running: { version: 1 }, statesKept: false });
      expect(rb!.reason).toMatch(/std from the training targets/);
      expect(implausible(out)).toEqual([]);
      // What it did publish before (3 ordinary steps on each device, then the failing 4th) is counted in the status.
      const byBad = preds(out).filter((p) => p.model.modelVersion === 2).length;
      expect(byBad).toBe(300);
      expect(rb!.publishedOnProbation).toBe(byBad);
      expect(preds(out)).toHaveLength(1000); // every reading predicted once: the failing one by v1
      expect(counters).toMatchObject({ rollbacks: 1, deadLetters: 0 });
      expect(statuses(out).some((e) => e.status === 'committed')).toBe(false);
    });

    it('a model saturating at 1e10 is rolled back at its first reading', async () => {
      const { out } = await push(saturating('m', 2), 2);
      expect(statuses(out).map((e) => [e.status, e.code])).toEqual([['accepted', undefined], ['rolled-back', 'implausible-output']]);
      expect(statuses(out)[1].publishedOnProbation).toBe(0);
      expect(preds(out).every((p) => p.model.modelVersion === 1)).toBe(true);
    });

    it('a good model commits only once enough devices have each been seen enough', async () => {
      const good = withTargetStats(v2, TARGET_MEAN, TARGET_STD);
      const { out } = await push(good, 10);
      const i = out.findIndex((e) => e.kind === 'model-status' && e.status === 'committed');
      expect(i).toBeGreaterThan(0);
      // Committed right after the third device's 10th reading: 9 full rounds plus 3 readings.
      expect(preds(out.slice(0, i)).length).toBe(903);
      expect(statuses(out)[0].probation).toEqual(DEFAULT_PROBATION);
    });

    it('a push during another model\'s probation supersedes it; a failure returns to the last committed model', async () => {
      const v3 = withTargetStats(version('m', 3), TARGET_MEAN, TARGET_STD);
      const bad = saturating('m', 4);
      const events: StreamEvent[] = [a0, offer(v2, 'sha-2'), a1, offer(v3, 'sha-3'), b0, offer(bad, 'sha-4'), b1, offer(v3, 'sha-3')];
      const { out } = await run(events, { swap: { probation: {} } });
      expect(statuses(out).map((e) => [e.status, e.version, e.supersedes?.version, e.running.version])).toEqual([
        ['accepted', 2, undefined, 2], ['accepted', 3, 2, 3], ['accepted', 4, 3, 4], ['rolled-back', 4, undefined, 1],
        ['accepted', 3, undefined, 3], // v3 never failed: it may be tried again
      ]);
      expect(preds(out).map((p) => p.model.modelVersion)).toEqual([1, 2, 3, 1]);
    });
  });

  it('marble: each reading is predicted by exactly one model, the swap sits where the offer was', () => {
    const scheduler = new TestScheduler((a, b) => expect(a).toEqual(b));
    scheduler.run(({ cold, expectObservable }) => {
      const values: Record<string, StreamEvent> = {
        a: reading('a', 0, [20, 40]), b: reading('a', 1, [21, 41]), S: offer(v2),
        c: reading('a', 2, [22, 42]), d: reading('b', 0, [23, 43]), T: offer(version('m', 2, { seed: 5 }), 'sha-dup'),
      };
      const source = cold('a-b-S----c-d-T-c|', values);
      const label = (e: StreamEvent) =>
        e.kind === 'prediction' ? `${e.device}${e.reading.seq}@v${e.model.modelVersion}` : e.kind === 'model-status' ? `${e.status}:v${e.version}` : e.kind;
      const counters = createCounters();
      expectObservable(source.pipe(inferPerDevice(createSession(v1), { counters, swap: { probation: { minReadings: 0 } } }), map(label))).toBe('a-b-(SC)-c-d-T-D|', {
        a: 'a0@v1', b: 'a1@v1', S: 'accepted:v2', C: 'committed:v2', c: 'a2@v2', d: 'b0@v2', T: 'rejected:v2', D: 'dropped',
      });
    });
  });
});
