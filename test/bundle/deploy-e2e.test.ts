// scripts/deploy.sh end to end against a fake device on this machine: DEPLOY_SSH and
// DEPLOY_SCP point at test/bundle/fake-host/, which runs the same remote script here with
// the device's /etc/edge-rnn and /etc/systemd/system inside a temporary root and a fake
// systemctl that starts the installed bundle with the installed env file. The runtime then
// really connects to a local broker: deploy.sh's own check (edge-rnn status on the device)
// must see its online status, and so must this test.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle } from '../../scripts/bundle.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { collect, connect, uniqueId, waitFor } from '../e2e/support.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const DEPLOY = join(ROOT, 'scripts/deploy.sh');
const FAKE = join(ROOT, 'test/bundle/fake-host');
const FORECASTER = join(ROOT, 'models/mote-forecaster.msgpack');
const UNTRAINED = join(ROOT, 'models/example-lstm.msgpack');
const ME = userInfo().username;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

let tmp: string;
let device: string; // the device bundle
let broker: TestBroker;
let keyFile: string;
let keyId: string;
const roots: string[] = [];

function fakeRoot(): { root: string; dir: string } {
  const root = mkdtempSync(join(tmp, 'device-'));
  roots.push(root);
  return { root, dir: join(root, 'opt/edge-rnn') };
}

async function deploy(root: string, args: string[], extraEnv: Record<string, string> = {}): Promise<Ran> {
  const env = { ...process.env, BUNDLE: device, FAKE_HOST_ROOT: root, DEPLOY_SSH: join(FAKE, 'ssh'), DEPLOY_SCP: join(FAKE, 'scp'), DEPLOY_STATUS_WAIT: '20', ...extraEnv };
  try {
    const { stdout, stderr } = await promisify(execFile)('bash', [DEPLOY, '--no-build', '--user', ME, ...args, 'pi@fake-device'], { env });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const fakeSystemctl = (root: string, ...args: string[]) =>
  promisify(execFile)(join(FAKE, 'bin/systemctl'), args, { env: { ...process.env, FAKE_HOST_ROOT: root } }).then(() => 0, (e: { code: number }) => e.code);

/** The device's own settings: this broker, a unique instance. */
function settingsFile(instance: string, port = broker.port): string {
  const f = join(tmp, `${instance}.env`);
  writeFileSync(f, [`EDGE_RNN_BROKER=mqtt://127.0.0.1:${port}`, `EDGE_RNN_MQTT_VERSION=${broker.mqttVersion}`, `EDGE_RNN_INSTANCE=${instance}`, 'EDGE_RNN_LOG_LEVEL=info', ''].join('\n'));
  return f;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'edge-rnn-deploy-e2e-'));
  [broker, device] = await Promise.all([startBroker(), bundle(join(tmp, 'build', 'edge-rnn-device.mjs'), 'device').then((r) => r.outfile)]);
  const { stdout } = await promisify(execFile)(process.execPath, [device, 'keygen', '--out', join(tmp, 'keys'), '--name', 'fleet', '--json']);
  const keys = JSON.parse(stdout) as { publicPath: string; keyId: string };
  keyFile = keys.publicPath;
  keyId = keys.keyId;
}, 60_000);

