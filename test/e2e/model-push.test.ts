// Signed model push and hot swap through the real broker and the running runtime: every
// reject path leaves the old model serving; a push under load switches each device's
// predictions exactly once, in order; a model that overflows is rolled back.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealModel } from '../../src/io/model-envelope.js';
import { ModelStore } from '../../src/io/model-store.js';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../src/io/mqtt-runtime.js';
import { pushEnvelope } from '../../src/io/push-model.js';
import { encodeModel } from '../../src/model/codec.js';
import type { Model } from '../../src/model/types.js';
import { createSession, type StreamState } from '../../src/runtime/session.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { exploding, version } from '../helpers/swap-models.js';
import { collect, connect, sleep, uniqueId, waitFor, type Received } from './support.js';
import { craft, payloadFor, sha256, signer, tamper } from './support-push.js';

const key = signer();
const stranger = signer();
const trusted = new Map<string, KeyObject>([[key.id, key.publicKey]]);

describe('model push and hot swap through the broker', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  /** A runtime serving `model`, listening for pushes on models/<name>, with its own topics. */
  async function start(model: Model, extra: Partial<RuntimeOptions> = {}) {
    const instance = uniqueId('push');
    const predictionTopic = `p/${instance}/{device}`;
    const statusTopic = `edge-rnn/${instance}/model`;
    const sink = await collect(broker.url, broker.mqttVersion, [`p/${instance}/+`, statusTopic]);
    const runtime = startRuntime(model, {
      broker: broker.url, mqttVersion: broker.mqttVersion, instance, healthIntervalMs: 0, predictionTopic,
      modelTopic: `models/${model.name}`, trusted, modelSha256: 'start', ...extra,
    });
    await runtime.ready;
    const preds = () => sink.messages.filter((m) => m.topic.startsWith('p/')).map((m) => m.doc);
    const statuses = () => sink.messages.filter((m) => m.topic === statusTopic).map((m) => m.doc);
    return { runtime, sink, preds, statuses, instance, modelTopic: `models/${model.name}` };
  }
  const reading = (seq: number, t = 20 + seq / 10, h = 40 + seq / 20) => Buffer.from(JSON.stringify({ seq, values: { temperature: t, humidity: h } }));

  it('rejects each bad push with its reason; the old model keeps serving after every one', async () => {
    const name = uniqueId('rej');
    const v2 = version(name, 2);
    const { runtime, sink, preds, statuses, modelTopic } = await start(v2);
    const pub = await connect(broker.url, broker.mqttVersion);
    const good = sealModel(encodeModel(version(name, 3)), key.privateKey);
    const cases: [string, Uint8Array, string][] = [
      ['unsigned (a bare model)', encodeModel(version(name, 3)), 'unsigned'],
      ['signed by an unknown key', sealModel(encodeModel(version(name, 3)), stranger.privateKey), 'unknown-key'],
      ['tampered model bytes', tamper(good, (b) => void ((b.model as Uint8Array)[40] ^= 0x04)), 'bad-signature'],
      ['tampered metadata', tamper(good, (b) => void (b.modelVersion = 9)), 'bad-signature'],
      ['wrong hash', craft(payloadFor(version(name, 3), key, { sha256: Buffer.alloc(32, 7) }), key), 'hash-mismatch'],
      ['undecodable model', craft(payloadFor(new Uint8Array([0x93, 1, 2, 3]), key, { name, modelVersion: 3 }), key), 'bad-model'],
      ['incompatible inputs', sealModel(encodeModel(version(name, 3, { inputs: ['humidity', 'temperature'] })), key.privateKey), 'incompatible-inputs'],
      ['equal version', sealModel(encodeModel(version(name, 2, { seed: 77 })), key.privateKey), 'not-newer'],
      ['older version', sealModel(encodeModel(version(name, 1)), key.privateKey), 'not-newer'],
    ];
    let seq = 0;
    for (const [what, envelope, code] of cases) {
      const before = statuses().length;
      await pub.publishAsync(modelTopic, Buffer.from(envelope), { qos: 1, retain: true });
      await waitFor(`status for ${what}`, () => statuses().length > before, 5000);
      expect(statuses().at(-1), what).toMatchObject({ event: 'rejected', code, running: { name, version: 2 } });
      for (let k = 0; k < 2; k++) await pub.publishAsync('sensors/d1/reading', reading(seq++), { qos: 1 });
      await waitFor(`predictions after ${what}`, () => preds().length >= seq, 5000);
      expect(preds().at(-1)!.model, what).toEqual({ name, version: 2 });
    }
    expect(runtime.counters.modelRejects).toBe(cases.length);
    expect(runtime.model()).toMatchObject({ name, version: 2 });

    // The same runtime does take a good push, so the rejections above are not vacuous.
    await pub.publishAsync(modelTopic, Buffer.from(good), { qos: 1, retain: true });
    await waitFor('accepted', () => statuses().at(-1)?.event === 'accepted', 5000);
    expect(statuses().at(-1)).toMatchObject({ event: 'accepted', name, version: 3, keyId: key.id, statesKept: false, statesReason: 'fresh-model' });
    await pub.publishAsync('sensors/d1/reading', reading(seq++), { qos: 1 });
    await waitFor('a v3 prediction', () => preds().length >= seq, 5000);
    expect(preds().at(-1)!.model).toEqual({ name, version: 3 });
    expect(preds().map((p) => p.seq)).toEqual([...Array(seq).keys()]);

    await runtime.stop();
    await pub.endAsync();
    await sink.client.endAsync();
  }, 20_000);

  it('swap under load: every reading gets one prediction; each device switches version once, in order, state kept as the model continues the old one', async () => {
    const name = uniqueId('load');
    const v1 = version(name, 1);
    const v1sha = sha256(encodeModel(v1)).toString('hex');
    const v2 = { ...version(name, 2), meta: { continuesFrom: v1sha } }; // as `train --init-from v1` writes it
    const { runtime, sink, preds, statuses, modelTopic } = await start(v1, { probation: { minReadings: 50 }, modelSha256: v1sha });
    const pub = await connect(broker.url, broker.mqttVersion);
    const D = 6;
    const value = (d: number, m: number) => [20 + 5 * Math.sin((m + d) / 9), 40 + 3 * Math.cos((m * 2 + d) / 13)];
    let push: Promise<unknown> | null = null;
    const acks: Promise<unknown>[] = [];
    // Rounds of one reading per device, 3 ms apart; the push goes out at round 40 on another
    // connection while the rounds go on, until 40 rounds after the runtime has swapped.
    let M = 0;
    let swappedAt = Infinity;
    for (; M < 120 || M < swappedAt + 40; M++) {
      if (M > 3000) throw new Error('the push never took effect');
      for (let d = 0; d < D; d++) {
        const [t, h] = value(d, M);
        acks.push(pub.publishAsync(`sensors/dev${d}/reading`, reading(M, t, h), { qos: 1 }));
      }
      if (M === 40) push = pushEnvelope(sealModel(encodeModel(v2), key.privateKey), { broker: broker.url, topic: modelTopic, mqttVersion: broker.mqttVersion });
      if (runtime.counters.swaps > 0 && swappedAt === Infinity) swappedAt = M;
      await sleep(3);
    }
    await Promise.all([...acks, push]);
    await waitFor('a prediction per reading', () => preds().length >= D * M, 15_000);
    await sleep(100); // any extra prediction would show up now

    const all = preds();
    expect(all).toHaveLength(D * M);
    expect(new Set(all.map((p) => `${p.device}/${p.seq}`)).size).toBe(D * M);
    const sessions = new Map([[1, createSession(v1)], [2, createSession(v2)]]);
    let switchesSeen = 0;
    for (let d = 0; d < D; d++) {
      const mine = all.filter((p) => p.device === `dev${d}`);
      expect(mine.map((p) => p.seq)).toEqual([...Array(M).keys()]);
      const versions = mine.map((p) => p.model.version);
      const firstNew = versions.indexOf(2);
      expect(firstNew, `dev${d} switched`).toBeGreaterThan(0);
      expect(versions).toEqual([...Array(firstNew).fill(1), ...Array(M - firstNew).fill(2)]);
      switchesSeen++;
      // Independent reference: one state per device, stepped by v1 then v2 (v2 continues v1: the state carries over).
      let state: StreamState | null = null;
      for (const p of mine) {
        const s = sessions.get(p.model.version)!;
        state ??= s.createState();
        const y = s.step(state, Float32Array.from(value(d, p.seq)));
        expect(Math.abs(p.y.temperature - y[0]), `dev${d}/${p.seq}`).toBeLessThanOrEqual(1e-5);
        expect(Math.abs(p.y.humidity - y[1])).toBeLessThanOrEqual(1e-5);
      }
    }
    expect(switchesSeen).toBe(D);
    await waitFor('committed after probation', () => statuses().some((s) => s.event === 'committed'), 5000);
    expect(statuses().map((s) => s.event)).toEqual(['accepted', 'committed']);
    expect(statuses()[0]).toMatchObject({ statesKept: true, statesReason: 'continues-running' });
    expect(runtime.counters).toMatchObject({ swaps: 1, swapResets: 0, rollbacks: 0, deadLetters: 0, predictions: D * M });
    await runtime.stop();
    await pub.endAsync();
    await sink.client.endAsync();
  }, 25_000);

  it('rolls back a model whose output overflows, re-predicts the reading, remembers the version; the store follows', async () => {
    const name = uniqueId('nan');
    const v1 = version(name, 1);
    const dir = mkdtempSync(join(tmpdir(), 'edge-rnn-e2e-store-'));
    const store = new ModelStore(dir);
    const { runtime, sink, preds, statuses, modelTopic } = await start(v1, { probation: { minReadings: 20 }, modelStore: store });
    const pub = await connect(broker.url, broker.mqttVersion);
    let seq = 0;
    const send = async (n: number) => {
      for (let k = 0; k < n; k++, seq++) for (const d of ['a', 'b']) await pub.publishAsync(`sensors/${d}/reading`, reading(seq), { qos: 1 });
    };
    await send(3);
    const bad = sealModel(encodeModel(exploding(name, 2)), key.privateKey);
    await pushEnvelope(bad, { broker: broker.url, topic: modelTopic, mqttVersion: broker.mqttVersion });
    await send(3);
    await waitFor('predictions', () => preds().length >= 2 * seq, 5000);
    await waitFor('rolled-back status', () => statuses().some((s) => s.event === 'rolled-back'), 5000);
    expect(statuses().map((s) => s.event)).toEqual(['accepted', 'rolled-back']);
    expect(statuses()[1]).toMatchObject({ name, version: 2, code: 'non-finite-output', running: { name, version: 1 }, statesKept: false });
    // Every reading predicted exactly once, all by v1: the failing one was predicted again by it.
    expect(preds()).toHaveLength(2 * seq);
    expect(new Set(preds().map((p) => p.model.version))).toEqual(new Set([1]));
    expect(runtime.counters).toMatchObject({ rollbacks: 1, deadLetters: 0 });
    expect(JSON.parse(readFileSync(store.stateFile, 'utf8'))).toMatchObject({ serving: { name, version: 1 }, probation: null, floor: { [name]: { rolledBack: [2] } } });

    // The retained message comes again (here: republished): refused, v1 keeps serving.
    await pub.publishAsync(modelTopic, Buffer.from(bad), { qos: 1, retain: true });
    await waitFor('rejected again', () => statuses().length >= 3, 5000);
    expect(statuses()[2]).toMatchObject({ event: 'rejected', code: 'rolled-back-before', version: 2 });
    await send(1);
    await waitFor('v1 still serving', () => preds().length >= 2 * seq, 5000);
    expect(preds().at(-1)!.model.version).toBe(1);

    // The retained status tells a late subscriber what happened last.
    const late = await collect(broker.url, broker.mqttVersion, [`edge-rnn/${runtime.clientId.replace(/^edge-rnn-/, '')}/model`]);
    await waitFor('retained status', () => late.messages.length > 0, 5000);
    expect((late.messages[0] as Received).doc).toMatchObject({ event: 'rejected', code: 'rolled-back-before' });
    await late.client.endAsync();
    await runtime.stop();
    await pub.endAsync();
    await sink.client.endAsync();
  }, 20_000);

  it('without trusted keys every push is refused (and said once in the log)', async () => {
    const name = uniqueId('untrusted');
    const lines: string[] = [];
    const { pino } = await import('pino');
    const { Writable } = await import('node:stream');
    const logger = pino({ level: 'warn' }, new Writable({ write(c, _e, cb) { lines.push(c.toString()); cb(); } }));
    const { runtime, sink, statuses, modelTopic } = await start(version(name, 1), { trusted: new Map(), logger });
    const pub = await connect(broker.url, broker.mqttVersion);
    for (const v of [2, 3]) await pub.publishAsync(modelTopic, Buffer.from(sealModel(encodeModel(version(name, v)), key.privateKey)), { qos: 1, retain: true });
    await waitFor('two rejections', () => statuses().length >= 2, 5000);
    expect(statuses().map((s) => s.code)).toEqual(['unsigned', 'unsigned']);
    expect(lines.filter((l) => /no key is trusted/.test(l))).toHaveLength(1);
    expect(runtime.model().version).toBe(1);
    await runtime.stop();
    await pub.endAsync();
    await sink.client.endAsync();
  }, 10_000);
});
