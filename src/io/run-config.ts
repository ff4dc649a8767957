// Settings of `edge-rnn run` and `edge-rnn push` from three places, in this order of
// precedence: command-line flags, environment variables (EDGE_RNN_*), an optional JSON
// config file (src/io/settings.ts). One table per command names every setting once, so
// --help, the env names and the file keys agree; a setting both commands share (broker,
// credentials, TLS files, model size cap) has one key, one env var and one file key.
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { DEFAULT_GUARD_Z, GUARD_POLICIES, type GuardPolicy } from '../stream/input-guard.js';
import { DEFAULT_MAX_DEVICE_ID_BYTES } from '../stream/parse-readings.js';
import { DEFAULT_PROBATION } from '../stream/probation.js';
import { DEFAULT_MAX_SEQ_JUMP, DEFAULT_SEQ_WINDOW, MAX_SEQ_WINDOW } from '../stream/sequence.js';
import { LOG_LEVELS, type LogLevel } from './logger.js';
import { DEFAULT_ENVELOPE_MAX_BYTES } from './model-envelope.js';
import { OBSERVE_SETTINGS } from './observe/observe-config.js';
import { ConfigError, envName, resolveSettings, type ConfigSources, type SettingSpec } from './settings.js';

/** Defaults of the runtime's settings: the one place they live (flags, env, file and startRuntime read them). */
export const DEFAULTS = {
  topics: ['sensors/+/reading'],
  predictionTopic: 'predictions/{device}',
  deadLetterTopic: 'edge-rnn/{instance}/dead-letter',
  statusTopic: 'edge-rnn/{instance}/status',
  modelStatusTopic: 'edge-rnn/{instance}/model',
  modelTopic: 'models/{model}',
  mqttVersion: 5 as 4 | 5,
  sessionExpiryS: 7 * 24 * 3600,
  reconnectMinMs: 500,
  reconnectMaxMs: 30_000,
  keepaliveS: 30,
  healthIntervalMs: 60_000,
  checkpointIntervalMs: 10_000,
} as const;

export { ConfigError, envName, flagName, parseDuration, type ConfigSources, type SettingSpec } from './settings.js';

const DEFAULT_BROKER = 'mqtt://127.0.0.1:1883';
/** Where every runtime publishes its retained model status: {instance} as +. */
const DEFAULT_PUSH_STATUS_TOPIC = DEFAULTS.modelStatusTopic.replace('{instance}', '+');

