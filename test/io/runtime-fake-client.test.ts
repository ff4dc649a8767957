// The runtime's own rules (ack after publish, gap reset, eviction, session loss, model
// push size bound, status after a swap) on a fake MQTT client and a virtual clock: no
// broker, no real time. The same rules run against Mosquitto in test/e2e/.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeModel } from '../../src/model/codec.js';
import { sealModel } from '../../src/io/model-envelope.js';
import { readModelFile } from '../../src/io/model-file.js';
import type { Logger } from '../../src/io/logger.js';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../src/io/mqtt-runtime.js';
import { fakeConnect, virtualClock } from '../helpers/fake-mqtt-client.js';
import { version } from '../helpers/swap-models.js';
import { signer } from '../e2e/support-push.js';
import { EXAMPLE_MODEL } from '../e2e/support.js';

const { model } = readModelFile(EXAMPLE_MODEL);
const reading = (seq: number, t = 20 + seq / 10) => JSON.stringify({ seq, values: { temperature: t, humidity: 40 } });

interface Logged { level: string; msg: string }
function memoryLogger(into: Logged[]): Logger {
  const at = (level: string) => (a: unknown, b?: string) => void into.push({ level, msg: typeof a === 'string' ? a : b ?? '' });
  const log = { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), fatal: at('fatal'), child: () => log } as unknown as Logger;
  return log;
}

let runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.map((r) => r.stop()));
  runtimes = [];
});

function start(m = model, extra: Partial<RuntimeOptions> = {}) {
  const fake = fakeConnect();
  const clock = virtualClock();
  const logs: Logged[] = [];
  const runtime = startRuntime(m, { broker: 'mqtt://fake', instance: 'i1', healthIntervalMs: 0, connect: fake.connect, clock, logger: memoryLogger(logs), ...extra });
  runtimes.push(runtime);
  const client = fake.client();
  client.connectNow(false);
  return { runtime, client, clock, logs };
}

describe('runtime on a fake client', () => {
  it('publishes each prediction before releasing the reading\'s PUBACK', async () => {
    const { runtime, client } = start();
    await runtime.ready;
    for (let s = 0; s < 5; s++) {
      const before = client.published.length;
      const d = client.deliver('sensors/a/reading', reading(s));
      expect(d.acked).toBe(true);
      expect(d.publishedBeforeAck).toBe(before + 1);
      expect(client.published[before].topic).toBe('predictions/a');
    }
    expect(runtime.counters.predictions).toBe(5);
  });

  it('resets a device after a gap longer than resetAfter, on the virtual clock', async () => {
    const { runtime, client, clock } = start(model, { resetAfterMs: 2000 });
    await runtime.ready;
    client.deliver('sensors/a/reading', reading(0));
    clock.advance(1500);
    client.deliver('sensors/a/reading', reading(1));
    expect(runtime.counters.resets).toBe(0);
    clock.advance(2500);
    client.deliver('sensors/a/reading', reading(2));
    expect(runtime.counters.resets).toBe(1);
    expect(runtime.counters.predictions).toBe(3);
  });

  it('evicts the least recently seen device beyond maxDevices', async () => {
    const { runtime, client } = start(model, { maxDevices: 2 });
    await runtime.ready;
    for (const d of ['a', 'b', 'c', 'a']) client.deliver(`sensors/${d}/reading`, reading(0));
    expect(runtime.counters.evictions).toBe(2); // c evicts a, then a evicts b
    expect(runtime.counters.predictions).toBe(4);
  });

  it('warns and counts when a reconnect finds the persistent session gone', async () => {
    const { runtime, client, logs } = start();
    await runtime.ready;
    expect(runtime.counters.sessionLosses).toBe(0); // the first connect of a fresh session is normal
    client.dropConnection();
    client.connectNow(true);
    expect(runtime.counters.sessionLosses).toBe(0);
    client.dropConnection();
    client.connectNow(false);
    expect(runtime.counters.sessionLosses).toBe(1);
    expect(logs.some((l) => l.level === 'warn' && /session lost/.test(l.msg))).toBe(true);
    const status = client.docs('edge-rnn/i1/status').at(-1)!;
    expect(status.sessionLosses).toBe(1);
    expect(client.subscriptions.length).toBe(3); // subscribed again on every connect
  });

  it('refuses a pushed model over the size bound before decoding, and acks it', async () => {
    const key = signer();
    const { runtime, client } = start(model, { modelTopic: 'models/m', trusted: new Map([[key.id, key.publicKey]]), modelMaxBytes: 1000 });
    await runtime.ready;
    const d = client.deliver('models/m', Buffer.alloc(1001, 0xc1));
    expect(d.acked).toBe(true);
    const verdict = client.docs('edge-rnn/i1/model').at(-1)!;
    expect(verdict.event).toBe('rejected');
    expect(verdict.code).toBe('too-large');
    client.deliver('sensors/a/reading', reading(0));
    expect(runtime.counters.predictions).toBe(1);
  });

  it('the retained status names the model serving after a swap, with its sha256', async () => {
    const key = signer();
    const v1 = version('swap', 1);
    const { runtime, client } = start(v1, { modelTopic: 'models/swap', trusted: new Map([[key.id, key.publicKey]]), probation: { minReadings: 0 } });
    await runtime.ready;
    expect(client.docs('edge-rnn/i1/status').at(-1)!.model.version).toBe(1);
    client.deliver('models/swap', sealModel(encodeModel(version('swap', 2)), key.privateKey), true);
    const status = client.docs('edge-rnn/i1/status').at(-1)!;
    expect(status.state).toBe('online');
    expect(status.model.version).toBe(2);
    expect(status.model.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(runtime.model().version).toBe(2);
  });
});

describe('runtime checkpoints on a fake client', () => {
  it('a restart restores every device state and seq history from the checkpoint: predictions carry on as without the restart', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const stateDir = mkdtempSync(join(tmpdir(), 'edge-rnn-fake-ckpt-'));
    const devices = ['a', 'b', 'c'];
    const run = (seqs: number[], r: ReturnType<typeof start>) => {
      for (const s of seqs) for (const d of devices) r.client.deliver(`sensors/${d}/reading`, reading(s, 20 + Math.sin(s + d.charCodeAt(0))));
      return r.client.docs('predictions/');
    };
    const straight = start(model, { instance: 'i1' });
    const reference = run([0, 1, 2, 3, 4, 5, 6, 7], straight);

    const first = start(model, { stateDir, checkpointIntervalMs: 0 });
    run([0, 1, 2, 3], first);
    await first.runtime.stop(); // flushes the checkpoint
    expect(first.runtime.checkpoints.checkpointWrites).toBe(1);
    const second = start(model, { stateDir, checkpointIntervalMs: 0 });
    expect(second.runtime.checkpoints.checkpointRestored).toBe(3);
    const dup = second.client.deliver('sensors/a/reading', reading(3)); // a redelivery after the restart
    expect(dup.acked).toBe(true);
    expect(second.runtime.counters.duplicates).toBe(1);
    const after = run([4, 5, 6, 7], second);
    expect(after.length).toBe(12);
    for (const p of after) {
      const want = reference.find((q) => q.device === p.device && q.seq === p.seq)!;
      expect(p.y.temperature).toBeCloseTo(want.y.temperature, 6);
      expect(p.steps).toBe(want.steps); // warm-up carries on too
    }
  });

  it('a checkpoint of another model is not restored: a cold start, counted', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const stateDir = mkdtempSync(join(tmpdir(), 'edge-rnn-fake-ckpt-'));
    const first = start(version('ck', 1), { stateDir });
    first.client.deliver('sensors/a/reading', reading(0));
    await first.runtime.stop();
    const second = start(version('ck', 2), { stateDir });
    expect(second.runtime.checkpoints.checkpointRestored).toBe(0);
    expect(second.runtime.checkpoints.checkpointColdStarts).toBe(1);
    expect(second.logs.some((l) => l.level === 'warn' && /cold/.test(l.msg))).toBe(true);
  });
});

