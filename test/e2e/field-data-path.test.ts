// Issue 12's reproduced cases, each through Mosquitto into the runtime `edge-rnn run`
// uses (startRuntime): a reboot with --reset-after, a reboot without a gap, one spoofed
// huge seq, readings reordered by the network, an absurd value and a sensor glitch, and
// 60 000-byte device ids. Every reading ends as a prediction, a dead letter with a
// reason, or a counted duplicate.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFile } from '../../src/io/model-file.js';
import { startRuntime, type RuntimeOptions } from '../../src/io/mqtt-runtime.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { collect, connect, EXAMPLE_MODEL, sleep, uniqueId, waitFor } from './support.js';

const { model } = readModelFile(EXAMPLE_MODEL);

interface Sent { device: string; seq?: number; ts?: number; temperature: number; humidity: number }
const value = (k: number) => ({ temperature: Math.round((27 + 2 * Math.sin(k / 4)) * 100) / 100, humidity: Math.round((46 + 3 * Math.cos(k / 6)) * 100) / 100 });
const payload = (r: Sent) => Buffer.from(JSON.stringify({ ...(r.ts !== undefined ? { ts: r.ts } : {}), ...(r.seq !== undefined ? { seq: r.seq } : {}), values: { temperature: r.temperature, humidity: r.humidity } }));

