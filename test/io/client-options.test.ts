// The mqtt.js options the runtime connects with (src/io/runtime/client-options.ts).
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { clientOptionsFor, identityOf, RECEIVE_MAXIMUM } from '../../src/io/runtime/client-options.js';

describe('runtime client options', () => {
  it("turn off mqtt-packet's number cache (65 536 Buffers, 6 MB of heap) and keep the persistent session", () => {
    const id = identityOf({ broker: 'mqtt://127.0.0.1:1', instance: 'co' });
    const options = clientOptionsFor({ broker: 'mqtt://127.0.0.1:1', instance: 'co' }, id, '{"status":"offline"}');
    expect(options).toMatchObject({ writeCache: false, clean: false, clientId: 'edge-rnn-co', protocolVersion: 5, properties: { receiveMaximum: RECEIVE_MAXIMUM } });
    expect(mqttPacket.writeToStream.cacheNumbers).toBe(true); // mqtt-packet's default
    const client = mqtt.connect('mqtt://127.0.0.1:1', { ...options, reconnectPeriod: 0 }); // port 1: nothing listens
    client.on('error', () => undefined);
    expect(mqttPacket.writeToStream.cacheNumbers).toBe(false);
    client.end(true);
  });
});
