// End to end through a real broker: N devices × M readings -> exactly N×M predictions,
// each equal to what the offline `predict` gives for that device's sequence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFile } from '../../src/io/model-file.js';
import { startRuntime, type Runtime } from '../../src/io/mqtt-runtime.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { collect, connect, EXAMPLE_MODEL, offlinePredictions, publishReadings, sensorRows, uniqueId, waitFor } from './support.js';

describe('edge-rnn run end to end', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('N devices × M readings give exactly N×M predictions equal to predict', async () => {
    const N = 20;
    const M = 25;
    const rows = sensorRows(N, M);
    const reference = offlinePredictions(rows);
    const { model } = readModelFile(EXAMPLE_MODEL);
    const sink = await collect(broker.url, broker.mqttVersion, ['predictions/+']);
    const runtime: Runtime = startRuntime(model, { broker: broker.url, mqttVersion: broker.mqttVersion, instance: uniqueId('e2e'), healthIntervalMs: 0 });
    await runtime.ready;
    const pub = await connect(broker.url, broker.mqttVersion);
    await publishReadings(pub, rows);
    await waitFor('N×M predictions', () => sink.messages.length >= N * M);
    await runtime.stop();
    await new Promise((r) => setTimeout(r, 200)); // any extra prediction would show up now

    expect(sink.messages.length).toBe(N * M);
    expect(runtime.counters.predictions).toBe(N * M);
    expect(runtime.counters.deadLetters).toBe(0);
    const ref = await reference;
    const seen = new Map<string, number[]>();
    for (const { topic, doc } of sink.messages) {
      expect(topic).toBe(`predictions/${doc.device}`);
      expect(doc.model).toEqual({ name: model.name, version: model.modelVersion });
      (seen.get(doc.device) ?? seen.set(doc.device, []).get(doc.device)!).push(doc.seq);
      const want = ref.get(doc.device)![doc.seq];
      expect(Math.abs(doc.y.temperature - want[0])).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(doc.y.humidity - want[1])).toBeLessThanOrEqual(1e-6);
    }
    // In order per device: QoS 1 on one connection keeps each publisher's order.
    for (const seqs of seen.values()) expect(seqs).toEqual([...Array(M).keys()]);
    await pub.endAsync();
    await sink.client.endAsync();
  }, 20_000);

  it('speaks MQTT 3.1.1 on request (--mqtt-version 4)', async () => {
    const { model } = readModelFile(EXAMPLE_MODEL);
    const rows = sensorRows(3, 4, 5);
    const sink = await collect(broker.url, 4, ['predictions/+']);
    const runtime = startRuntime(model, { broker: broker.url, mqttVersion: 4, instance: uniqueId('v4'), healthIntervalMs: 0 });
    await runtime.ready;
    expect(runtime.client.options.protocolVersion).toBe(4);
    const pub = await connect(broker.url, 4);
    await publishReadings(pub, rows);
    await waitFor('predictions', () => sink.messages.length >= rows.length);
    await runtime.stop();
    expect(sink.messages.length).toBe(rows.length);
    await pub.endAsync();
    await sink.client.endAsync();
  }, 20_000);
});