describe('field data path through Mosquitto (issue 12)', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  /** A runtime on its own topics, a publisher and a collector of predictions and dead letters. */
  async function rig(options: Partial<RuntimeOptions> = {}) {
    const prefix = uniqueId('field');
    const instance = uniqueId('inst');
    const sink = await collect(broker.url, broker.mqttVersion, [`${prefix}-pred/+`, `edge-rnn/${instance}/dead-letter`]);
    const runtime = startRuntime(model, {
      broker: broker.url, mqttVersion: broker.mqttVersion, instance, healthIntervalMs: 0,
      topics: [`${prefix}/+/reading`], predictionTopic: `${prefix}-pred/{device}`, resetAfterMs: 0, ...options,
    });
    await runtime.ready;
    const pub: MqttClient = await connect(broker.url, broker.mqttVersion);
    const send = async (rows: readonly Sent[]) => {
      for (const r of rows) await pub.publishAsync(`${prefix}/${r.device}/reading`, payload(r), { qos: 1 });
    };
    const predictions = () => sink.messages.filter((m) => m.topic.startsWith(`${prefix}-pred/`));
    const dead = () => sink.messages.filter((m) => m.topic.endsWith('/dead-letter'));
    /** Wait until every message sent has an outcome, then stop. */
    const finish = async (sent: number) => {
      await waitFor('an outcome for every reading', () => runtime.counters.predictions + runtime.counters.deadLetters + runtime.counters.duplicates >= sent);
      await waitFor('the published outcomes', () => predictions().length + dead().length >= runtime.counters.predictions + runtime.counters.deadLetters);
      await sleep(100); // an extra message would show now
      await runtime.stop();
      await pub.endAsync();
      await sink.client.endAsync();
      const c = runtime.counters;
      expect(c.received).toBe(sent);
      expect(c.predictions + c.deadLetters + c.duplicates).toBe(sent);
      expect(predictions()).toHaveLength(c.predictions);
      expect(dead()).toHaveLength(c.deadLetters);
      return { counters: c, predictions: predictions().map((m) => m.doc), dead: dead().map((m) => m.doc) };
    };
    return { send, finish };
  }

  const series = (device: string, seqs: readonly number[], t0?: number): Sent[] =>
    seqs.map((seq, k) => ({ device, seq, ...(t0 !== undefined ? { ts: t0 + k * 1000 } : {}), ...value(k) }));

  it('reboot after a --reset-after gap: the 5 readings from seq 1 again are predicted, from a fresh state', async () => {
    const r = await rig({ resetAfterMs: 500 });
    await r.send(series('m', [...Array(20).keys()].map((k) => k + 1))); // no ts: the gap is measured by arrival
    await sleep(800);
    await r.send(series('m', [1, 2, 3, 4, 5]));
    const { counters, predictions } = await r.finish(25);
    expect(predictions.map((p) => p.seq)).toEqual([...[...Array(20).keys()].map((k) => k + 1), 1, 2, 3, 4, 5]);
    expect(predictions.slice(20).map((p) => p.steps)).toEqual([1, 2, 3, 4, 5]);
    expect(predictions[19].steps).toBe(20);
    expect(counters.resets).toBe(1);
    expect(counters.duplicates).toBe(0);
  }, 15_000);

  it('reboot without a gap: a seq back at 0 with a newer ts starts a new epoch at once', async () => {
    const r = await rig();
    const t0 = 1_732_615_200_000;
    await r.send([...series('m', [...Array(20).keys()], t0), ...series('m', [0, 1, 2, 3, 4], t0 + 60_000)]);
    const { counters, predictions } = await r.finish(25);
    expect(predictions).toHaveLength(25);
    expect(predictions.slice(20).map((p) => p.steps)).toEqual([1, 2, 3, 4, 5]);
    expect(counters.reboots).toBe(1);
  }, 15_000);

  it('one reading with seq 9007199254740991 is a dead letter seq-jump; the device is not silenced', async () => {
    const r = await rig();
    const rows = series('m', [...Array(10).keys()]);
    await r.send([...rows.slice(0, 4), { device: 'm', seq: Number.MAX_SAFE_INTEGER, ...value(99) }, ...rows.slice(4)]);
    const { predictions, dead } = await r.finish(11);
    expect(predictions.map((p) => p.seq)).toEqual([...Array(10).keys()]);
    expect(dead.map((d) => [d.reason, d.device])).toEqual([['seq-jump', 'm']]);
  }, 15_000);

  it('a reading held back by the network is a dead letter late, not a silent duplicate', async () => {
    const r = await rig();
    await r.send(series('m', [0, 1, 3, 2, 4, 5, 5]));
    const { counters, predictions, dead } = await r.finish(7);
    expect(predictions.map((p) => p.seq)).toEqual([0, 1, 3, 4, 5]);
    expect(dead.map((d) => d.reason)).toEqual(['late']);
    expect(counters.duplicates).toBe(1); // the second 5: a redelivery
  }, 15_000);

  it('an absurd value and a 655.35 glitch are dead letters out-of-range; the predictions after them are unaffected', async () => {
    const r = await rig();
    const clean = series('clean', [...Array(14).keys()]);
    const glitchy = clean.map((c) => ({ ...c, device: 'glitchy' }));
    const bad: Sent[] = [
      { device: 'glitchy', seq: 100, temperature: 1e30, humidity: 46 },
      { device: 'glitchy', seq: 250, temperature: 655.35, humidity: 46 },
    ];
    await r.send([...clean, ...glitchy.slice(0, 5), bad[0], ...glitchy.slice(5, 9).map((g) => ({ ...g, seq: g.seq! + 200 })), bad[1], ...glitchy.slice(9).map((g) => ({ ...g, seq: g.seq! + 300 }))]);
    const { predictions, dead } = await r.finish(30);
    expect(dead.map((d) => d.reason)).toEqual(['out-of-range', 'out-of-range']);
    const ys = (device: string) => predictions.filter((p) => p.device === device).map((p) => p.y);
    expect(ys('glitchy')).toHaveLength(14);
    expect(ys('glitchy')).toEqual(ys('clean'));
  }, 15_000);

  it('60 000-byte device ids are dead letters device-id-too-long; no state is kept for them', async () => {
    const r = await rig();
    const long = Array.from({ length: 20 }, (_, i) => ({ device: `${i}`.padStart(60_000, 'x'), seq: 0, ...value(i) }));
    await r.send([...long, ...series('ok', [0, 1])]);
    const { counters, predictions, dead } = await r.finish(22);
    expect(dead.map((d) => d.reason)).toEqual(Array(20).fill('device-id-too-long'));
    expect(dead.every((d) => d.topic.length < 1000 && d.device === undefined)).toBe(true);
    expect(predictions.map((p) => p.device)).toEqual(['ok', 'ok']);
    expect(counters.peakDevices).toBe(1);
  }, 15_000);
});

