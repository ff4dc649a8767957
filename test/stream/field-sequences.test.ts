// Real-firmware sequence behaviour through the stream operator (issue 12): a reboot that
// counts from 0 again, one spoofed huge seq, readings reordered by the network. Each
// reading ends as a prediction, a counted duplicate or a dead letter with a reason.
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createSession } from '../../src/runtime/session.js';
import { createCounters } from '../../src/stream/counters.js';
import type { DeadLetterEvent, PredictionEvent, StreamEvent } from '../../src/stream/events.js';
import { inferPerDevice, type InferOptions } from '../../src/stream/infer-per-device.js';
import { model, reading } from './support.js';

const session = createSession(model);
async function run(events: StreamEvent[], opts: Partial<InferOptions> = {}) {
  const counters = createCounters();
  const out = await lastValueFrom(from(events).pipe(inferPerDevice(session, { counters, ...opts }), toArray()));
  const predicted = out.filter((e): e is PredictionEvent => e.kind === 'prediction').map((e) => e.reading.seq);
  const dead = out.filter((e): e is DeadLetterEvent => e.kind === 'dead-letter').map((e) => e.code);
  return { out, counters, predicted, dead };
}
const v = (i: number) => [20 + Math.sin(i), 40 + Math.cos(i)];

describe('sequence rules in the stream', () => {
  it('reboot after a --reset-after gap: readings from seq 1 again are predicted, the gap counted as a reset', async () => {
    const before = Array.from({ length: 20 }, (_, i) => reading('a', i + 1, v(i), i * 100));
    const after = Array.from({ length: 5 }, (_, i) => reading('a', i + 1, v(i), 1900 + 3500 + i * 100));
    const r = await run([...before, ...after], { resetAfterMs: 2000 });
    expect(r.predicted).toEqual([...before, ...after].map((e) => e.reading.seq));
    expect(r.counters.duplicates).toBe(0);
    expect(r.counters.resets).toBe(1);
  });

  it('reboot without a gap: a seq far below the last one starts a new epoch', async () => {
    const before = Array.from({ length: 600 }, (_, i) => reading('a', i, v(i), i));
    const after = Array.from({ length: 5 }, (_, i) => reading('a', i, v(i), 600 + i));
    const r = await run([...before, ...after], { resetAfterMs: 0 });
    expect(r.predicted).toHaveLength(605);
    expect(r.counters.reboots).toBe(1);
    const firstAfter = r.out[600] as PredictionEvent;
    expect(firstAfter.fresh).toBe(true);
    expect(firstAfter.steps).toBe(1);
  });

  it('one spoofed seq 9007199254740991 is a dead letter and does not silence the device', async () => {
    const genuine = Array.from({ length: 10 }, (_, i) => reading('a', i, v(i), i));
    const spoof = reading('a', Number.MAX_SAFE_INTEGER, v(99), 5);
    const r = await run([...genuine.slice(0, 5), spoof, ...genuine.slice(5)]);
    expect(r.predicted).toEqual(genuine.map((e) => e.reading.seq));
    expect(r.dead).toEqual(['seq-jump']);
    expect(r.counters.duplicates).toBe(0);
  });

  it('a reading the network held back is a dead letter `late`, not a silent duplicate', async () => {
    const seqs = [0, 1, 3, 2, 4, 5];
    const r = await run(seqs.map((s, i) => reading('a', s, v(s), i)));
    expect(r.predicted).toEqual([0, 1, 3, 4, 5]);
    expect(r.dead).toEqual(['late']);
    expect(r.counters.duplicates).toBe(0);
    expect(r.counters.predictions + r.counters.deadLetters + r.counters.duplicates).toBe(seqs.length);
  });

  it('predictions count the steps since the last reset', async () => {
    const r = await run([0, 1, 2].map((s) => reading('a', s, v(s), s)));
    expect(r.out.map((e) => (e as PredictionEvent).steps)).toEqual([1, 2, 3]);
  });

  it('refuses invalid options when the line is built, naming the option', () => {
    const counters = createCounters();
    expect(() => inferPerDevice(session, { counters, seqWindow: 0 })).toThrow(/seqWindow/);
    expect(() => inferPerDevice(session, { counters, seqWindow: 1.5 })).toThrow(/seqWindow/);
    expect(() => inferPerDevice(session, { counters, maxSeqJump: NaN })).toThrow(/maxSeqJump/);
    expect(() => inferPerDevice(session, { counters, guardZ: 0 })).toThrow(/guardZ/);
    expect(() => inferPerDevice(session, { counters, guardPolicy: 'bogus' as 'off' })).toThrow(/guardPolicy/);
    expect(() => inferPerDevice(session, { counters, seqWindow: 64, maxSeqJump: 100, guardZ: 6, guardPolicy: 'clamp' })).not.toThrow();
  });

  it('a smaller window: a reading held back beyond it starts a new epoch instead of being late', async () => {
    const seqs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1];
    const narrow = await run(seqs.map((s, i) => reading('a', s, v(s), i)), { seqWindow: 4 });
    expect(narrow.counters.reboots).toBe(1);
    expect(narrow.predicted).toEqual(seqs);
    const wide = await run(seqs.map((s, i) => reading('a', s, v(s), i)));
    expect(wide.dead).toEqual([]); // seq 1 was seen within the default window: a duplicate
    expect(wide.counters.duplicates).toBe(1);
  });

  it('maxSeqJump bounds what one reading may skip', async () => {
    const r = await run([0, 50, 51].map((s, i) => reading('a', s, v(s), i)), { maxSeqJump: 10 });
    expect(r.dead).toEqual(['seq-jump']);
    expect(r.predicted).toEqual([0, 51]);
    expect(r.counters.seqResyncs).toBe(1);
  });
});
