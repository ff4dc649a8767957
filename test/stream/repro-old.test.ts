import { from, lastValueFrom, toArray } from 'rxjs';
import { expect, it } from 'vitest';
import { createSession } from '../../src/runtime/session.js';
import { createCounters } from '../../src/stream/counters.js';
import type { ModelOfferEvent, StreamEvent } from '../../src/stream/events.js';
import { inferPerDevice } from '../../src/stream/infer-per-device.js';
import { ModelSlot } from '../../src/stream/model-slot.js';
import { diverging, saturating, version, withTargetStats, TARGET_MEAN, TARGET_STD } from '../helpers/swap-models.js';
import { reading } from './support.js';
import type { Model } from '../../src/model/types.js';
const v1 = withTargetStats(version('m', 1), TARGET_MEAN, TARGET_STD);
const offer = (m: Model): ModelOfferEvent => ({ kind: 'model-offer', result: { ok: true, model: m, sha256: `sha-${m.modelVersion}`, keyId: 'k' }, origin: { receivedAt: 1 } });
async function fleet(bad: Model) {
  const ev: StreamEvent[] = [offer(bad)];
  for (let r = 0; r < 4; r++) for (let d = 0; d < 100; d++) ev.push(reading(`d${d}`, r, [20 + r / 10, 40]));
  const out = await lastValueFrom(from(ev).pipe(inferPerDevice(createSession(v1), { counters: createCounters(), swap: { probation: 100 } }), toArray()));
  return out;
}
it('diverging over 100 devices is rolled back', async () => {
  const out = await fleet(diverging('m', 2));
  expect(out.some((e) => e.kind === 'model-status' && e.status === 'rolled-back')).toBe(true);
});
it('saturating is rolled back', async () => {
  const out = await fleet(saturating('m', 2));
  expect(out.some((e) => e.kind === 'model-status' && e.status === 'rolled-back')).toBe(true);
});
it('anti-rollback survives a restart without store', () => {
  const s = new ModelSlot(createSession(v1), { probation: 0 });
  s.accept({ model: version('m', 3), sha256: 'x', keyId: 'k' });
  const after = new ModelSlot(createSession(v1), { probation: 0 });
  expect(after.judge({ model: version('m', 2), sha256: 'y', keyId: 'k' }).accept).toBe(false);
});
