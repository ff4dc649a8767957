// `edge-rnn run`: the edge runtime. Subscribes to sensor readings, keeps one recurrent
// state per device and publishes a prediction per reading (src/io/mqtt-runtime.ts).
// Settings: flags > EDGE_RNN_* env vars > JSON config file (src/io/run-config.ts).
// Pushed models: verified against --trust keys, swapped in by the stream, kept in
// --model-store (src/io/model-store.ts) so a restart serves the last accepted one.
import { createHash, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import type { Command } from 'commander';
import { KeyError, keyId, readPublicKey } from '../../io/keys.js';
import { createLogger } from '../../io/logger.js';
import { ModelFileError, readModelFile } from '../../io/model-file.js';
import { chooseStartModel, ModelStore } from '../../io/model-store.js';
import { readTlsFiles, TlsFileError } from '../../io/mqtt-connect.js';
import { BrokerRefusedError, startRuntime } from '../../io/mqtt-runtime.js';
import { anomalyProblem } from '../../runtime/anomaly.js';
import { ConfigError, envName, FILE_KEYS, resolveRunConfig, SETTINGS } from '../../io/run-config.js';
import { observerFor } from '../../io/observe/observe-run.js';
import { OBSERVE_SETTINGS, resolveObserveConfig } from '../../io/observe/observe-config.js';
import { ListenError } from '../../io/observe/http-listener.js';
import type { ClusterPlugin } from '../cluster-mode.js';
import { CliError } from '../errors.js';
import { runUntilSignal } from '../run-until-signal.js';
import { addSettingOptions, settingFlags } from '../setting-options.js';

/** Trusted public keys by key id. */
export function readTrustedKeys(paths: readonly string[]): Map<string, KeyObject> {
  const trusted = new Map<string, KeyObject>();
  for (const p of paths) {
    try {
      const key = readPublicKey(p);
      trusted.set(keyId(key), key);
    } catch (e) {
      if (e instanceof KeyError) throw new CliError(`--trust: ${e.message}`);
      throw e;
    }
  }
  return trusted;
}

/** `run` as the device bundle has it: no cluster mode (the NATS client stays out of it). */
export const registerRun = (program: Command): void => registerRunWith()(program);

/** `run`, with `--cluster` when the full CLI hands in the cluster mode (src/cli/cluster-mode.ts). */
export const registerRunWith = (cluster?: ClusterPlugin) => (program: Command): void => {
  const cmd = program
    .command('run')
    .description('run the edge runtime: MQTT readings in, one prediction per reading out')
    .option('-c, --config <file>', `JSON config file with any of the settings below (env ${envName('config')})`);
  // `trust` takes files: show <file>; the rest as the table says.
  addSettingOptions(cmd, SETTINGS.map((spec) => (spec.key === 'trust' ? { ...spec, placeholder: 'file' } : spec)), { model: 'm' });
  addSettingOptions(cmd, OBSERVE_SETTINGS); // docs/observability.md
  cluster?.addOptions(cmd);
  cmd.addHelpText('after', `
Precedence: flags, then environment variables, then the config file, then defaults.
Durations: 500ms, 30s, 10m, 2h, 7d (a bare number is seconds).
Topics: readings on the patterns above, predictions on --prediction-topic, invalid input
on --dead-letter-topic (with the reason and original topic), retained status on
--status-topic. SIGINT/SIGTERM: stop intake, finish in-flight steps, publish offline, exit 0.
Pushed models (edge-rnn push) on --model-topic are swapped in between two readings after
their signature (--trust), hash, inputs and version check out; accept/reject/rollback is
published retained on --model-status-topic. See docs/runtime.md.`);
  cmd.action(async (opts: Record<string, unknown>) => {
    let config, observe;
    try {
      config = resolveRunConfig({ flags: settingFlags(opts, SETTINGS), env: process.env, configFile: opts.config as string | undefined });
      observe = resolveObserveConfig({ flags: settingFlags(opts, OBSERVE_SETTINGS), env: process.env, configFile: opts.config as string | undefined }, FILE_KEYS);
    } catch (e) {
      if (e instanceof ConfigError) throw new CliError(e.message, 2);
      throw e;
    }
    let file;
    try {
      file = readModelFile(config.model);
    } catch (e) {
      if (e instanceof ModelFileError) throw new CliError(e.message);
      throw e;
    }
    let tls;
    try {
      tls = readTlsFiles(config);
    } catch (e) {
      if (e instanceof TlsFileError) throw new CliError(e.message);
      throw e;
    }
    const trusted = readTrustedKeys(config.trust);
    const log = createLogger(config.logLevel, { instance: config.instance });
    // --cluster: the same runtime, its client seam served by the NATS cluster (src/cli/cluster-mode.ts).
    const clustered = cluster?.mode(opts, config.instance, log) ?? null;
    // The lifecycle (what committed, the anti-rollback floor) is kept even without an
    // envelope store: then in the state folder.
    const store = config.modelStore !== null ? new ModelStore(config.modelStore)
      : config.stateDir !== null ? new ModelStore(null, join(config.stateDir, 'lifecycle.json')) : undefined;
    if (!store) log.warn('--model-store none and --state-dir none: the anti-rollback floor lives in memory only; after a restart an older signed model would be accepted');
    // A damaged store never stops the start: chooseStartModel logs and falls back.
    const start = chooseStartModel({ model: file.model, sha256: createHash('sha256').update(file.bytes).digest('hex') }, store, trusted, log);
    const model = start.model;
    const noScale = config.anomaly ? anomalyProblem(model) : null;
    if (noScale) throw new CliError(`--anomaly: ${noScale}`);
    const modelTopic = config.modelTopic === null ? undefined : config.modelTopic.replace(/\{model\}/g, file.model.name);
    log.info({
      model: { name: model.name, version: model.modelVersion, from: start.path ?? config.model },
      topics: config.topics, modelTopic, trustedKeys: [...trusted.keys()], modelStore: config.modelStore, stateDir: config.stateDir,
    }, 'edge-rnn run starting');
    const observer = observerFor(model, observe, config, log);
    const runtime = startRuntime(model, {
      ...observer?.taps,
      ...clustered?.runtimeOptions,
      broker: clustered ? String(opts.cluster) : config.broker, instance: config.instance, clientId: config.clientId,
      topics: config.topics, predictionTopic: config.predictionTopic, deadLetterTopic: config.deadLetterTopic,
      statusTopic: config.statusTopic, mqttVersion: config.mqttVersion,
      sessionExpiryS: Math.round(config.sessionExpiry / 1000),
      username: config.username, password: config.password, ...tls,
      maxBytes: config.maxBytes, modelMaxBytes: config.modelMaxBytes, maxDevices: config.maxDevices, resetAfterMs: config.resetAfter,
      seqWindow: config.seqWindow, maxSeqJump: config.maxSeqJump, guardZ: config.guardZ, guardPolicy: config.guard, maxDeviceIdBytes: config.maxDeviceIdBytes,
      ...(config.anomaly ? { anomaly: { threshold: config.anomalyThreshold } } : {}),
      ...(config.stateDir !== null && !clustered ? { stateDir: config.stateDir } : {}), checkpointIntervalMs: config.checkpointInterval,
      healthIntervalMs: config.healthInterval, logger: log,
      modelTopic, trusted, allowDowngrade: config.allowDowngrade, probation: { minReadings: config.probation, minDevices: config.probationDevices, minStepsPerDevice: config.probationSteps, zLimit: config.probationZLimit },
      keepStatesOnSameShape: config.keepStatesOnSameShape,
      modelStore: store, modelSha256: start.sha256, modelStatusTopic: config.modelStatusTopic,
    });
    clustered?.bind(runtime);
    try {
      await observer?.start(runtime);
    } catch (e) {
      await runtime.stop();
      if (e instanceof ListenError) throw new CliError(`--http: ${e.message}`);
      throw e;
    }
    if (config.allowDowngrade) log.warn('--allow-downgrade: anti-rollback is off; pushed models of any version are accepted (development only)');
    try {
      await runUntilSignal((signal) => {
        signal.addEventListener('abort', () => {
          log.info('shutting down (signal)');
          void (observer?.stop() ?? Promise.resolve()).then(() => runtime.stop());
        });
        return runtime.closed;
      });
    } catch (e) {
      if (e instanceof BrokerRefusedError) throw new CliError(e.message);
      throw e;
    }
  });
};
