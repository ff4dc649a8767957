// `edge-rnn push --model FILE --key PRIVATE.pem --broker URL`: sign a model and publish
// it, retained, QoS 1, on models/<name>, where every `edge-rnn run --trust` picks it up.
// Settings: flags > EDGE_RNN_* env vars > JSON config file, the same keys as `run`
// (src/io/run-config.ts). The broker's PUBACK only means it stored the push: --wait
// collects what the instances decided.
import { createHash, createPublicKey } from 'node:crypto';
import type { Command } from 'commander';
import { KeyError, keyId, readPrivateKey } from '../../io/keys.js';
import { EnvelopeError, sealModel } from '../../io/model-envelope.js';
import { ModelFileError, readModelFile } from '../../io/model-file.js';
import { plaintextCredentialsWarning, readTlsFiles, TlsFileError, type BrokerAuth } from '../../io/mqtt-connect.js';
import { clearRetainedPush, PushError, pushEnvelope, type PushOptions, type PushReceipt } from '../../io/push-model.js';
import type { InstanceVerdict } from '../../io/push-verdicts.js';
import { ConfigError, envName, PUSH_SETTINGS, resolvePushConfig, type PushConfig } from '../../io/run-config.js';
import { addSettingOptions, settingFlags } from '../setting-options.js';
import { CliError } from '../errors.js';

interface PushFlags extends Record<string, unknown> {
  config?: string;
  force?: boolean;
  clear?: boolean;
  json?: boolean;
}

/** Exit code when --wait heard no verdict at all: the push is on the broker, its fate unknown. */
export const EXIT_NO_VERDICT = 3;

function settle<T>(f: () => T, ...types: (new (...a: never[]) => Error)[]): T {
  try {
    return f();
  } catch (e) {
    if (types.some((t) => e instanceof t)) throw new CliError((e as Error).message);
    throw e;
  }
}

function readPushedModel(path: string): ReturnType<typeof readModelFile> {
  try {
    return readModelFile(path);
  } catch (e) {
    if (e instanceof ModelFileError) throw new CliError(`refusing to push: ${e.message}`);
    throw e;
  }
}

function brokerOptions(config: PushConfig, topic: string): PushOptions {
  const tls = settle(() => readTlsFiles(config), TlsFileError);
  const auth: BrokerAuth = {
    mqttVersion: config.mqttVersion, ...tls,
    ...(config.username !== undefined ? { username: config.username } : {}),
    ...(config.password !== undefined ? { password: config.password } : {}),
  };
  const warning = plaintextCredentialsWarning(config.broker, auth);
  if (warning) process.stderr.write(`edge-rnn: warning: ${warning}\n`);
  return { broker: config.broker, topic, ...auth, modelMaxBytes: config.modelMaxBytes, statusTopics: config.statusTopics };
}

function describeVerdict(v: InstanceVerdict): string {
  const why = v.code || v.reason ? ` (${[v.code, v.reason].filter(Boolean).join(': ')})` : '';
  const pending = v.event === 'accepted' && !v.final ? `, on probation (${v.probation} readings), not yet committed` : '';
  return `  ${v.instance}: ${v.event}${why}${pending}`;
}

/** The lines that say what happened to the push; the exit code follows from the verdicts. */
function report(receipt: PushReceipt, waitMs: number | null): { lines: string[]; exitCode: number } {
  if (waitMs === null) return { lines: ['  verdicts: not awaited (the broker stored the push; pass --wait to hear whether devices accept it)'], exitCode: 0 };
  const verdicts = receipt.verdicts ?? [];
  const lines = verdicts.map(describeVerdict);
  for (const s of receipt.silent ?? []) lines.push(`  ${s}: no answer within ${waitMs / 1000} s`);
  if (verdicts.length === 0) {
    lines.unshift(`  no instance answered within ${waitMs / 1000} s: nothing is known about whether any device runs this model`);
    return { lines, exitCode: EXIT_NO_VERDICT };
  }
  const bad = verdicts.filter((v) => v.event === 'rejected' || v.event === 'rolled-back').length;
  lines.unshift(`  verdicts: ${verdicts.length} instance${verdicts.length === 1 ? '' : 's'} answered, ${bad} refused or rolled back`);
  return { lines, exitCode: bad > 0 ? 1 : 0 };
}

