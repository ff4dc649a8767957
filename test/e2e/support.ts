// Shared pieces of the end-to-end tests: MQTT clients that publish readings and collect
// predictions, the offline `predict` as the reference, waiting with a deadline.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const CLI = join(ROOT, 'bin/edge-rnn.mjs');
export const EXAMPLE_MODEL = join(ROOT, 'models/example-lstm.msgpack');

export interface Received {
  readonly topic: string;
  readonly doc: Record<string, any>;
}

let ids = 0;
export function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${++ids}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A client with a persistent session, so nothing meant for it is lost while a broker restarts. */
export async function connect(url: string, version: 4 | 5, clientId = uniqueId('t')): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    clientId, clean: false, protocolVersion: version, reconnectPeriod: 200,
    ...(version === 5 ? { properties: { sessionExpiryInterval: 600 } } : {}),
  });
}

/** Subscribes and gathers every message (JSON payloads) on `topics`. */
export async function collect(url: string, version: 4 | 5, topics: string[]): Promise<{ messages: Received[]; client: MqttClient }> {
  const client = await connect(url, version);
  const messages: Received[] = [];
  client.on('message', (topic, payload) => messages.push({ topic, doc: JSON.parse(payload.toString()) }));
  await client.subscribeAsync(topics, { qos: 1 });
  return { messages, client };
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SensorRow {
  readonly device: string;
  readonly seq: number;
  readonly temperature: number;
  readonly humidity: number;
}

/** N devices × M readings of plausible sensor values, interleaved by time. */
export function sensorRows(devices: number, perDevice: number, seed = 1): SensorRow[] {
  const rows: SensorRow[] = [];
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let m = 0; m < perDevice; m++) {
    for (let d = 0; d < devices; d++) {
      rows.push({
        device: `mote-${d}`, seq: m,
        temperature: Math.round((20 + 10 * Math.sin((m + d) / 7) + rand()) * 100) / 100,
        humidity: Math.round((40 + 5 * Math.cos((m * 3 + d) / 11) + rand()) * 100) / 100,
      });
    }
  }
  return rows;
}

export function readingPayload(r: SensorRow, ts = 1_732_615_200_000 + r.seq * 1000): Buffer {
  return Buffer.from(JSON.stringify({ ts, seq: r.seq, values: { temperature: r.temperature, humidity: r.humidity } }));
}

export async function publishReadings(client: MqttClient, rows: readonly SensorRow[]): Promise<void> {
  await Promise.all(rows.map((r) => client.publishAsync(`sensors/${r.device}/reading`, readingPayload(r), { qos: 1 })));
}

/** `edge-rnn predict --json` over the rows: device -> y per reading, in order. */
export async function offlinePredictions(rows: readonly SensorRow[], model = EXAMPLE_MODEL): Promise<Map<string, number[][]>> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-rnn-e2e-'));
  const csv = join(dir, 'readings.csv');
  writeFileSync(csv, ['mote,temperature,humidity', ...rows.map((r) => `${r.device},${r.temperature},${r.humidity}`)].join('\n') + '\n');
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'predict', '--model', model, '--data', csv, '--device-column', 'mote', '--json'], { maxBuffer: 64 << 20 });
  const out = new Map<string, number[][]>();
  for (const line of stdout.trim().split('\n')) {
    const p = JSON.parse(line) as { device: string; y: number[] };
    if (!out.has(p.device)) out.set(p.device, []);
    out.get(p.device)!.push(p.y);
  }
  return out;
}

/** Predictions keyed `device/seq`, duplicates (at-least-once redelivery) folded. */
export function byDeviceSeq(messages: readonly Received[]): Map<string, Record<string, any>> {
  const m = new Map<string, Record<string, any>>();
  for (const { doc } of messages) m.set(`${doc.device}/${doc.seq}`, doc);
  return m;
}
