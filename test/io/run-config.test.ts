import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, envName, flagName, parseDuration, resolvePushConfig, resolveRunConfig } from '../../src/io/run-config.js';

function configFile(doc: unknown): string {
  const p = join(mkdtempSync(join(tmpdir(), 'edge-rnn-cfg-')), 'run.json');
  writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
  return p;
}

describe('run settings', () => {
  it('names flags and env vars from one key', () => {
    expect(flagName('predictionTopic')).toBe('prediction-topic');
    expect(envName('broker')).toBe('EDGE_RNN_BROKER');
    expect(envName('maxDevices')).toBe('EDGE_RNN_MAX_DEVICES');
  });

  it('parses durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('15')).toBe(15_000);
    expect(() => parseDuration('soon')).toThrow(/duration/);
  });

  it('takes flags over env vars over the config file over defaults', () => {
    const file = configFile({ model: 'file.msgpack', broker: 'mqtt://file', maxDevices: 7, resetAfter: '5m', topics: ['a/+/r', 'b/+/r'], username: 'fileuser' });
    const env = { EDGE_RNN_BROKER: 'mqtt://env', EDGE_RNN_MAX_DEVICES: '8', EDGE_RNN_CONFIG: file };
    const c = resolveRunConfig({ flags: { broker: 'mqtt://flag' }, env });
    expect(c.broker).toBe('mqtt://flag');
    expect(c.maxDevices).toBe(8);
    expect(c.model).toBe('file.msgpack');
    expect(c.resetAfter).toBe(300_000);
    expect(c.topics).toEqual(['a/+/r', 'b/+/r']);
    expect(c.username).toBe('fileuser');
    expect(c.mqttVersion).toBe(5);
    expect(c.healthInterval).toBe(60_000);
    expect(c.predictionTopic).toBe('predictions/{device}');
  });

  it('fills the client id from the instance, and parses lists and versions from strings', () => {
    const c = resolveRunConfig({ flags: { model: 'm', instance: 'pi-7', topics: 'x/+/y, z/+/w', mqttVersion: '4' }, env: {} });
    expect(c.clientId).toBe('edge-rnn-pi-7');
    expect(c.topics).toEqual(['x/+/y', 'z/+/w']);
    expect(c.mqttVersion).toBe(4);
  });

  it.each([
    [{ flags: {}, env: {} }, /no model/],
    [{ flags: { model: 'm', maxDevices: '0' }, env: {} }, /--max-devices: expected a positive integer/],
    [{ flags: { model: 'm' }, env: { EDGE_RNN_MQTT_VERSION: '6' } }, /EDGE_RNN_MQTT_VERSION: expected 5 or 4/],
    [{ flags: { model: 'm', resetAfter: 'later' }, env: {} }, /--reset-after/],
    [{ flags: { model: 'm', logLevel: 'loud' }, env: {} }, /--log-level/],
  ])('refuses bad settings naming where they came from (%#)', (sources, message) => {
    expect(() => resolveRunConfig(sources)).toThrow(message);
    expect(() => resolveRunConfig(sources)).toThrow(ConfigError);
  });

  it('refuses unknown keys and bad JSON in the config file', () => {
    expect(() => resolveRunConfig({ flags: {}, env: {}, configFile: configFile({ model: 'm', maxDevice: 3 }) })).toThrow(/unknown setting "maxDevice"/);
    expect(() => resolveRunConfig({ flags: {}, env: {}, configFile: configFile('{nope') })).toThrow(/not valid JSON/);
    expect(() => resolveRunConfig({ flags: {}, env: {}, configFile: '/nonexistent/run.json' })).toThrow(/cannot read config file/);
  });
});