export const SETTINGS: readonly SettingSpec<keyof RunConfig>[] = [
  { key: 'model', kind: 'string', help: 'model file (.msgpack)' },
  { key: 'broker', kind: 'url', help: 'broker URL (mqtt://, mqtts://, ws://, wss://)', default: DEFAULT_BROKER },
  { key: 'topics', kind: 'list', help: 'reading topic patterns, comma-separated; the device id is the level the first + matches', default: DEFAULTS.topics.join(',') },
  { key: 'predictionTopic', kind: 'string', help: 'prediction topic template ({device}, {instance})', default: DEFAULTS.predictionTopic },
  { key: 'deadLetterTopic', kind: 'string', help: 'dead-letter topic template', default: DEFAULTS.deadLetterTopic },
  { key: 'statusTopic', kind: 'string', help: 'retained status topic template (last will: offline)', default: DEFAULTS.statusTopic },
  { key: 'instance', kind: 'string', help: 'instance name used in topics', default: 'the host name' },
  { key: 'clientId', kind: 'string', help: 'MQTT client id; keep it fixed so the broker keeps the session', default: 'edge-rnn-<instance>' },
  { key: 'mqttVersion', kind: 'version', help: 'MQTT protocol version, 5 or 4 (3.1.1)', default: String(DEFAULTS.mqttVersion) },
  { key: 'sessionExpiry', kind: 'duration', help: 'MQTT 5: how long the broker keeps the session while the runtime is down', default: '7d' },
  { key: 'username', kind: 'string', help: 'broker user name' },
  { key: 'password', kind: 'string', help: 'broker password (prefer the env var or config file over the flag)' },
  { key: 'ca', kind: 'string', help: 'TLS: CA certificate file (PEM)' },
  { key: 'cert', kind: 'string', help: 'TLS: client certificate file (PEM)' },
  { key: 'key', kind: 'string', help: 'TLS: client key file (PEM)' },
  { key: 'maxDevices', kind: 'int', help: 'most device states kept; the least recently seen is evicted beyond it', default: '10000' },
  { key: 'resetAfter', kind: 'duration', help: "a gap longer than this resets a device's state (0: never)", default: '10m' },
  { key: 'maxBytes', kind: 'int', help: 'readings larger than this many bytes are dead letters', default: '4096' },
  { key: 'maxDeviceIdBytes', kind: 'int', help: 'a device id longer than this many bytes (UTF-8) is a dead letter, before any state is kept for it', default: String(DEFAULT_MAX_DEVICE_ID_BYTES) },
  { key: 'seqWindow', kind: 'int', help: `recent seqs remembered per device: a seq seen within it is a duplicate, an unseen one a late reading (1..${MAX_SEQ_WINDOW})`, default: String(DEFAULT_SEQ_WINDOW) },
  { key: 'maxSeqJump', kind: 'int', help: 'a seq further ahead than this is not trusted unless the next reading follows it (a spoofed or corrupt seq costs one dead letter)', default: String(DEFAULT_MAX_SEQ_JUMP) },
  { key: 'guard', kind: 'string', help: `readings beyond --guard-z std of the training inputs: ${GUARD_POLICIES.join(' | ')} (reject: dead letter out-of-range, state untouched; clamp: clamp to the range)`, default: 'reject' },
  { key: 'guardZ', kind: 'number', help: 'input guard limit in standard deviations of the training inputs (narrowed by the training min/max when the model has them)', default: String(DEFAULT_GUARD_Z) },
  { key: 'anomaly', kind: 'bool', help: "add anomaly: {score, flag} to every prediction: the reading against the forecast made for it horizon readings earlier, in units of the model's validation RMSE (needs a model with outputs.anomaly, written by edge-rnn train)", default: 'false' },
  { key: 'anomalyThreshold', kind: 'number', help: "flag a reading when its anomaly score exceeds this (implies --anomaly)", default: "the model's outputs.anomaly.threshold" },
  { key: 'healthInterval', kind: 'duration', help: 'period of the health log line (0: off)', default: '60s' },
  { key: 'modelTopic', kind: 'string', help: 'topic of pushed (signed) models; {model} is the running model\'s name; "none": do not subscribe', default: DEFAULTS.modelTopic },
  { key: 'trust', kind: 'list', help: 'public key file (PEM, from edge-rnn keygen) a pushed model must be signed with; repeat the flag or comma-separate; without it every push is refused' },
  { key: 'allowDowngrade', kind: 'bool', help: 'accept pushed models whose version is not newer than the running one (development only: turns off anti-rollback)', default: 'false' },
  { key: 'probation', kind: 'count', help: 'clean readings (any device) a pushed model must predict before it is committed; a failure before that rolls back (0: no probation)', default: String(DEFAULT_PROBATION.minReadings) },
  { key: 'probationDevices', kind: 'count', help: 'devices that must each see the pushed model for --probation-steps clean steps before it commits (a smaller fleet: every device seen)', default: String(DEFAULT_PROBATION.minDevices) },
  { key: 'probationSteps', kind: 'count', help: 'clean steps per device during probation', default: String(DEFAULT_PROBATION.minStepsPerDevice) },
  { key: 'probationZLimit', kind: 'number', help: 'a probation output further than this many std from the training targets is implausible and rolls the model back', default: String(DEFAULT_PROBATION.zLimit) },
  { key: 'keepStatesOnSameShape', kind: 'bool', help: 'keep device states over a swap whenever the recurrent shapes match (default: only when the pushed model declares meta.continuesFrom the running one)', default: 'false' },
  { key: 'stateDir', kind: 'string', help: 'folder for device state checkpoints and, with --model-store none, the model lifecycle file ("none": states in memory only)', default: '<folder of --model>/state/<instance>' },
  { key: 'checkpointInterval', kind: 'duration', help: 'period of device state checkpoints (also written at a clean stop; 0: only then)', default: '10s' },
  { key: 'modelStore', kind: 'string', help: 'folder where accepted pushed models are kept across restarts ("none": memory only)', default: '<folder of --model>/pushed/<instance>' },
  { key: 'modelStatusTopic', kind: 'string', help: 'retained topic for model accepted/rejected/rolled-back/committed', default: DEFAULTS.modelStatusTopic },
  { key: 'modelMaxBytes', kind: 'int', help: 'pushed model envelopes larger than this many bytes are refused before decoding', default: String(DEFAULT_ENVELOPE_MAX_BYTES) },
  { key: 'logLevel', kind: 'level', help: `log level (${LOG_LEVELS.join(', ')})`, default: 'info' },
];

