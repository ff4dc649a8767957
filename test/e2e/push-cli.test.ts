// `edge-rnn push` and `edge-rnn run --trust --model-store` as processes: a pushed model
// survives a restart; a truncated stored model does not stop the runtime (it falls back
// to the previous good one); push refuses undecodable models and envelopes larger than
// the broker's announced maximum packet size.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKeyPair } from '../../src/io/keys.js';
import { encodeModel } from '../../src/model/codec.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { version } from '../helpers/swap-models.js';
import { CLI, collect, connect, uniqueId, waitFor } from './support.js';
import { Packr } from 'msgpackr';
import { spawnRun } from './support-push.js';

const exec = promisify(execFile);

async function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [CLI, ...args], { env });
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

// Honest push (issue 13). Reproduced before: `push` said "acknowledged" and exited 0 for a
// push every device rejected, and a mistaken older push replaced the good one on the broker.
describe('edge-rnn push tells what the devices decided', () => {
  let broker: TestBroker;
  const dir = mkdtempSync(join(tmpdir(), 'edge-rnn-push-wait-'));
  const keys = writeKeyPair(dir, 'signer');
  const stranger = writeKeyPair(dir, 'stranger');
  const name = uniqueId('wait');
  const files = [1, 2, 3, 4].map((v) => {
    const p = join(dir, `v${v}.msgpack`);
    writeFileSync(p, encodeModel(version(name, v)));
    return p;
  });
  const push = (v: number, ...more: string[]) =>
    cli(['push', '--model', files[v - 1], '--key', keys.privatePath, '--broker', broker.url, '--mqtt-version', String(broker.mqttVersion), ...more]);
  const runArgs = (instance: string, trust: string) => [
    '--model', files[0], '--broker', broker.url, '--mqtt-version', String(broker.mqttVersion), '--instance', instance,
    '--trust', trust, '--model-store', 'none', '--probation', '0', '--prediction-topic', `p/${instance}/{device}`,
  ];
  const startRun = async (instance: string, trust: string) => {
    const sink = await collect(broker.url, broker.mqttVersion, [`edge-rnn/${instance}/status`]);
    const run = spawnRun(CLI, runArgs(instance, trust));
    await waitFor(`${instance} online`, () => sink.messages.some((m) => m.doc.state === 'online'), 20_000);
    await sink.client.endAsync();
    return run;
  };
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('--wait: a push every device rejects exits 1 naming the instance and the reason; one accepted exits 0', async () => {
    const doubter = uniqueId('doubter');
    const run1 = await startRun(doubter, stranger.publicPath);
    const rejected = await push(2, '--wait', '10', '--json');
    expect(rejected.code).toBe(1);
    const receipt = JSON.parse(rejected.stdout);
    expect(receipt.verdicts).toEqual([expect.objectContaining({ instance: doubter, event: 'rejected', code: 'unknown-key', final: true })]);
    expect(rejected.stderr).toMatch(/refused or rolled back/);
    expect(await run1.stop()).toBe(0);

    // Its retained status would list it as silent from now on: clear it.
    const pub = await connect(broker.url, broker.mqttVersion);
    await pub.publishAsync(`edge-rnn/${doubter}/model`, Buffer.alloc(0), { qos: 1, retain: true });
    const believer = uniqueId('believer');
    const run2 = await startRun(believer, keys.publicPath);
    const accepted = await push(3, '--wait', '10');
    expect(accepted.stderr).toBe('');
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toMatch(new RegExp(`${believer}: (accepted|committed)`));
    expect(accepted.stdout).toMatch(/1 instance answered, 0 refused/);
    expect(accepted.stdout).not.toMatch(/acknowledged/);
    expect(await run2.stop()).toBe(0);
    await pub.publishAsync(`edge-rnn/${believer}/model`, Buffer.alloc(0), { qos: 1, retain: true });
    await pub.endAsync();
  }, 60_000);

  it('--wait with no instance listening says so and exits 3', async () => {
    const lonely = join(dir, 'lonely.msgpack');
    writeFileSync(lonely, encodeModel(version(uniqueId('lonely'), 1)));
    const r = await cli(['push', '--model', lonely, '--key', keys.privatePath, '--broker', broker.url, '--mqtt-version', String(broker.mqttVersion), '--wait', '1']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/no instance answered within 1 s/);
  }, 20_000);

  it('refuses a version not newer than the retained one unless --force; --clear removes the retained push', async () => {
    // Whatever an earlier test left, v3 is what the broker retains now.
    await push(3, '--force');
    const older = await push(2);
    expect(older.code).toBe(1);
    expect(older.stderr).toMatch(new RegExp(`models/${name} already retains ${name} v3 \\(as it claims: its signature is not checked here\\).*v2 is not newer.*--force`));
    const same = await push(3);
    expect(same.code).toBe(1);
    const newer = await push(4);
    expect(newer.code).toBe(0);
    expect(newer.stdout).toMatch(new RegExp(`replaced: ${name} v3`));
    const forced = await push(2, '--force');
    expect(forced.code).toBe(0);

    const cleared = await cli(['push', '--clear', '--name', name, '--broker', broker.url, '--mqtt-version', String(broker.mqttVersion)]);
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toMatch(new RegExp(`cleared the retained push on models/${name}`));
    const sub = await connect(broker.url, broker.mqttVersion);
    const seen: number[] = [];
    sub.on('message', (_t, payload) => seen.push(payload.length));
    await sub.subscribeAsync(`models/${name}`, { qos: 1 });
    await sub.publishAsync(`models/${name}/ping`, 'x', { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    await sub.endAsync();
    expect(seen).toEqual([]);
    // With the retained push gone, an older version goes through again.
    expect((await push(1)).code).toBe(0);
  }, 40_000);

  it('settings: a broker URL without a scheme is a usage error; env vars and the config file feed push like run', async () => {
    const r = await push(1, '--broker', 'localhost:1883');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--broker: "localhost:1883" has no accepted scheme/);

    const config = join(dir, 'push.json');
    writeFileSync(config, JSON.stringify({ broker: broker.url, mqttVersion: broker.mqttVersion, maxDevices: 5 }));
    const viaFile = await cli(['push', '--config', config, '--model', files[3], '--force', '--json'], { ...process.env, EDGE_RNN_SIGNING_KEY: keys.privatePath });
    expect(viaFile.stderr).toBe('');
    expect(viaFile.code).toBe(0);
    expect(JSON.parse(viaFile.stdout)).toMatchObject({ broker: broker.url, version: 4 });

    const plain = await cli(['push', '--model', files[3], '--force', '--username', 'u', '--password', 'p'], {
      ...process.env, EDGE_RNN_SIGNING_KEY: keys.privatePath, EDGE_RNN_BROKER: broker.url, EDGE_RNN_MQTT_VERSION: String(broker.mqttVersion),
    });
    expect(plain.stderr).toMatch(/warning: .*plain text/);
  }, 30_000);
});

// Reproduced before the fix: a 100 MiB envelope plus one trailing byte, retained on the
// model topic, took the runtime to 5 GB RSS (msgpackr stringified it into an error); with
// a 512 MB heap it aborted, and again at every restart. Here the runtime has a 256 MB heap.
describe('an oversized retained push does not take the runtime down', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('100 MiB + 1 byte on the model topic: refused (or never delivered), peak RSS bounded, predictions go on', async () => {
    const RSS_BOUND_MB = 900; // the packet is buffered whole by mqtt.js (about 2 copies) plus node and tsx
    const dir = mkdtempSync(join(tmpdir(), 'edge-rnn-oversize-'));
    const keys = writeKeyPair(dir, 'signer');
    const name = uniqueId('big');
    const modelFile = join(dir, 'v1.msgpack');
    writeFileSync(modelFile, encodeModel(version(name, 1)));
    const instance = uniqueId('big');
    const sink = await collect(broker.url, broker.mqttVersion, [`p/${instance}/+`, `edge-rnn/${instance}/+`]);
    const run = spawnRun(CLI, [
      '--model', modelFile, '--broker', broker.url, '--mqtt-version', String(broker.mqttVersion), '--instance', instance,
      '--trust', keys.publicPath, '--model-store', 'none', '--prediction-topic', `p/${instance}/{device}`,
    ], ['--max-old-space-size=256']);
    const on = (suffix: string) => sink.messages.filter((m) => m.topic === `edge-rnn/${instance}/${suffix}`).map((m) => m.doc);
    const preds = () => sink.messages.filter((m) => m.topic.startsWith('p/'));
    await waitFor('online', () => on('status').some((s) => s.state === 'online'), 20_000);

    const packr = new Packr({ useRecords: false, variableMapSize: true });
    const huge = Buffer.concat([packr.pack({ format: 'edge-rnn-envelope', version: 1, payload: Buffer.alloc(100 * 1024 * 1024, 7), signature: Buffer.alloc(64) }), Buffer.from([0xc0])]);
    const pub = await connect(broker.url, broker.mqttVersion);
    await pub.publishAsync(`models/${name}`, huge, { qos: 1, retain: true });
    let seq = 0;
    const reading = () => Buffer.from(JSON.stringify({ seq: seq++, values: { temperature: 21, humidity: 44 } }));
    // Readings published after the push queue behind it in the runtime's one ordered flow.
    for (let k = 0; k < 5; k++) await pub.publishAsync('sensors/m1/reading', reading(), { qos: 1 });
    await waitFor('predictions after the push', () => preds().length >= 5, 60_000);
    const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${run.child.pid}/status`, 'utf8'));
    await pub.publishAsync(`models/${name}`, Buffer.alloc(0), { qos: 1, retain: true });
    await pub.endAsync();
    expect(run.child.exitCode).toBeNull();
    // Delivered (no maximum packet size announced): refused by its size. Not delivered: nothing to say.
    for (const s of on('model')) expect(s).toMatchObject({ event: 'rejected', code: 'too-large' });
    expect(await run.stop()).toBe(0);
    await sink.client.endAsync();
    if (hwm) expect(Number(hwm[1]) / 1024).toBeLessThan(RSS_BOUND_MB);
  }, 120_000);
});
