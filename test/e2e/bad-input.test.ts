// Bad input through a real broker: each case becomes a dead letter with its reason and
// the original topic, the runtime keeps serving, and the counters match.
import { pack } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFile } from '../../src/io/model-file.js';
import { startRuntime } from '../../src/io/mqtt-runtime.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { collect, connect, EXAMPLE_MODEL, readingPayload, uniqueId, waitFor } from './support.js';

describe('edge-rnn run with bad input', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('turns every kind of bad input into a dead letter with a reason and keeps serving', async () => {
    const { model } = readModelFile(EXAMPLE_MODEL);
    const instance = uniqueId('bad');
    const sink = await collect(broker.url, broker.mqttVersion, ['predictions/+', `edge-rnn/${instance}/dead-letter`]);
    const runtime = startRuntime(model, { broker: broker.url, mqttVersion: broker.mqttVersion, instance, maxBytes: 512, healthIntervalMs: 0,
      topics: ['sensors/+/reading', 'raw/#'] });
    await runtime.ready;
    const pub = await connect(broker.url, broker.mqttVersion);

    const good = (seq: number) => readingPayload({ device: 'ok', seq, temperature: 21.5, humidity: 40 });
    const cases: [topic: string, payload: Buffer, reason: string][] = [
      ['sensors/a/reading', Buffer.from('{"seq": 1, "values": {"temperature": 2'), 'invalid-json'],
      ['sensors/b/reading', Buffer.from([0x00, 0xff, 0xfe, 0x13, 0x80, 0x01, 0xc1]), 'invalid-encoding'],
      ['sensors/c/reading', Buffer.from([0x85, 0xc1, 0xc1, 0x02]), 'invalid-msgpack'],
      ['sensors/d/reading', Buffer.from('{"values": {"temperature": "hot", "humidity": 40}}'), 'non-numeric'],
      ['sensors/e/reading', Buffer.from('[27.9, 45.9]'), 'not-a-map'],
      ['sensors/f/reading', Buffer.from('{"values": {"temperature": 27.9}}'), 'missing-input'],
      ['sensors/g/reading', Buffer.from(pack({ values: { temperature: NaN, humidity: 40 } })), 'non-finite'],
      ['sensors/h/reading', Buffer.from('{"values": {"temperature": 1e999, "humidity": 40}}'), 'non-finite'],
      ['sensors/i/reading', Buffer.from(pack({ values: { temperature: 20, humidity: -Infinity } })), 'non-finite'],
      ['sensors/j/reading', Buffer.from(JSON.stringify({ values: { temperature: 20, humidity: 40 }, pad: 'x'.repeat(600) })), 'too-large'],
      ['raw/x', good(98), 'no-device'], // a pattern without a + level
      // An empty device level; aedes (the fallback) does not route it, Mosquitto does.
      ...(broker.kind === 'mosquitto' ? [['sensors//reading', good(99), 'no-device'] as [string, Buffer, string]] : []),
    ];
    await pub.publishAsync('sensors/ok/reading', good(0), { qos: 1 });
    for (const [topic, payload] of cases) await pub.publishAsync(topic, payload, { qos: 1 });
    await pub.publishAsync('sensors/ok/reading', good(1), { qos: 1 });

    const dead = () => sink.messages.filter((m) => m.topic.endsWith('/dead-letter'));
    const predictions = () => sink.messages.filter((m) => m.topic.startsWith('predictions/'));
    await waitFor('dead letters and predictions', () => dead().length >= cases.length && predictions().length >= 2);

    // Each case, in order, with its reason, the original topic and the raw bytes.
    expect(dead().map((m) => [m.doc.topic, m.doc.reason])).toEqual(cases.map(([t, , r]) => [t, r]));
    for (const [i, m] of dead().entries()) {
      expect(typeof m.doc.message).toBe('string');
      expect(m.doc.bytes).toBe(cases[i][1].length);
      if (m.doc.reason !== 'too-large') expect(Buffer.from(m.doc.payload, 'base64')).toEqual(cases[i][1]);
    }
    // Still serving: the readings before and after the bad ones were predicted.
    expect(predictions().map((m) => [m.doc.device, m.doc.seq])).toEqual([['ok', 0], ['ok', 1]]);

    const c = runtime.counters;
    expect(c.received).toBe(cases.length + 2);
    expect(c.deadLetters).toBe(cases.length);
    expect(c.predictions).toBe(2);
    const byReason: Record<string, number> = {};
    for (const [, , r] of cases) byReason[r] = (byReason[r] ?? 0) + 1;
    expect(c.deadByReason).toEqual(byReason);

    await runtime.stop();
    await pub.endAsync();
    await sink.client.endAsync();
  }, 20_000);
});
