// `edge-rnn push --model FILE --key PRIVATE.pem --broker URL`: sign a model and publish
// it, retained, QoS 1, on models/<name>, where every `edge-rnn run --trust` picks it up.
import { createHash, createPublicKey } from 'node:crypto';
import type { Command } from 'commander';
import { KeyError, keyId, readPrivateKey } from '../../io/keys.js';
import { EnvelopeError, sealModel } from '../../io/model-envelope.js';
import { ModelFileError, readModelFile } from '../../io/model-file.js';
import { readTlsFiles, TlsFileError } from '../../io/mqtt-connect.js';
import { PushError, pushEnvelope } from '../../io/push-model.js';
import { envName } from '../../io/run-config.js';
import { CliError } from '../errors.js';

interface PushFlags {
  model: string;
  key: string;
  broker?: string;
  name?: string;
  topic?: string;
  mqttVersion?: string;
  username?: string;
  password?: string;
  ca?: string;
  cert?: string;
  tlsKey?: string;
  json?: boolean;
}

export function registerPush(program: Command): void {
  program
    .command('push')
    .description('sign a model with an ed25519 private key and publish it (retained, QoS 1) for running devices to swap in')
    .requiredOption('-m, --model <file>', 'model file (.msgpack); refused if it does not decode')
    .requiredOption('-k, --key <file>', 'ed25519 private key (PEM, from edge-rnn keygen); stays on this machine')
    .option('--broker <url>', `broker URL (env ${envName('broker')}; default mqtt://127.0.0.1:1883)`)
    .option('--name <name>', 'publish on models/<name> (default: the model\'s own name)')
    .option('--topic <topic>', 'publish on this topic instead of models/<name>')
    .option('--mqtt-version <v>', 'MQTT protocol version, 5 or 4 (3.1.1); only 5 announces the broker\'s maximum packet size', '5')
    .option('--username <user>', `broker user name (env ${envName('username')})`)
    .option('--password <password>', `broker password (env ${envName('password')}; prefer it to the flag)`)
    .option('--ca <file>', `TLS: CA certificate (PEM) (env ${envName('ca')})`)
    .option('--cert <file>', `TLS: client certificate (PEM) (env ${envName('cert')})`)
    .option('--tls-key <file>', 'TLS: client key (PEM) (--key is the signing key here)')
    .option('--json', 'machine-readable output')
    .addHelpText('after', `
The envelope holds the model bytes, their sha256, name, modelVersion, created-at and the
key id, signed together. Devices accept it only if signed by a key they --trust, with a
higher modelVersion than they run. A broker caps the packet size (EMQX: 1 MB by default,
mqtt.max_packet_size): over MQTT 5 a larger envelope is refused here, naming both sizes.
See docs/runtime.md, "Model push and hot swap".`)
    .action(async (opts: PushFlags) => {
      const env = process.env;
      const mqttVersion = opts.mqttVersion === '4' || opts.mqttVersion === '3.1.1' ? 4 : opts.mqttVersion === '5' ? 5 : null;
      if (mqttVersion === null) throw new CliError(`--mqtt-version: expected 5 or 4, got "${opts.mqttVersion}"`, 2);
      let file;
      try {
        file = readModelFile(opts.model);
      } catch (e) {
        if (e instanceof ModelFileError) throw new CliError(`refusing to push: ${e.message}`);
        throw e;
      }
      let envelope: Uint8Array;
      let kid: string;
      try {
        const privateKey = readPrivateKey(opts.key);
        kid = keyId(createPublicKey(privateKey));
        envelope = sealModel(file.bytes, privateKey);
      } catch (e) {
        if (e instanceof KeyError || e instanceof EnvelopeError) throw new CliError(e.message);
        throw e;
      }
      let tls;
      try {
        tls = readTlsFiles({ ca: opts.ca ?? env.EDGE_RNN_CA, cert: opts.cert ?? env.EDGE_RNN_CERT, key: opts.tlsKey });
      } catch (e) {
        if (e instanceof TlsFileError) throw new CliError(e.message);
        throw e;
      }
      const { model } = file;
      const topic = opts.topic ?? `models/${opts.name ?? model.name}`;
      const broker = opts.broker ?? env.EDGE_RNN_BROKER ?? 'mqtt://127.0.0.1:1883';
      const username = opts.username ?? env.EDGE_RNN_USERNAME;
      const password = opts.password ?? env.EDGE_RNN_PASSWORD;
      let receipt;
      try {
        receipt = await pushEnvelope(envelope, {
          broker, topic, mqttVersion, ...tls,
          ...(username !== undefined ? { username } : {}), ...(password !== undefined ? { password } : {}),
        });
      } catch (e) {
        if (e instanceof PushError) throw new CliError(e.message);
        throw e;
      }
      const summary = {
        name: model.name, version: model.modelVersion, sha256: createHash('sha256').update(file.bytes).digest('hex'),
        keyId: kid, bytes: envelope.length, modelBytes: file.bytes.length, topic, broker,
        maximumPacketSize: receipt.maximumPacketSize, retained: true, qos: 1,
      };
      if (opts.json) {
        process.stdout.write(JSON.stringify(summary) + '\n');
        return;
      }
      process.stdout.write(
        `pushed ${summary.name} v${summary.version} to ${topic} on ${broker} (retained, QoS 1, acknowledged)\n` +
          `  sha256:   ${summary.sha256}\n` +
          `  key id:   ${summary.keyId}\n` +
          `  envelope: ${summary.bytes} bytes (model ${summary.modelBytes} bytes); broker limit ${summary.maximumPacketSize ?? 'not announced'}\n`,
      );
    });
}
