// `edge-rnn push` and `edge-rnn run --trust --model-store` as processes: a pushed model
// survives a restart; a truncated stored model does not stop the runtime (it falls back
// to the previous good one); push refuses undecodable models and envelopes larger than
// the broker's announced maximum packet size.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKeyPair } from '../../src/io/keys.js';
import { encodeModel } from '../../src/model/codec.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { version } from '../helpers/swap-models.js';
import { CLI, collect, connect, uniqueId, waitFor } from './support.js';

const exec = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args]);
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('edge-rnn push and run --trust as processes', () => {
  let broker: TestBroker;
  const dir = mkdtempSync(join(tmpdir(), 'edge-rnn-push-cli-'));
  const keys = writeKeyPair(dir, 'signer');
  const name = uniqueId('cli');
  const files = [1, 2, 3].map((v) => {
    const p = join(dir, `v${v}.msgpack`);
    writeFileSync(p, encodeModel(version(name, v)));
    return p;
  });
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('push is acknowledged and swapped in; a restart serves it; a truncated store falls back to the previous good model', async () => {
    const instance = uniqueId('cli');
    const store = join(dir, 'store');
    const sink = await collect(broker.url, broker.mqttVersion, [`p/${instance}/+`, `edge-rnn/${instance}/+`]);
    const on = (suffix: string) => sink.messages.filter((m) => m.topic === `edge-rnn/${instance}/${suffix}`).map((m) => m.doc);
    const preds = () => sink.messages.filter((m) => m.topic.startsWith('p/')).map((m) => m.doc);
    const pub = await connect(broker.url, broker.mqttVersion);
    let logs = '';
    const spawnRun = (): ChildProcess => {
      const child = spawn(process.execPath, [
        CLI, 'run', '--model', files[0], '--broker', broker.url, '--mqtt-version', String(broker.mqttVersion), '--instance', instance,
        '--prediction-topic', `p/${instance}/{device}`, '--trust', keys.publicPath, '--model-store', store, '--probation', '5',
        '--health-interval', '0',
      ], { stdio: ['ignore', 'pipe', 'inherit'] });
      child.stdout!.on('data', (d) => (logs += d));
      return child;
    };
    const stop = async (child: ChildProcess) => {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    };
    let seq = 0;
    const predictOne = async () => {
      const before = preds().length;
      await pub.publishAsync('sensors/m1/reading', Buffer.from(JSON.stringify({ seq: seq++, values: { temperature: 21, humidity: 44 } })), { qos: 1 });
      await waitFor('a prediction', () => preds().length > before, 10_000);
      return preds().at(-1)!;
    };
    const online = (n: number) => waitFor('online', () => on('status').filter((s) => s.state === 'online').length >= n, 20_000);

    let run = spawnRun();
    await online(1);
    expect((await predictOne()).model).toEqual({ name, version: 1 });
    for (const v of [2, 3]) {
      const pushed = await cli(['push', '--model', files[v - 1], '--key', keys.privatePath, '--broker', broker.url, '--mqtt-version', String(broker.mqttVersion), '--json']);
      expect(pushed.stderr).toBe('');
      expect(pushed.code).toBe(0);
      const receipt = JSON.parse(pushed.stdout);
      expect(receipt).toMatchObject({ name, version: v, keyId: keys.keyId, topic: `models/${name}`, retained: true, qos: 1 });
      expect(receipt.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(receipt.bytes).toBeGreaterThan(statSync(files[v - 1]).size);
      await waitFor(`v${v} accepted`, () => on('model').some((s) => s.event === 'accepted' && s.version === v), 10_000);
      expect(on('model').find((s) => s.version === v)).toMatchObject({ sha256: receipt.sha256, keyId: keys.keyId });
      // Only a committed model is served after a restart: one device passes probation after 10 clean steps.
      while (!on('model').some((s) => s.event === 'committed' && s.version === v)) expect((await predictOne()).model).toEqual({ name, version: v });
    }
    expect((await predictOne()).model).toEqual({ name, version: 3 });
    await stop(run);

    // Clear the retained push, so what the restart serves can only come from the store.
    await pub.publishAsync(`models/${name}`, Buffer.alloc(0), { qos: 1, retain: true });
    run = spawnRun();
    await online(2);
    expect((await predictOne()).model).toEqual({ name, version: 3 });
    expect(logs).toMatch(/serving the stored pushed model/);
    await stop(run);

    truncateSync(join(store, 'committed.envelope'), 200);
    logs = '';
    run = spawnRun();
    await online(3);
    expect((await predictOne()).model).toEqual({ name, version: 2 });
    expect(logs).toMatch(/committed\.envelope is unusable/);
    await stop(run);
    await pub.endAsync();
    await sink.client.endAsync();
  }, 40_000);

  it('push refuses a model that does not decode, and an envelope over the broker limit (saying both sizes)', async () => {
    const bad = join(dir, 'bad.msgpack');
    writeFileSync(bad, Buffer.from([0x93, 1, 2, 3]));
    const r = await cli(['push', '--model', bad, '--key', keys.privatePath, '--broker', broker.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to push: .*bad\.msgpack is not a valid edge-rnn model/);

    const small = await startBroker({ maxPacketSize: 1024 });
    try {
      const big = await cli(['push', '--model', files[0], '--key', keys.privatePath, '--broker', small.url, '--mqtt-version', String(small.mqttVersion)]);
      if (small.kind === 'mosquitto') {
        expect(big.code).toBe(1);
        expect(big.stderr).toMatch(/the envelope is \d+ bytes .*larger than the broker's maximum packet size of 1024 bytes/);
        expect(big.stderr).toMatch(/EMQX/);
      } else {
        // aedes speaks MQTT 3.1.1, which announces no limit: the push goes through and says so.
        expect(big.code).toBe(0);
        expect(big.stdout).toMatch(/broker limit not announced/);
      }
    } finally {
      await small.close();
    }
  }, 20_000);
});