describe('probation on a fake client', () => {
  it('a pushed model whose outputs are implausible is rolled back; the reading is predicted by the restored model', async () => {
    const key = signer();
    const v1 = version('prob', 1);
    const { runtime, client } = start(v1, { modelTopic: 'models/prob', trusted: new Map([[key.id, key.publicKey]]) });
    await runtime.ready;
    client.deliver('sensors/a/reading', reading(0));
    const { exploding } = await import('../helpers/swap-models.js');
    client.deliver('models/prob', sealModel(encodeModel(exploding('prob', 2)), key.privateKey), true);
    const before = client.docs('predictions/').length;
    client.deliver('sensors/a/reading', reading(1));
    const preds = client.docs('predictions/');
    expect(preds.length).toBe(before + 1);
    expect(preds.at(-1)!.model.version).toBe(1);
    expect(Number.isFinite(preds.at(-1)!.y.temperature)).toBe(true);
    const verdict = client.docs('edge-rnn/i1/model').at(-1)!;
    expect(verdict.event).toBe('rolled-back');
    expect(runtime.model().version).toBe(1);
    expect(client.docs('edge-rnn/i1/status').at(-1)!.model.version).toBe(1);
  });
});

describe('status counts on a fake client', () => {
  it('the retained status, republished with each health line, accounts for every message', async () => {
    vi.useFakeTimers();
    try {
      const { runtime, client } = start(model, { healthIntervalMs: 1000 });
      await runtime.ready;
      client.deliver('sensors/a/reading', reading(0));
      client.deliver('sensors/a/reading', reading(1));
      client.deliver('sensors/a/reading', reading(1)); // a redelivery
      client.deliver('sensors/b/reading', '{not json');
      vi.advanceTimersByTime(1000);
      const { counts } = client.docs('edge-rnn/i1/status').at(-1)!;
      expect(counts).toMatchObject({ received: 4, predictions: 2, duplicates: 1, deadLetters: 1 });
      expect(counts.predictions + counts.duplicates + counts.deadLetters).toBe(counts.received);
      expect(Object.values(counts.deadByReason as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
