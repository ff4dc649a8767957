// No reading lost through a broker restart (QoS 1 + persistence) or a runtime restart
// (persistent session): readings published while the runtime is down are predicted when
// it comes back, in order per device.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFile } from '../../src/io/model-file.js';
import { startRuntime } from '../../src/io/mqtt-runtime.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { byDeviceSeq, collect, connect, EXAMPLE_MODEL, offlinePredictions, readingPayload, sensorRows, sleep, uniqueId, waitFor } from './support.js';

describe('edge-rnn run through restarts', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });
  const { model } = readModelFile(EXAMPLE_MODEL);

  it('loses no reading when the broker stops mid-stream and starts again', async () => {
    const N = 8;
    const M = 60;
    const rows = sensorRows(N, M, 7);
    const reference = offlinePredictions(rows);
    const sink = await collect(broker.url, broker.mqttVersion, ['predictions/+']);
    const runtime = startRuntime(model, { broker: broker.url, mqttVersion: broker.mqttVersion, instance: uniqueId('brk'), healthIntervalMs: 0, reconnectMinMs: 200 });
    await runtime.ready;
    const pub = await connect(broker.url, broker.mqttVersion);

    const acks: Promise<unknown>[] = [];
    for (const [i, r] of rows.entries()) {
      // QoS 1: while the broker is down mqtt.js keeps the publish and sends it on reconnect.
      acks.push(pub.publishAsync(`sensors/${r.device}/reading`, readingPayload(r), { qos: 1 }));
      if (i % N === N - 1) await sleep(2);
      if (i === Math.floor(rows.length / 3)) await broker.stop();
      if (i === Math.floor(rows.length / 2)) await broker.start();
    }
    await Promise.all(acks);
    const got = () => byDeviceSeq(sink.messages);
    await waitFor('a prediction for every reading', () => got().size >= N * M, 30_000);
    await runtime.stop();

    const ref = await reference;
    const preds = got();
    expect(preds.size).toBe(N * M);
    for (const r of rows) {
      const p = preds.get(`${r.device}/${r.seq}`);
      expect(p, `${r.device}/${r.seq}`).toBeDefined();
      // Redelivered readings are dropped by seq, so each device's state saw its sequence once, in order.
      const want = ref.get(r.device)![r.seq];
      expect(Math.abs(p!.y.temperature - want[0])).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(p!.y.humidity - want[1])).toBeLessThanOrEqual(1e-6);
    }
    await pub.endAsync();
    await sink.client.endAsync();
  }, 40_000);

  it('predicts readings published while the runtime was stopped, in order per device', async () => {
    const N = 5;
    const instance = uniqueId('rst');
    const clientId = `edge-rnn-${instance}`;
    const sink = await collect(broker.url, broker.mqttVersion, ['predictions/+']);
    const pub = await connect(broker.url, broker.mqttVersion);
    const opts = { broker: broker.url, mqttVersion: broker.mqttVersion, instance, clientId, healthIntervalMs: 0 };

    const first = startRuntime(model, opts);
    await first.ready;
    const rows = sensorRows(N, 30, 3);
    const before = rows.filter((r) => r.seq < 10);
    const during = rows.filter((r) => r.seq >= 10);
    for (const r of before) await pub.publishAsync(`sensors/${r.device}/reading`, readingPayload(r), { qos: 1 });
    await waitFor('predictions before the stop', () => sink.messages.length >= before.length);
    await first.stop();

    for (const r of during) await pub.publishAsync(`sensors/${r.device}/reading`, readingPayload(r), { qos: 1 });
    await sleep(100);
    expect(sink.messages.length).toBe(before.length); // nobody predicts while it is down

    const second = startRuntime(model, opts);
    await waitFor('predictions after the restart', () => sink.messages.length >= rows.length);
    await second.stop();
    expect(second.counters.predictions).toBe(during.length);

    const order = new Map<string, number[]>();
    for (const { doc } of sink.messages) (order.get(doc.device) ?? order.set(doc.device, []).get(doc.device)!).push(doc.seq);
    expect(order.size).toBe(N);
    for (const seqs of order.values()) expect(seqs).toEqual([...Array(30).keys()]);
    await pub.endAsync();
    await sink.client.endAsync();
  }, 20_000);
});
