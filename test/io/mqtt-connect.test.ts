// The MQTT 5 maximum packet size a client announces in CONNECT (issue 13): from the larger
// of the reading and model caps plus header room; a broker then never delivers more, so
// an oversized retained push never reaches the runtime's memory.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maximumPacketSizeProperty, PACKET_HEADER_SLACK } from '../../src/io/mqtt-connect.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';

describe('maximumPacketSizeProperty', () => {
  it('takes the larger cap plus room for the topic and properties; nothing over MQTT 3.1.1', () => {
    expect(maximumPacketSizeProperty({ readingMaxBytes: 4096, modelMaxBytes: 4 << 20 }, 5)).toEqual({ maximumPacketSize: (4 << 20) + PACKET_HEADER_SLACK });
    expect(maximumPacketSizeProperty({ readingMaxBytes: 1 << 20, modelMaxBytes: 1000 }, 5)).toEqual({ maximumPacketSize: (1 << 20) + PACKET_HEADER_SLACK });
    expect(maximumPacketSizeProperty({ readingMaxBytes: 4096 }, 5)).toEqual({ maximumPacketSize: 4096 + PACKET_HEADER_SLACK });
    expect(maximumPacketSizeProperty({ readingMaxBytes: 4096, modelMaxBytes: 1 << 20 }, 4)).toEqual({});
    expect(PACKET_HEADER_SLACK).toBeGreaterThan(65_535 + 4);
  });

  it('never announces more than MQTT can frame', () => {
    expect(maximumPacketSizeProperty({ readingMaxBytes: 4096, modelMaxBytes: 2 ** 31 }, 5).maximumPacketSize).toBe(268_435_460);
  });
});

describe('a broker honours the announced size', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('a retained message over the announced size is not delivered; one under it is', async () => {
    if (broker.mqttVersion !== 5) return; // aedes: MQTT 3.1.1 only, no such property
    const topic = `models/limit-${process.pid}`;
    const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    const props = maximumPacketSizeProperty({ readingMaxBytes: 1000, modelMaxBytes: 2000 }, 5);
    const sizes: number[] = [];
    for (const payloadBytes of [200_000, 1500]) {
      await pub.publishAsync(topic, Buffer.alloc(payloadBytes, 1), { qos: 1, retain: true });
      const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, properties: props });
      sub.on('message', (_t, payload) => sizes.push(payload.length));
      await sub.subscribeAsync(topic, { qos: 1 });
      // Retained messages follow the SUBACK; a round trip on another topic bounds the wait.
      await sub.publishAsync(`${topic}/ping`, 'x', { qos: 1 });
      await new Promise((r) => setTimeout(r, 300));
      await sub.endAsync();
    }
    await pub.publishAsync(topic, Buffer.alloc(0), { qos: 1, retain: true });
    await pub.endAsync();
    expect(sizes).toEqual([1500]);
  });
});