describe('broker URL', () => {
  it.each(['mqtt://h:1883', 'mqtts://h:8883', 'ws://h:8080/mqtt', 'wss://h/mqtt', 'MQTT://h'])('accepts %s', (broker) => {
    expect(resolveRunConfig({ flags: { model: 'm', broker }, env: {} }).broker).toBe(broker);
  });

  // Reproduced: `--broker localhost:1883` was accepted and mqtt.js looped forever on a protocol error.
  it.each([
    [{ flags: { model: 'm', broker: 'localhost:1883' }, env: {} }, /--broker: "localhost:1883" has no accepted scheme/],
    [{ flags: { model: 'm' }, env: { EDGE_RNN_BROKER: 'http://h:1883' } }, /EDGE_RNN_BROKER: "http:\/\/h:1883" has no accepted scheme/],
    [{ flags: { model: 'm' }, env: {}, configFile: configFile({ broker: '127.0.0.1' }) }, /"broker": "127.0.0.1" has no accepted scheme/],
  ])('refuses a URL without mqtt, mqtts, ws or wss (%#)', (sources, message) => {
    expect(() => resolveRunConfig(sources)).toThrow(message);
    expect(() => resolveRunConfig(sources)).toThrow(ConfigError);
  });

  it('`run --broker localhost:1883` is a one-line usage error, exit 2', async () => {
    const root = new URL('../../', import.meta.url).pathname;
    const args = [join(root, 'bin/edge-rnn.mjs'), 'run', '--model', join(root, 'models/example-lstm.msgpack'), '--broker', 'localhost:1883'];
    // The timeout turns the old endless reconnect loop into a failure instead of a hang.
    const r = await promisify(execFile)(process.execPath, args, { timeout: 15_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number | null; stderr: string; killed?: boolean }) => ({ code: e.killed ? -1 : e.code, stderr: e.stderr }),
    );
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/localhost:1883.*mqtt:\/\//);
  }, 30_000);
});

describe('push settings: the same mechanism and keys as run', () => {
  it('takes flags over env vars over the config file; one file serves run and push', () => {
    const file = configFile({ model: 'run-model.msgpack', broker: 'mqtts://file:8883', username: 'fileuser', maxDevices: 7, key: '/tls/client.key', modelMaxBytes: 1000 });
    const c = resolvePushConfig({ flags: { model: 'new.msgpack' }, env: { EDGE_RNN_CONFIG: file, EDGE_RNN_SIGNING_KEY: '/keys/s.key.pem', EDGE_RNN_USERNAME: 'envuser' } });
    expect(c).toMatchObject({
      model: 'new.msgpack', signingKey: '/keys/s.key.pem', broker: 'mqtts://file:8883', username: 'envuser', key: '/tls/client.key',
      modelMaxBytes: 1000, mqttVersion: 5, wait: null, statusTopics: ['edge-rnn/+/model'],
    });
    expect(resolveRunConfig({ flags: {}, env: { EDGE_RNN_CONFIG: file } }).maxDevices).toBe(7);
  });

  it('--wait alone waits 10 s; a value is seconds or a duration', () => {
    const base = { model: 'm', signingKey: 'k' };
    expect(resolvePushConfig({ flags: { ...base, wait: true }, env: {} }).wait).toBe(10_000);
    expect(resolvePushConfig({ flags: { ...base, wait: '3' }, env: {} }).wait).toBe(3000);
    expect(resolvePushConfig({ flags: base, env: { EDGE_RNN_WAIT: '500ms' } }).wait).toBe(500);
  });

  it.each([
    [{ flags: { signingKey: 'k' }, env: {} }, {}, /no model/],
    [{ flags: { model: 'm' }, env: {} }, {}, /no signing key: give --key, EDGE_RNN_SIGNING_KEY/],
    [{ flags: {}, env: {} }, { clear: true }, /--clear needs --name, --topic or --model/],
    [{ flags: { model: 'm', signingKey: 'k', broker: 'localhost:1883' }, env: {} }, {}, /--broker: "localhost:1883" has no accepted scheme/],
    [{ flags: { model: 'm', signingKey: 'k', wait: 'soon' }, env: {} }, {}, /--wait/],
    [{ flags: { model: 'm', signingKey: 'k' }, env: {}, configFile: configFile({ brokr: 'x' }) }, {}, /unknown setting "brokr"/],
  ])('refuses bad settings (%#)', (sources, mode, message) => {
    expect(() => resolvePushConfig(sources, mode)).toThrow(message);
    expect(() => resolvePushConfig(sources, mode)).toThrow(ConfigError);
  });

  it('--clear needs no model or key', () => {
    expect(resolvePushConfig({ flags: { name: 'mote' }, env: {} }, { clear: true })).toMatchObject({ name: 'mote' });
  });
});
