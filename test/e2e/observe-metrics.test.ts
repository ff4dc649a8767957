// `edge-rnn run --http` through a real broker (Mosquitto; aedes without it): the counters
// /metrics reports equal what was sent (readings, duplicates, dead letters by reason), the
// text parses with a Prometheus parser (parse-prometheus-text-format), and the retained
// metrics topic carries the same numbers.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFile } from '../../src/io/model-file.js';
import { freePort, startBroker, type TestBroker } from '../helpers/broker.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';
import { CLI, collect, connect, EXAMPLE_MODEL, publishReadings, readingPayload, sensorRows, uniqueId, waitFor } from './support.js';

async function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const r = await fetch(url);
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
}

describe('edge-rnn run --http: /metrics against what was sent', () => {
  let broker: TestBroker;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await broker?.close();
  });

  it('counts every reading, duplicate and dead letter by reason, and says so on /metrics and the metrics topic', async () => {
    const instance = uniqueId('obs');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const metricsTopic = `edge-rnn/${instance}/metrics`;
    const sink = await collect(broker.url, broker.mqttVersion, ['predictions/+', `edge-rnn/${instance}/dead-letter`, metricsTopic]);
    let stderr = '';
    child = spawn(process.execPath, [CLI, 'run', '--broker', broker.url, '--mqtt-version', String(broker.mqttVersion), '--model', EXAMPLE_MODEL,
      '--instance', instance, '--http', `127.0.0.1:${port}`, '--metrics-interval', '300ms', '--health-interval', '0',
      '--state-dir', 'none', '--model-store', 'none', '--max-bytes', '512', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    let ready = false;
    await waitFor(`/readyz to answer 200 (stderr: ${stderr})`, () => {
      void get(`${base}/readyz`).then((r) => (ready = r.status === 200), () => undefined);
      return ready;
    }, 30_000);
    expect((await get(`${base}/healthz`)).status).toBe(200);

    const pub = await connect(broker.url, broker.mqttVersion);
    const rows = sensorRows(3, 20); // 60 good readings
    await publishReadings(pub, rows);
    await publishReadings(pub, rows.slice(0, 5)); // 5 redeliveries: same device, same seq
    const bad: [string, Buffer, string][] = [
      ['sensors/bad-a/reading', Buffer.from('{"seq": 1, "values": {"temp'), 'invalid-json'],
      ['sensors/bad-b/reading', Buffer.from('{"seq": 2, "values": {'), 'invalid-json'],
      ['sensors/bad-c/reading', Buffer.from('{"values": {"temperature": 20}}'), 'missing-input'],
      ['sensors/bad-d/reading', Buffer.from('{"values": {"humidity": 20}}'), 'missing-input'],
      ['sensors/bad-e/reading', Buffer.from('{"values": {"humidity": 20}}'), 'missing-input'],
      ['sensors/bad-f/reading', Buffer.from('{"values": {"temperature": 1e999, "humidity": 40}}'), 'non-finite'],
      ['sensors/bad-g/reading', Buffer.from(JSON.stringify({ values: { temperature: 20, humidity: 40 }, pad: 'x'.repeat(600) })), 'too-large'],
    ];
    for (const [topic, payload] of bad) await pub.publishAsync(topic, payload, { qos: 1 });
    // One more good reading after the bad ones, so everything before it has been handled.
    await pub.publishAsync('sensors/mote-0/reading', readingPayload({ device: 'mote-0', seq: 20, temperature: 21, humidity: 40 }), { qos: 1 });

    const on = (p: string) => sink.messages.filter((m) => m.topic.startsWith(p));
    await waitFor('61 predictions and 7 dead letters', () => on('predictions/').length >= 61 && on(`edge-rnn/${instance}/dead-letter`).length >= 7);

    const scrape = await get(`${base}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = parsePrometheus(scrape.body);
    expect(sampleValue(m, 'edge_rnn_messages_received_total')).toBe(61 + 5 + bad.length);
    expect(sampleValue(m, 'edge_rnn_predictions_total')).toBe(61);
    expect(sampleValue(m, 'edge_rnn_duplicates_total')).toBe(5);
    const sentByReason: Record<string, number> = {};
    for (const [, , reason] of bad) sentByReason[reason] = (sentByReason[reason] ?? 0) + 1;
    const dead = m.get('edge_rnn_dead_letters_total')!;
    expect(dead.type).toBe('COUNTER');
    expect(Object.fromEntries(dead.metrics.map((s) => [s.labels!.reason, Number(s.value)]))).toEqual(sentByReason);
    expect(sampleValue(m, 'edge_rnn_devices')).toBe(3);
    // Every prediction was stepped once and timed once on its way out.
    const hist = (name: string) => m.get(name)!.metrics[0];
    expect(m.get('edge_rnn_step_duration_seconds')!.type).toBe('HISTOGRAM');
    expect(Number(hist('edge_rnn_step_duration_seconds').count)).toBe(61);
    expect(Number(hist('edge_rnn_prediction_latency_seconds').count)).toBe(61);
    expect(Number(hist('edge_rnn_prediction_latency_seconds').buckets!['+Inf'])).toBe(61);
    const { model } = readModelFile(EXAMPLE_MODEL);
    expect(m.get('edge_rnn_model_info')!.metrics[0].labels).toEqual({
      name: model.name, version: String(model.modelVersion), sha256: createHash('sha256').update(readFileSync(EXAMPLE_MODEL)).digest('hex'),
    });
    expect(sampleValue(m, 'edge_rnn_mqtt_connected')).toBe(1);
    expect(sampleValue(m, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    // No per-device series: no sample carries a device label.
    for (const f of m.values()) for (const s of f.metrics) expect(Object.keys(s.labels ?? {})).not.toContain('device');

    // The same numbers, retained on the metrics topic.
    const latest = () => on(metricsTopic).at(-1)?.doc as { instance: string; metrics: Record<string, any> } | undefined;
    await waitFor('a metrics message with every prediction', () => latest()?.metrics.edge_rnn_predictions_total === 61);
    expect(latest()!.instance).toBe(instance);
    expect(latest()!.metrics.edge_rnn_dead_letters_total).toEqual(sentByReason);
    expect(latest()!.metrics.edge_rnn_duplicates_total).toBe(5);
    const late = await collect(broker.url, broker.mqttVersion, [metricsTopic]); // a subscriber that comes later gets it retained
    await waitFor('the retained metrics', () => late.messages.length > 0);
    expect(late.messages[0].doc.metrics.edge_rnn_messages_received_total).toBe(61 + 5 + bad.length);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = undefined;
    await Promise.all([pub.endAsync(), sink.client.endAsync(), late.client.endAsync()]);
  });
}, 90_000);
