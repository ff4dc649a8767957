// A windowed bidirectional model end to end through a real broker (issue 19): N devices × M
// readings -> per device one prediction at every hop (seq W-1, W-1+hop, …) carrying its
// window's first and last seqs, every other reading counted `in-window`, and each
// prediction equal to what the offline `edge-rnn predict` gives for that device's rows.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRuntime } from '../../src/io/mqtt-runtime.js';
import { encodeModel, tensorF32, type Model } from '../../src/model/index.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { bidirectional, classification, dense, recurrent, windowed } from '../model/model-builders.js';
import { CLI, collect, connect, publishReadings, sensorRows, uniqueId, waitFor } from './support.js';

const W = 8, HOP = 3;

// bi-LSTM(2→5, out 10) → GRU(10→4) → dense softmax(4→3), window 8 hop 3, "mean"; inputs
// normalised around the readings sensorRows makes, so the input guard lets them through.
function windowedModel(): Model {
  const m = windowed(classification([bidirectional('lstm', 2, 5, 11), recurrent('gru', 10, 4, 12), dense(4, 3, 'softmax', 13)], ['calm', 'rising', 'falling']), W, HOP, 'mean');
  return { ...m, name: 'mote-window-test', inputs: { ...m.inputs, mean: tensorF32([2], [25, 45]), std: tensorF32([2], [5, 3]) } };
}

describe('edge-rnn run with a windowed model end to end', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('publishes each device a prediction every hop, equal to predict on the same readings', async () => {
    const N = 6, M = 23;
    const rows = sensorRows(N, M, 3);
    const model = windowedModel();
    const dir = mkdtempSync(join(tmpdir(), 'edge-rnn-window-'));
    const modelFile = join(dir, 'window.msgpack');
    writeFileSync(modelFile, encodeModel(model));
    const csv = join(dir, 'readings.csv');
    writeFileSync(csv, ['mote,temperature,humidity', ...rows.map((r) => `${r.device},${r.temperature},${r.humidity}`)].join('\n') + '\n');
    const offline = promisify(execFile)(process.execPath, [CLI, 'predict', '--model', modelFile, '--data', csv, '--device-column', 'mote', '--json'], { maxBuffer: 16 << 20 });

    const sink = await collect(broker.url, broker.mqttVersion, ['predictions/+']);
    const runtime = startRuntime(model, { broker: broker.url, mqttVersion: broker.mqttVersion, instance: uniqueId('win'), healthIntervalMs: 0 });
    await runtime.ready;
    const pub = await connect(broker.url, broker.mqttVersion);
    await publishReadings(pub, rows);
    const perDevice = Math.floor((M - W) / HOP) + 1; // 6 windows end in 23 readings
    await waitFor('the windowed predictions', () => sink.messages.length >= N * perDevice && runtime.counters.inWindow + runtime.counters.predictions >= N * M);
    await runtime.stop();
    await new Promise((r) => setTimeout(r, 200)); // any extra prediction would show up now

    expect(sink.messages.length).toBe(N * perDevice);
    expect(runtime.counters.predictions).toBe(N * perDevice);
    expect(runtime.counters.inWindow).toBe(N * M - N * perDevice);
    expect(runtime.counters.deadLetters).toBe(0);

    // predict --json: one line per window, rows of the CSV (device d's row for seq s is s·N + d).
    const ref = new Map<string, { y: number[]; window: { first: number; last: number } }[]>();
    for (const line of (await offline).stdout.trim().split('\n')) {
      const p = JSON.parse(line) as { device: string; y: number[]; window: { first: number; last: number } };
      (ref.get(p.device) ?? ref.set(p.device, []).get(p.device)!).push(p);
    }
    const byDevice = new Map<string, Record<string, any>[]>();
    for (const { topic, doc } of sink.messages) {
      expect(topic).toBe(`predictions/${doc.device}`);
      (byDevice.get(doc.device) ?? byDevice.set(doc.device, []).get(doc.device)!).push(doc);
    }
    const hops = Array.from({ length: perDevice }, (_, k) => W - 1 + k * HOP);
    expect([...byDevice.keys()].sort()).toEqual(Array.from({ length: N }, (_, d) => `mote-${d}`));
    for (const [device, docs] of byDevice) {
      const d = Number(device.slice(5));
      expect(docs.map((doc) => doc.seq)).toEqual(hops);
      expect(docs.map((doc) => doc.window)).toEqual(hops.map((s) => ({ first: s - W + 1, last: s })));
      const want = ref.get(device)!;
      expect(want.map((p) => p.window)).toEqual(hops.map((s) => ({ first: (s - W + 1) * N + d, last: s * N + d })));
      docs.forEach((doc, k) => {
        expect([doc.y.calm, doc.y.rising, doc.y.falling]).toEqual(want[k].y);
        expect(doc.label).toBe(model.outputs.labels![want[k].y.indexOf(Math.max(...want[k].y))]);
      });
    }
    await pub.endAsync();
    await sink.client.endAsync();
  }, 30_000);
});