export function registerPush(program: Command): void {
  const cmd = program
    .command('push')
    .description('sign a model with an ed25519 private key and publish it (retained, QoS 1) for running devices to swap in')
    .option('-c, --config <file>', `JSON config file with any of the settings below (env ${envName('config')})`);
  addSettingOptions(cmd, PUSH_SETTINGS, { model: 'm', signingKey: 'k' });
  cmd
    .option('--force', 'push even when the broker retains a version at least as new')
    .option('--clear', 'remove the retained push from the model topic (an empty retained message) and exit')
    .option('--json', 'machine-readable output')
    .addHelpText('after', `
The envelope holds the model bytes, their sha256, name, modelVersion, created-at and the
key id, signed together. Devices accept it only if signed by a key they --trust, with a
higher modelVersion than they run. A push whose version is not newer than the one the
broker retains on the topic is refused unless --force (the retained one is read without
checking its signature). A broker caps the packet size (EMQX: 1 MB by default,
mqtt.max_packet_size): over MQTT 5 a larger envelope is refused here, naming both sizes.
--wait: exit 1 if any instance rejected or rolled back the push, ${EXIT_NO_VERDICT} if none answered.
See docs/runtime.md, "Model push and hot swap" and "Push limits and hygiene".`)
    .action(async (opts: PushFlags) => {
      let config: PushConfig;
      try {
        config = resolvePushConfig({ flags: settingFlags(opts, PUSH_SETTINGS), env: process.env, configFile: opts.config }, { clear: opts.clear });
      } catch (e) {
        if (e instanceof ConfigError) throw new CliError(e.message, 2); // a usage error
        throw e;
      }
      if (opts.clear) return clear(config, opts);
      const file = readPushedModel(config.model!);
      const { model } = file;
      const signed = settle(() => {
        const privateKey = readPrivateKey(config.signingKey!);
        return { kid: keyId(createPublicKey(privateKey)), envelope: sealModel(file.bytes, privateKey) };
      }, KeyError, EnvelopeError);
      const topic = config.topic ?? `models/${config.name ?? model.name}`;
      const options = brokerOptions(config, topic);
      let receipt: PushReceipt;
      try {
        receipt = await pushEnvelope(signed.envelope, { ...options, force: opts.force ?? false, waitMs: config.wait ?? 0 });
      } catch (e) {
        if (e instanceof PushError) throw new CliError(e.message);
        throw e;
      }
      const { lines, exitCode } = report(receipt, config.wait);
      const summary = {
        name: model.name, version: model.modelVersion, sha256: createHash('sha256').update(file.bytes).digest('hex'),
        keyId: signed.kid, bytes: signed.envelope.length, modelBytes: file.bytes.length, topic, broker: config.broker,
        maximumPacketSize: receipt.maximumPacketSize, retained: true, qos: 1, replaced: receipt.replaced,
        ...(receipt.verdicts ? { verdicts: receipt.verdicts, silent: receipt.silent } : {}),
      };
      if (opts.json) process.stdout.write(JSON.stringify(summary) + '\n');
      else {
        const replaced = receipt.replaced === null ? 'nothing' : 'unreadable' in receipt.replaced ? `an unreadable message (${receipt.replaced.unreadable})` : `${receipt.replaced.name} v${receipt.replaced.modelVersion}`;
        process.stdout.write(
          `published ${summary.name} v${summary.version} to ${topic} on ${config.broker} (retained, QoS 1; the broker stored it)\n` +
            `  sha256:   ${summary.sha256}\n` +
            `  key id:   ${summary.keyId}\n` +
            `  envelope: ${summary.bytes} bytes (model ${summary.modelBytes} bytes); broker limit ${summary.maximumPacketSize ?? 'not announced'}\n` +
            `  replaced: ${opts.force ? 'not checked (--force)' : replaced}\n` +
            lines.join('\n') + '\n',
        );
      }
      if (exitCode !== 0) {
        const word = exitCode === EXIT_NO_VERDICT ? 'no instance answered' : 'an instance refused or rolled back the push';
        throw new CliError(`${word} (see ${opts.json ? 'verdicts' : 'above'})`, exitCode);
      }
    });
}

async function clear(config: PushConfig, opts: PushFlags): Promise<void> {
  const name = config.name ?? (config.topic === undefined ? readPushedModel(config.model!).model.name : undefined);
  const topic = config.topic ?? `models/${name}`;
  try {
    await clearRetainedPush(brokerOptions(config, topic));
  } catch (e) {
    if (e instanceof PushError) throw new CliError(e.message);
    throw e;
  }
  if (opts.json) process.stdout.write(JSON.stringify({ cleared: topic, broker: config.broker }) + '\n');
  else process.stdout.write(`cleared the retained push on ${topic} on ${config.broker}: devices starting now get no pushed model from the broker\n`);
}