afterAll(async () => {
  for (const r of roots) await fakeSystemctl(r, 'stop', 'edge-rnn');
  await broker?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('scripts/deploy.sh on a fake device (DEPLOY_SSH)', () => {
  it('installs bundle, model, unit, settings and trust key; the service starts and publishes online; a --model-only redeploy switches the model', async () => {
    const { root, dir } = fakeRoot();
    const instance = uniqueId('deployed');
    const statusTopic = `edge-rnn/${instance}/status`;
    const r = await deploy(root, ['--model', FORECASTER, '--trust', keyFile, '--env', settingsFile(instance), '--dir', dir]);
    expect(r.code, `${r.stdout}\n${r.stderr}\n${readFileSync(join(root, 'var/log/edge-rnn.log'), 'utf8')}`).toBe(0);

    // Installed where the unit and the settings say.
    expect(readFileSync(join(dir, 'edge-rnn.mjs'))).toEqual(readFileSync(device));
    expect(readFileSync(join(dir, 'models/mote-forecaster.msgpack'))).toEqual(readFileSync(FORECASTER));
    const unit = readFileSync(join(root, 'etc/systemd/system/edge-rnn.service'), 'utf8').split('\n');
    expect(unit).toContain(`ExecStart=${process.execPath} --max-semi-space-size=1 --optimize-for-size ${dir}/edge-rnn.mjs run`);
    expect(unit).toContain('EnvironmentFile=/etc/edge-rnn/edge-rnn.env');
    const envPath = join(root, 'etc/edge-rnn/edge-rnn.env');
    expect(statSync(envPath).mode & 0o777).toBe(0o600);
    const env = readFileSync(envPath, 'utf8').trim().split('\n');
    expect(env).toContain(`EDGE_RNN_MODEL=${dir}/models/mote-forecaster.msgpack`);
    expect(env).toContain('EDGE_RNN_TRUST=/etc/edge-rnn/trust/fleet.pub.pem');
    expect(env).toContain(`EDGE_RNN_INSTANCE=${instance}`);
    const trusted = join(root, 'etc/edge-rnn/trust/fleet.pub.pem');
    expect(readFileSync(trusted, 'utf8')).toBe(readFileSync(keyFile, 'utf8'));
    expect(statSync(trusted).mode & 0o777).toBe(0o644);

    // deploy.sh's device-side checks passed: it printed the status its check read.
    const printed = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatchObject({ state: 'online', instance, model: { name: 'mote-forecaster', version: 1 } });
    expect(r.stdout).toContain('service edge-rnn online');
    expect(await fakeSystemctl(root, 'is-active', 'edge-rnn')).toBe(0);

    // This test sees the same retained status, and the runtime serves predictions and trusts the key.
    const sink = await collect(broker.url, broker.mqttVersion, [statusTopic, 'predictions/deploy-e2e-1']);
    await waitFor('retained online status', () => sink.messages.some((m) => m.topic === statusTopic && m.doc.state === 'online'));
    const pub = await connect(broker.url, broker.mqttVersion);
    await pub.publishAsync('sensors/deploy-e2e-1/reading', JSON.stringify({ ts: 1_732_615_200_000, seq: 0, values: { temperature: 21.5, humidity: 40 } }), { qos: 1 });
    await waitFor('a prediction', () => sink.messages.some((m) => m.topic === 'predictions/deploy-e2e-1'));
    await pub.endAsync();
    const log = readFileSync(join(root, 'var/log/edge-rnn.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(log.find((l) => l.msg === 'edge-rnn run starting').trustedKeys).toEqual([keyId]);

    // Redeploy only a model: the device keeps its own settings, the model line follows.
    const again = await deploy(root, ['--model-only', '--model', UNTRAINED, '--allow-untrained', '--dir', dir]);
    expect(again.code, `${again.stdout}\n${again.stderr}`).toBe(0);
    expect(again.stdout).toContain('"name":"example-lstm"');
    const env2 = readFileSync(envPath, 'utf8').trim().split('\n');
    expect(env2.filter((l) => l.startsWith('EDGE_RNN_MODEL='))).toEqual([`EDGE_RNN_MODEL=${dir}/models/example-lstm.msgpack`]);
    expect(env2).toContain(`EDGE_RNN_INSTANCE=${instance}`);
    expect(env2).toContain('EDGE_RNN_TRUST=/etc/edge-rnn/trust/fleet.pub.pem');
    await waitFor('online with the new model', () => sink.messages.some((m) => m.topic === statusTopic && m.doc.state === 'online' && m.doc.model?.name === 'example-lstm'));
    await sink.client.endAsync();
  }, 90_000);

  it('fails, with the service log, when the service never reports online (wrong broker)', async () => {
    const { root, dir } = fakeRoot();
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as AddressInfo).port; s.close(() => resolve(p)); });
    });
    const r = await deploy(root, ['--model', FORECASTER, '--env', settingsFile(uniqueId('nobroker'), closed), '--dir', dir], { DEPLOY_STATUS_WAIT: '3' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('edge-rnn: no online status on edge-rnn/');
    expect(r.stderr).toContain('ECONNREFUSED');
    expect(r.stdout).toContain('"msg":"edge-rnn run starting"'); // the journal, printed on failure
    expect(r.stdout).not.toContain('service edge-rnn online');
  }, 60_000);

  it('refuses a device whose Node.js is older than 18 before installing anything', async () => {
    const { root, dir } = fakeRoot();
    const bin = join(root, 'old-node');
    mkdirSync(bin);
    writeFileSync(join(bin, 'node'), '#!/bin/sh\necho 16.20.2\n', { mode: 0o755 });
    const r = await deploy(root, ['--model', FORECASTER, '--dir', dir], { FAKE_HOST_PATH: bin });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('deploy: pi@fake-device has Node.js 16.20.2; edge-rnn needs >= 18\n');
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(join(root, 'etc/edge-rnn'))).toBe(false);
  }, 30_000);
});
