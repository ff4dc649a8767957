// The runtime's client announces an MQTT 5 Receive Maximum (src/io/runtime/client-options.ts)
// and Mosquitto honours it for the first window: with acknowledgements held back, as `run`
// holds a reading's PUBACK until its prediction is out, the broker sends RECEIVE_MAXIMUM
// readings and waits, where with mqtt.js's own announcement (65 535) it sends all of them
// at once. Once acks flow, Mosquitto 2.0 tops the window up in bursts (a reader held to one
// message at a time was seen up to 594 of 1 000 readings ahead), so this is no hard bound.
// All readings arrive once acknowledged.
import mqtt, { type IPublishPacket } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientOptionsFor, identityOf, RECEIVE_MAXIMUM } from '../../src/io/runtime/client-options.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { sleep, uniqueId, waitFor } from './support.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => broker.close());

describe('receive maximum', () => {
  it('holds back the readings beyond RECEIVE_MAXIMUM until earlier ones are acknowledged, and loses none', { timeout: 30_000 }, async (ctx) => {
    if (broker.mqttVersion !== 5) ctx.skip(); // aedes: MQTT 3.1.1 only
    const options = { broker: broker.url, instance: uniqueId('rm'), sessionExpiryS: 0 };
    const client = mqtt.connect(broker.url, { ...clientOptionsFor(options, identityOf(options), '{}'), reconnectPeriod: 0 });
    // mqtt.js hands over one message at a time (the next after `done`) and queues the rest
    // as it reads them. A second parser on the socket's bytes counts what the broker sent;
    // `handleMessage` counts what the runtime was given. Nothing is acknowledged until released.
    let sent = 0;
    let given = 0;
    let release: (() => void) | null = null;
    const wire = mqttPacket.parser({ protocolVersion: 5 });
    wire.on('packet', (p) => void (p.cmd === 'publish' && sent++));
    client.on('connect', () => client.stream.on('data', (chunk: Buffer) => wire.parse(chunk)));
    client.handleMessage = (_p: IPublishPacket, done: (err?: Error) => void) => {
      given++;
      release = () => done();
    };
    await new Promise((r) => client.once('connect', r));
    // (the CONNACK went by before the listener: the parser starts at the next packet)
    await client.subscribeAsync('rm/+/reading', { qos: 1 });
    const pub = await mqtt.connectAsync(broker.url, { clientId: uniqueId('rm-pub'), protocolVersion: 5 });
    const total = 3 * RECEIVE_MAXIMUM;
    await Promise.all(Array.from({ length: total }, (_, i) => pub.publishAsync(`rm/d${i % 7}/reading`, `{"seq":${i}}`, { qos: 1 })));
    await waitFor('the first readings', () => sent >= RECEIVE_MAXIMUM);
    await sleep(500); // time for the broker to send more, were it allowed to
    expect(given).toBe(1);
    expect(sent).toBe(RECEIVE_MAXIMUM);
    while (given < total) {
      const r = release as (() => void) | null;
      release = null;
      r?.();
      if (given < total) await waitFor('the next reading', () => release !== null, 10_000);
    }
    expect(sent).toBe(total);
    await pub.endAsync();
    await client.endAsync(true);
  });
});
