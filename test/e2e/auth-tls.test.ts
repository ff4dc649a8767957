// Username/password and TLS with a client certificate against a broker that demands
// both; a wrong password makes `edge-rnn run` exit 1 with one line instead of retrying forever.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFile } from '../../src/io/model-file.js';
import { startRuntime } from '../../src/io/mqtt-runtime.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { CLI, EXAMPLE_MODEL, readingPayload, uniqueId, waitFor } from './support.js';

const TLS = new URL('./fixtures/tls/', import.meta.url).pathname;
const pem = (f: string) => join(TLS, f);
const auth = { username: 'edge', password: 's3cret' };

describe('edge-rnn run with credentials and TLS', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker({ auth, tls: { ca: pem('ca.pem'), cert: pem('server.pem'), key: pem('server.key') } });
  });
  afterAll(async () => {
    await broker?.close();
  });
  const tlsOpts = () => ({ ca: readFileSync(pem('ca.pem')), cert: readFileSync(pem('client.pem')), key: readFileSync(pem('client.key')) });

  it('connects with a CA, a client certificate and a password, and predicts', async () => {
    expect(broker.url.startsWith('mqtts://')).toBe(true);
    const { model } = readModelFile(EXAMPLE_MODEL);
    const client = await mqtt.connectAsync(broker.url, { ...auth, ...tlsOpts(), protocolVersion: broker.mqttVersion, clientId: uniqueId('tls') });
    const got: string[] = [];
    client.on('message', (t) => got.push(t));
    await client.subscribeAsync('predictions/+', { qos: 1 });
    const runtime = startRuntime(model, { broker: broker.url, mqttVersion: broker.mqttVersion, instance: uniqueId('tls'), healthIntervalMs: 0, ...auth, ...tlsOpts() });
    await runtime.ready;
    await client.publishAsync('sensors/m1/reading', readingPayload({ device: 'm1', seq: 0, temperature: 20, humidity: 40 }), { qos: 1 });
    await waitFor('a prediction over TLS', () => got.length === 1);
    expect(got).toEqual(['predictions/m1']);
    await runtime.stop();
    await client.endAsync();
  }, 20_000);

  it('exits 1 naming the refusal when the password is wrong', async () => {
    const args = [CLI, 'run', '--model', EXAMPLE_MODEL, '--broker', broker.url, '--mqtt-version', String(broker.mqttVersion),
      '--ca', pem('ca.pem'), '--cert', pem('client.pem'), '--key', pem('client.key'), '--username', 'edge', '--log-level', 'silent',
      '--state-dir', 'none'];
    const err = await promisify(execFile)(process.execPath, args, { env: { ...process.env, EDGE_RNN_PASSWORD: 'wrong' }, timeout: 20_000 }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(/broker refused the connection/);
  }, 30_000);

  it('refuses a TLS file that does not exist', async () => {
    const err = await promisify(execFile)(process.execPath, [CLI, 'run', '--model', EXAMPLE_MODEL, '--broker', broker.url, '--ca', '/nonexistent/ca.pem'], { timeout: 20_000 }).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(err?.stderr).toMatch(/cannot read TLS CA \/nonexistent\/ca.pem: ENOENT/);
  }, 30_000);
});
