// `edge-rnn run`: the edge runtime. Subscribes to sensor readings, keeps one recurrent
// state per device and publishes a prediction per reading (src/io/mqtt-runtime.ts).
// Settings: flags > EDGE_RNN_* env vars > JSON config file (src/io/run-config.ts).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createLogger } from '../../io/logger.js';
import { ModelFileError, readModelFile } from '../../io/model-file.js';
import { BrokerRefusedError, startRuntime } from '../../io/mqtt-runtime.js';
import { ConfigError, envName, flagName, resolveRunConfig, SETTINGS } from '../../io/run-config.js';
import { CliError } from '../errors.js';

function readPem(path: string | undefined, what: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CliError(`cannot read TLS ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function registerRun(program: Command): void {
  const cmd = program
    .command('run')
    .description('run the edge runtime: MQTT readings in, one prediction per reading out')
    .option('-c, --config <file>', `JSON config file with any of the settings below (env ${envName('config')})`);
  for (const s of SETTINGS) {
    const flag = `--${flagName(s.key)} <${s.kind === 'list' ? 'topics' : s.kind === 'duration' ? 'duration' : 'value'}>`;
    const dflt = s.default !== undefined ? `; default ${s.default}` : '';
    cmd.option(s.key === 'model' ? `-m, ${flag}` : flag, `${s.help} (env ${envName(s.key)}${dflt})`);
  }
  cmd.addHelpText('after', `
Precedence: flags, then environment variables, then the config file, then defaults.
Durations: 500ms, 30s, 10m, 2h, 7d (a bare number is seconds).
Topics: readings on the patterns above, predictions on --prediction-topic, invalid input
on --dead-letter-topic (with the reason and original topic), retained status on
--status-topic. SIGINT/SIGTERM: stop intake, finish in-flight steps, publish offline, exit 0.
See docs/runtime.md.`);
  cmd.action(async (opts: Record<string, unknown>) => {
    let config;
    try {
      config = resolveRunConfig({ flags: opts, env: process.env, configFile: opts.config as string | undefined });
    } catch (e) {
      if (e instanceof ConfigError) throw new CliError(e.message, 2);
      throw e;
    }
    let model;
    try {
      model = readModelFile(config.model).model;
    } catch (e) {
      if (e instanceof ModelFileError) throw new CliError(e.message);
      throw e;
    }
    const log = createLogger(config.logLevel, { instance: config.instance });
    const runtime = startRuntime(model, {
      broker: config.broker, instance: config.instance, clientId: config.clientId,
      topics: config.topics, predictionTopic: config.predictionTopic, deadLetterTopic: config.deadLetterTopic,
      statusTopic: config.statusTopic, mqttVersion: config.mqttVersion,
      sessionExpiryS: Math.round(config.sessionExpiry / 1000),
      username: config.username, password: config.password,
      ca: readPem(config.ca, 'CA'), cert: readPem(config.cert, 'certificate'), key: readPem(config.key, 'key'),
      maxBytes: config.maxBytes, maxDevices: config.maxDevices, resetAfterMs: config.resetAfter,
      healthIntervalMs: config.healthInterval, logger: log,
    });
    log.info({ model: { name: model.name, version: model.modelVersion, file: config.model }, topics: config.topics }, 'edge-rnn run starting');
    const onSignal = (signal: string) => {
      log.info({ signal }, 'shutting down');
      void runtime.stop();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await runtime.closed;
    } catch (e) {
      if (e instanceof BrokerRefusedError) throw new CliError(e.message);
      throw e;
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  });
}