export interface RunConfig {
  model: string;
  broker: string;
  topics: string[];
  predictionTopic: string;
  deadLetterTopic: string;
  statusTopic: string;
  instance: string;
  clientId: string;
  mqttVersion: 4 | 5;
  /** Milliseconds. */
  sessionExpiry: number;
  username?: string;
  password?: string;
  ca?: string;
  cert?: string;
  key?: string;
  maxDevices: number;
  /** Milliseconds. */
  resetAfter: number;
  maxBytes: number;
  maxDeviceIdBytes: number;
  seqWindow: number;
  maxSeqJump: number;
  guard: GuardPolicy;
  guardZ: number;
  /** Score every prediction's reading against its forecast (--anomaly, or implied by --anomaly-threshold). */
  anomaly: boolean;
  /** Overrides the model's threshold; absent: the model's. */
  anomalyThreshold?: number;
  /** Milliseconds. */
  healthInterval: number;
  /** `{model}` not yet filled in; null: no model topic. */
  modelTopic: string | null;
  /** Public key files. */
  trust: string[];
  allowDowngrade: boolean;
  probation: number;
  probationDevices: number;
  probationSteps: number;
  probationZLimit: number;
  keepStatesOnSameShape: boolean;
  /** null: no checkpoints. */
  stateDir: string | null;
  /** Milliseconds. */
  checkpointInterval: number;
  /** null: accepted models are not kept on disk. */
  modelStore: string | null;
  modelStatusTopic: string;
  /** Bytes: the cap on a pushed envelope, checked before decoding. */
  modelMaxBytes: number;
  logLevel: LogLevel;
}

