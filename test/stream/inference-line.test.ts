// The whole live path without a network: bytes and topics in, messages to publish out.
import { pack } from 'msgpackr';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createSession } from '../../src/runtime/session.js';
import { createCounters } from '../../src/stream/counters.js';
import type { Incoming } from '../../src/stream/events.js';
import { inferenceLine } from '../../src/stream/inference-line.js';
import { model, reading, referenceOutputs } from './support.js';

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const dec = (b: Uint8Array | null) => JSON.parse(new TextDecoder().decode(b!));

describe('inferenceLine', () => {
  it('parses, steps per device, and encodes predictions and dead letters; every message gets an outcome', async () => {
    const session = createSession(model);
    const counters = createCounters();
    const acks: string[] = [];
    const msg = (topic: string, payload: Uint8Array, id: string): Incoming => ({ topic, payload, receivedAt: 5, ack: () => acks.push(id) });
    const input = [
      msg('sensors/m1/reading', enc({ ts: 100, seq: 1, values: { temperature: 20, humidity: 40 } }), '1'),
      msg('sensors/m1/reading', pack({ ts: 200, seq: 2, values: { temperature: 21, humidity: 41 } }), '2'),
      msg('sensors/m1/reading', enc({ ts: 200, seq: 2, values: { temperature: 21, humidity: 41 } }), 'dup'),
      msg('sensors/m2/reading', enc({ values: { temperature: 'x', humidity: 41 } }), 'bad'),
      msg('other/topic', enc({ values: { temperature: 1, humidity: 1 } }), 'nodev'),
    ];
    const out = await lastValueFrom(from(input).pipe(
      inferenceLine(session, { topics: ['sensors/+/reading'], predictionTopic: 'p/{device}', deadLetterTopic: 'e/{instance}/dl', instance: 'i1', counters }),
      toArray(),
    ));
    expect(out.map((o) => o.topic)).toEqual(['p/m1', 'p/m1', null, 'e/i1/dl', 'e/i1/dl']);
    const ref = referenceOutputs(session, [reading('m1', 1, [20, 40]), reading('m1', 2, [21, 41])]);
    const p1 = dec(out[1].payload);
    expect(p1).toMatchObject({ device: 'm1', seq: 2, ts: 200, model: { name: 't', version: 1 } });
    expect(p1.y.temperature).toBeCloseTo(ref[1][0], 6);
    expect(p1.y.humidity).toBeCloseTo(ref[1][1], 6);
    expect(dec(out[3].payload)).toMatchObject({ reason: 'non-numeric', topic: 'sensors/m2/reading', device: 'm2' });
    expect(dec(out[4].payload)).toMatchObject({ reason: 'no-device', topic: 'other/topic' });
    for (const o of out) o.event.origin.ack?.();
    expect(acks).toEqual(['1', '2', 'dup', 'bad', 'nodev']);
    expect(counters).toMatchObject({ received: 5, readings: 3, predictions: 2, duplicates: 1, deadLetters: 2, deadByReason: { 'non-numeric': 1, 'no-device': 1 } });
  });
});
