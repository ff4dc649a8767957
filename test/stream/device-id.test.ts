// Bounded identities (issue 12): a device id longer than maxDeviceIdBytes is a dead letter
// before any map is keyed by it, and its dead letter does not echo the whole topic.
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createSession } from '../../src/runtime/session.js';
import { createCounters } from '../../src/stream/counters.js';
import type { DeviceTable } from '../../src/stream/device-table.js';
import type { Incoming } from '../../src/stream/events.js';
import { inferenceLine } from '../../src/stream/inference-line.js';
import { model } from './support.js';

const payload = new TextEncoder().encode(JSON.stringify({ seq: 1, values: { temperature: 20, humidity: 40 } }));

async function line(devices: string[], maxDeviceIdBytes?: number) {
  const counters = createCounters();
  let table: DeviceTable | undefined;
  const input: Incoming[] = devices.map((d) => ({ topic: `sensors/${d}/reading`, payload, receivedAt: 1 }));
  const out = await lastValueFrom(from(input).pipe(
    inferenceLine(createSession(model), {
      topics: ['sensors/+/reading'], predictionTopic: 'p/{device}', deadLetterTopic: 'dl', instance: 'i', counters,
      onTable: (t) => (table = t), ...(maxDeviceIdBytes !== undefined ? { maxDeviceIdBytes } : {}),
    }),
    toArray(),
  ));
  return { out, counters, table: table! };
}

describe('device id length limit', () => {
  it('a 60 000-byte id is a dead letter device-id-too-long; the table never holds it', async () => {
    const long = 'x'.repeat(60_000);
    const { out, counters, table } = await line([long, 'ok']);
    expect(out.map((o) => (o.event.kind === 'dead-letter' ? o.event.code : o.event.kind))).toEqual(['device-id-too-long', 'prediction']);
    expect(table.has(long)).toBe(false);
    expect(table.size).toBe(1);
    const doc = JSON.parse(new TextDecoder().decode(out[0].payload!));
    expect(doc.device).toBeUndefined();
    expect(doc.topic.length).toBeLessThan(1000);
    expect(doc.topicBytes).toBe(60_000 + 'sensors//reading'.length);
    expect(counters.deadByReason['device-id-too-long']).toBe(1);
  });

  it('counts UTF-8 bytes, not characters: the default limit is 128 bytes', async () => {
    const { out } = await line(['a'.repeat(128), 'a'.repeat(129), '€'.repeat(42), '€'.repeat(43)]);
    expect(out.map((o) => o.event.kind)).toEqual(['prediction', 'dead-letter', 'prediction', 'dead-letter']);
  });

  it('the limit is an option', async () => {
    const { out } = await line(['abcd', 'abcde'], 4);
    expect(out.map((o) => o.event.kind)).toEqual(['prediction', 'dead-letter']);
  });
});