/** Merges flags > env > config file > defaults into a checked RunConfig. */
export function resolveRunConfig(sources: ConfigSources): RunConfig {
  const out = resolveSettings(SETTINGS, sources, FILE_KEYS);
  if (out.model === undefined) throw new ConfigError(`no model: give --model, ${envName('model')} or "model" in a config file`);
  const instance = (out.instance as string | undefined) ?? hostname();
  const none = (v: unknown) => v === 'none';
  const modelTopic = out.modelTopic === undefined ? DEFAULTS.modelTopic : none(out.modelTopic) ? null : (out.modelTopic as string);
  if (typeof modelTopic === 'string' && /[+#]/.test(modelTopic)) throw new ConfigError(`model topic "${modelTopic}": a plain topic is needed, without + or #`);
  const modelStore = out.modelStore === undefined ? join(dirname(out.model as string), 'pushed', instance) : none(out.modelStore) ? null : (out.modelStore as string);
  if (out.guard !== undefined && !GUARD_POLICIES.includes(out.guard as GuardPolicy)) throw new ConfigError(`--guard: expected one of ${GUARD_POLICIES.join(', ')}, got "${String(out.guard)}"`);
  if (out.seqWindow !== undefined && (out.seqWindow as number) > MAX_SEQ_WINDOW) throw new ConfigError(`--seq-window: at most ${MAX_SEQ_WINDOW}, got ${String(out.seqWindow)}`);
  const stateDir = out.stateDir === undefined ? join(dirname(out.model as string), 'state', instance) : none(out.stateDir) ? null : (out.stateDir as string);
  return {
    broker: DEFAULT_BROKER,
    topics: [...DEFAULTS.topics],
    predictionTopic: DEFAULTS.predictionTopic,
    deadLetterTopic: DEFAULTS.deadLetterTopic,
    statusTopic: DEFAULTS.statusTopic,
    clientId: `edge-rnn-${instance}`,
    mqttVersion: DEFAULTS.mqttVersion,
    sessionExpiry: DEFAULTS.sessionExpiryS * 1000,
    maxDevices: 10_000,
    resetAfter: 10 * 60_000,
    maxBytes: 4096,
    maxDeviceIdBytes: DEFAULT_MAX_DEVICE_ID_BYTES,
    seqWindow: DEFAULT_SEQ_WINDOW,
    maxSeqJump: DEFAULT_MAX_SEQ_JUMP,
    guard: 'reject',
    guardZ: DEFAULT_GUARD_Z,
    healthInterval: 60_000,
    logLevel: 'info',
    trust: [],
    allowDowngrade: false,
    probation: DEFAULT_PROBATION.minReadings,
    probationDevices: DEFAULT_PROBATION.minDevices,
    probationSteps: DEFAULT_PROBATION.minStepsPerDevice,
    probationZLimit: DEFAULT_PROBATION.zLimit,
    keepStatesOnSameShape: false,
    checkpointInterval: DEFAULTS.checkpointIntervalMs,
    modelStatusTopic: DEFAULTS.modelStatusTopic,
    modelMaxBytes: DEFAULT_ENVELOPE_MAX_BYTES,
    ...out,
    anomaly: out.anomaly === true || out.anomalyThreshold !== undefined,
    modelTopic,
    modelStore,
    stateDir,
    instance,
  } as unknown as RunConfig;
}

/** Settings of `edge-rnn push`; broker, credentials, TLS files and modelMaxBytes are run's keys. */
export const PUSH_SETTINGS: readonly SettingSpec<keyof PushConfig>[] = [
  { key: 'model', kind: 'string', placeholder: '<file>', help: 'model file (.msgpack) to sign and push; refused if it does not decode' },
  { key: 'signingKey', kind: 'string', flag: 'key', placeholder: '<file>', help: 'ed25519 private key (PEM, from edge-rnn keygen); stays on this machine' },
  { key: 'broker', kind: 'url', placeholder: '<url>', help: 'broker URL (mqtt://, mqtts://, ws://, wss://)', default: DEFAULT_BROKER },
  { key: 'name', kind: 'string', help: "publish on models/<name>", default: "the model's own name" },
  { key: 'topic', kind: 'string', help: 'publish on this topic instead of models/<name>' },
  { key: 'mqttVersion', kind: 'version', help: "MQTT protocol version, 5 or 4 (3.1.1); only 5 announces the broker's maximum packet size", default: '5' },
  { key: 'username', kind: 'string', help: 'broker user name' },
  { key: 'password', kind: 'string', help: 'broker password (prefer the env var or config file over the flag)' },
  { key: 'ca', kind: 'string', placeholder: '<file>', help: 'TLS: CA certificate file (PEM)' },
  { key: 'cert', kind: 'string', placeholder: '<file>', help: 'TLS: client certificate file (PEM)' },
  { key: 'key', kind: 'string', flag: 'tls-key', placeholder: '<file>', help: 'TLS: client key file (PEM) (--key is the signing key here)' },
  { key: 'modelMaxBytes', kind: 'int', placeholder: '<bytes>', help: 'refuse to push an envelope larger than this; devices refuse it anyway (their --model-max-bytes)', default: String(DEFAULT_ENVELOPE_MAX_BYTES) },
  { key: 'wait', kind: 'duration', placeholder: '[seconds]', help: "wait this long for every instance's verdict on the push (--wait alone: 10s)" },
  { key: 'statusTopics', kind: 'list', help: 'model status topics --wait listens on; the level + matches is the instance', default: DEFAULT_PUSH_STATUS_TOPIC },
];

export interface PushConfig {
  /** Absent only with --clear (then --name or --topic says what to clear). */
  model?: string;
  signingKey?: string;
  broker: string;
  name?: string;
  topic?: string;
  mqttVersion: 4 | 5;
  username?: string;
  password?: string;
  ca?: string;
  cert?: string;
  key?: string;
  modelMaxBytes: number;
  /** Milliseconds to wait for verdicts; null: do not wait. */
  wait: number | null;
  statusTopics: string[];
}

export const DEFAULT_PUSH_WAIT_MS = 10_000;

/** Merges flags > env > config file > defaults into a checked PushConfig. */
export function resolvePushConfig(sources: ConfigSources, mode: { readonly clear?: boolean } = {}): PushConfig {
  // `--wait` without a value (commander: true) means the default wait.
  const flags = sources.flags.wait === true ? { ...sources.flags, wait: `${DEFAULT_PUSH_WAIT_MS}ms` } : sources.flags;
  const out = resolveSettings(PUSH_SETTINGS, { ...sources, flags }, FILE_KEYS);
  if (!mode.clear) {
    if (out.model === undefined) throw new ConfigError(`no model: give --model, ${envName('model')} or "model" in a config file`);
    if (out.signingKey === undefined) throw new ConfigError(`no signing key: give --key, ${envName('signingKey')} or "signingKey" in a config file`);
  } else if (out.model === undefined && out.name === undefined && out.topic === undefined) {
    throw new ConfigError('--clear needs --name, --topic or --model to know which retained push to clear');
  }
  return {
    broker: DEFAULT_BROKER,
    mqttVersion: 5,
    modelMaxBytes: DEFAULT_ENVELOPE_MAX_BYTES,
    statusTopics: [DEFAULT_PUSH_STATUS_TOPIC],
    ...out,
    wait: (out.wait as number | undefined) ?? null,
  } as unknown as PushConfig;
}

// One config file may serve run and push: each takes its own keys and refuses only keys
// no command knows (a typo).
export const FILE_KEYS: ReadonlySet<string> = new Set([...SETTINGS, ...PUSH_SETTINGS, ...OBSERVE_SETTINGS].map((s) => s.key as string));

/** `edge-rnn status`: run's connection and status-topic settings, read the same way (one env file serves both). */
export const STATUS_SETTINGS: readonly SettingSpec<keyof RunConfig>[] = SETTINGS.filter((s) =>
  ['broker', 'statusTopic', 'instance', 'mqttVersion', 'username', 'password', 'ca', 'cert', 'key'].includes(s.key));

export type StatusConfig = Pick<RunConfig, 'broker' | 'statusTopic' | 'instance' | 'mqttVersion' | 'username' | 'password' | 'ca' | 'cert' | 'key'>;

/** Merges flags > env > config file > defaults into the settings `edge-rnn status` needs. */
export function resolveStatusConfig(sources: ConfigSources): StatusConfig {
  const out = resolveSettings(STATUS_SETTINGS, sources, FILE_KEYS);
  return {
    broker: DEFAULT_BROKER, statusTopic: DEFAULTS.statusTopic, mqttVersion: DEFAULTS.mqttVersion,
    ...out,
    instance: (out.instance as string | undefined) ?? hostname(),
  } as StatusConfig;
}
