// Probation through the real broker (issue 13): a diverging and a saturating model, both
// validly signed, pushed to a runtime serving 100 devices, are rolled back. The documented
// bound (docs/runtime.md, "Model lifecycle"): no prediction beyond the z-limit of a model
// on probation is published; what the failed model did publish before is counted in the
// rolled-back status event (`publishedOnProbation`), and the store refuses both after.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sealModel } from '../../src/io/model-envelope.js';
import { ModelStore } from '../../src/io/model-store.js';
import { startRuntime } from '../../src/io/mqtt-runtime.js';
import { pushEnvelope } from '../../src/io/push-model.js';
import { encodeModel } from '../../src/model/codec.js';
import { DEFAULT_PROBATION } from '../../src/stream/probation.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { diverging, saturating, TARGET_MEAN, TARGET_STD, version, withTargetStats } from '../helpers/swap-models.js';
import { collect, connect, uniqueId, waitFor } from './support.js';
import { signer } from './support-push.js';

const key = signer();
const trusted = new Map<string, KeyObject>([[key.id, key.publicKey]]);
const DEVICES = 100;

describe('probation through the broker', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('a diverging and a saturating model pushed to 100 devices are rolled back; none of their implausible outputs is published', async () => {
    const name = uniqueId('prob');
    const instance = uniqueId('prob');
    const modelTopic = `models/${name}`;
    const statusTopic = `edge-rnn/${instance}/model`;
    const sink = await collect(broker.url, broker.mqttVersion, [`p/${instance}/+`, statusTopic]);
    const store = new ModelStore(mkdtempSync(join(tmpdir(), 'edge-rnn-e2e-prob-')));
    const runtime = startRuntime(withTargetStats(version(name, 1), TARGET_MEAN, TARGET_STD), {
      broker: broker.url, mqttVersion: broker.mqttVersion, instance, healthIntervalMs: 0, predictionTopic: `p/${instance}/{device}`,
      modelTopic, trusted, modelSha256: 'start', modelStore: store,
    });
    await runtime.ready;
    const preds = () => sink.messages.filter((m) => m.topic.startsWith('p/')).map((m) => m.doc);
    const statuses = () => sink.messages.filter((m) => m.topic === statusTopic).map((m) => m.doc);
    const pub = await connect(broker.url, broker.mqttVersion);
    let round = 0;
    const rounds = async (n: number) => {
      for (let k = 0; k < n; k++, round++) {
        await Promise.all(Array.from({ length: DEVICES }, (_, d) =>
          pub.publishAsync(`sensors/d${d}/reading`, Buffer.from(JSON.stringify({ seq: round, values: { temperature: 20 + (d % 7) / 10, humidity: 40 - (d % 5) / 10 } })), { qos: 1 })));
      }
      await waitFor(`predictions of ${round} rounds`, () => preds().length >= DEVICES * round, 15_000);
    };
    const push = async (envelope: Uint8Array, status: string, count: number) => {
      await pushEnvelope(envelope, { broker: broker.url, topic: modelTopic, mqttVersion: broker.mqttVersion });
      await waitFor(status, () => statuses().filter((s) => s.event === status).length >= count, 5000);
    };

    await rounds(2);
    await push(sealModel(encodeModel(diverging(name, 2)), key.privateKey), 'accepted', 1);
    await rounds(6); // it fails at the 4th step of the first device
    await waitFor('v2 rolled back', () => statuses().some((s) => s.event === 'rolled-back'), 5000);
    await push(sealModel(encodeModel(saturating(name, 3)), key.privateKey), 'accepted', 2);
    await rounds(2);
    await waitFor('v3 rolled back', () => statuses().filter((s) => s.event === 'rolled-back').length >= 2, 5000);

    const events = statuses().map((s) => [s.event, s.version, s.code]);
    expect(events).toEqual([['accepted', 2, undefined], ['rolled-back', 2, 'implausible-output'], ['accepted', 3, undefined], ['rolled-back', 3, 'implausible-output']]);
    expect(statuses()[0]).toMatchObject({ probation: DEFAULT_PROBATION, statesKept: false, statesReason: 'shape-changed' }); // an RNN replacing an LSTM

    const all = preds();
    expect(all).toHaveLength(DEVICES * round);
    expect(new Set(all.map((p) => `${p.device}/${p.seq}`)).size).toBe(DEVICES * round);
    const z = (p: Record<string, any>) => Math.max(Math.abs((p.y.temperature - TARGET_MEAN[0]) / TARGET_STD[0]), Math.abs((p.y.humidity - TARGET_MEAN[1]) / TARGET_STD[1]));
    for (const v of [2, 3]) {
      const byFailed = all.filter((p) => p.model.version === v);
      // The documented bound: 0 implausible predictions of a model on probation reach the broker.
      expect(byFailed.filter((p) => !(z(p) <= DEFAULT_PROBATION.zLimit)), `v${v}`).toEqual([]);
      // Those it did publish are flagged by count in its rolled-back event.
      expect(statuses().find((s) => s.event === 'rolled-back' && s.version === v)!.publishedOnProbation, `v${v}`).toBe(byFailed.length);
    }
    expect(all.filter((p) => p.model.version === 3)).toHaveLength(0); // saturated at its first reading
    expect(all.at(-1)!.model.version).toBe(1);
    expect(runtime.counters).toMatchObject({ rollbacks: 2, deadLetters: 0 });
    expect(store.read().state).toMatchObject({ serving: { version: 1 }, probation: null, floor: { [name]: { rolledBack: [2, 3] } } });

    await runtime.stop();
    await pub.endAsync();
    await sink.client.endAsync();
  }, 60_000);

  it('--model-store none: the anti-rollback floor still survives a restart (state file only)', async () => {
    const name = uniqueId('floor');
    const modelTopic = `models/${name}`;
    const stateFile = join(mkdtempSync(join(tmpdir(), 'edge-rnn-e2e-floor-')), 'state', 'lifecycle.json');
    const instance = uniqueId('floor');
    const statusTopic = `edge-rnn/${instance}/model`;
    const sink = await collect(broker.url, broker.mqttVersion, [statusTopic]);
    const statuses = () => sink.messages.map((m) => m.doc);
    const boot = () => startRuntime(version(name, 1), {
      broker: broker.url, mqttVersion: broker.mqttVersion, instance, healthIntervalMs: 0, modelTopic, trusted, modelSha256: 'file',
      modelStore: new ModelStore(null, stateFile), probation: { minReadings: 0 },
    });
    const push = async (v: number) => {
      const before = statuses().length;
      await pushEnvelope(sealModel(encodeModel(version(name, v)), key.privateKey), { broker: broker.url, topic: modelTopic, mqttVersion: broker.mqttVersion });
      await waitFor(`status for v${v}`, () => statuses().length > before && statuses().at(-1)!.event !== 'accepted', 5000);
    };
    let runtime = boot();
    await runtime.ready;
    await push(3);
    expect(statuses().at(-1)).toMatchObject({ event: 'committed', version: 3 });
    await runtime.stop();

    // The retained v3 cleared (as an operator's `push --clear` would): the restart serves
    // the --model v1 again, no envelope was kept, and an older signed v2 comes along.
    const pub = await connect(broker.url, broker.mqttVersion);
    await pub.publishAsync(modelTopic, Buffer.alloc(0), { qos: 1, retain: true });
    runtime = boot();
    await runtime.ready;
    await push(2);
    expect(statuses().at(-1)).toMatchObject({ event: 'rejected', code: 'not-newer', version: 2, running: { name, version: 1 } });
    expect(statuses().at(-1)!.reason).toMatch(/below v3, committed earlier/);
    expect(runtime.model()).toMatchObject({ name, version: 1 });
    await runtime.stop();
    await pub.endAsync();
    await sink.client.endAsync();
  }, 30_000);
});
