// Settings of `edge-rnn run` from three places, in this order of precedence: command-line
// flags, environment variables (EDGE_RNN_*), an optional JSON config file. One table
// below names every setting once, so --help, the env names and the file keys agree.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { LOG_LEVELS, type LogLevel } from './logger.js';

/** Defaults of the runtime's settings: the one place they live (flags, env, file and startRuntime read them). */
export const DEFAULTS = {
  topics: ['sensors/+/reading'],
  predictionTopic: 'predictions/{device}',
  deadLetterTopic: 'edge-rnn/{instance}/dead-letter',
  statusTopic: 'edge-rnn/{instance}/status',
  modelStatusTopic: 'edge-rnn/{instance}/model',
  modelTopic: 'models/{model}',
  probation: 100,
  mqttVersion: 5 as 4 | 5,
  sessionExpiryS: 7 * 24 * 3600,
  reconnectMinMs: 500,
  reconnectMaxMs: 30_000,
  keepaliveS: 30,
  healthIntervalMs: 60_000,
  /** Largest pushed-model message accepted, checked before any decoding. */
  maxModelBytes: 4 * 1024 * 1024,
} as const;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Kind = 'string' | 'list' | 'int' | 'count' | 'bool' | 'duration' | 'version' | 'level';

export interface SettingSpec {
  /** Key in the config file and in RunConfig; the flag is its kebab-case. */
  readonly key: keyof RunConfig;
  readonly kind: Kind;
  readonly help: string;
  readonly default?: string;
}

export const SETTINGS: readonly SettingSpec[] = [
  { key: 'model', kind: 'string', help: 'model file (.msgpack)' },
  { key: 'broker', kind: 'string', help: 'broker URL (mqtt://, mqtts://, ws://, wss://)', default: 'mqtt://127.0.0.1:1883' },
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
  { key: 'healthInterval', kind: 'duration', help: 'period of the health log line (0: off)', default: '60s' },
  { key: 'modelTopic', kind: 'string', help: 'topic of pushed (signed) models; {model} is the running model\'s name; "none": do not subscribe', default: DEFAULTS.modelTopic },
  { key: 'trust', kind: 'list', help: 'public key file (PEM, from edge-rnn keygen) a pushed model must be signed with; repeat the flag or comma-separate; without it every push is refused' },
  { key: 'allowDowngrade', kind: 'bool', help: 'accept pushed models whose version is not newer than the running one (development only: turns off anti-rollback)', default: 'false' },
  { key: 'probation', kind: 'count', help: 'readings a pushed model must predict (finite, no error) before it is kept; a failure before that rolls back (0: no probation)', default: String(DEFAULTS.probation) },
  { key: 'modelStore', kind: 'string', help: 'folder where accepted pushed models are kept across restarts ("none": memory only)', default: '<folder of --model>/pushed/<instance>' },
  { key: 'modelStatusTopic', kind: 'string', help: 'retained topic for model accepted/rejected/rolled-back/committed', default: DEFAULTS.modelStatusTopic },
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
  /** Milliseconds. */
  healthInterval: number;
  /** `{model}` not yet filled in; null: no model topic. */
  modelTopic: string | null;
  /** Public key files. */
  trust: string[];
  allowDowngrade: boolean;
  probation: number;
  /** null: accepted models are not kept on disk. */
  modelStore: string | null;
  modelStatusTopic: string;
  logLevel: LogLevel;
}

/** `predictionTopic` -> `--prediction-topic`, `EDGE_RNN_PREDICTION_TOPIC`. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}
export function envName(key: string): string {
  return 'EDGE_RNN_' + flagName(key).replace(/-/g, '_').toUpperCase();
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "500ms", "30s", "10m", "2h", "7d"; a bare number is seconds. Returns milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a duration (e.g. 500ms, 30s, 10m, 2h, 7d)`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 's']);
}

function convert(spec: SettingSpec, raw: unknown, where: string): unknown {
  const fail = (why: string) => new ConfigError(`${where}: ${why}`);
  switch (spec.kind) {
    case 'string':
      if (typeof raw !== 'string' || raw === '') throw fail('expected a non-empty string');
      return raw;
    case 'list': {
      const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
      if (!items || !items.every((t) => typeof t === 'string')) throw fail('expected a list');
      const list = (items as string[]).map((t) => t.trim()).filter((t) => t !== '');
      if (list.length === 0) throw fail('expected at least one entry');
      return list;
    }
    case 'count': {
      const v = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(v) || v < 0) throw fail(`expected a non-negative integer, got ${JSON.stringify(raw)}`);
      return v;
    }
    case 'bool': {
      if (raw === true || raw === false) return raw;
      const v = String(raw).trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw fail(`expected true or false, got ${JSON.stringify(raw)}`);
    }
    case 'int': {
      const v = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(v) || v < 1) throw fail(`expected a positive integer, got ${JSON.stringify(raw)}`);
      return v;
    }
    case 'duration':
      if (typeof raw === 'number' && raw >= 0) return Math.round(raw * 1000);
      try {
        return parseDuration(String(raw));
      } catch (e) {
        throw fail((e as Error).message);
      }
    case 'version': {
      const v = String(raw).trim();
      if (v === '5') return 5;
      if (v === '4' || v === '3.1.1') return 4;
      throw fail(`expected 5 or 4, got ${JSON.stringify(raw)}`);
    }
    case 'level':
      if (!LOG_LEVELS.includes(raw as LogLevel)) throw fail(`expected one of ${LOG_LEVELS.join(', ')}`);
      return raw;
  }
}

export interface ConfigSources {
  /** Parsed flags keyed by setting key (undefined: not given). */
  readonly flags: Partial<Record<string, unknown>>;
  readonly env: NodeJS.ProcessEnv;
  /** Config file path (flag --config or EDGE_RNN_CONFIG). */
  readonly configFile?: string;
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError(`config file ${path}: expected a JSON object`);
  const known = new Set(SETTINGS.map((s) => s.key as string));
  for (const k of Object.keys(doc)) {
    if (!known.has(k)) throw new ConfigError(`config file ${path}: unknown setting "${k}" (known: ${[...known].join(', ')})`);
  }
  return doc as Record<string, unknown>;
}

/** Merges flags > env > config file > defaults into a checked RunConfig. */
export function resolveRunConfig(sources: ConfigSources): RunConfig {
  const configFile = sources.configFile ?? sources.env.EDGE_RNN_CONFIG;
  const file = configFile ? readConfigFile(configFile) : {};
  const out: Record<string, unknown> = {};
  for (const spec of SETTINGS) {
    const flag = sources.flags[spec.key];
    const env = sources.env[envName(spec.key)];
    if (flag !== undefined) out[spec.key] = convert(spec, flag, `--${flagName(spec.key)}`);
    else if (env !== undefined && env !== '') out[spec.key] = convert(spec, env, envName(spec.key));
    else if (file[spec.key] !== undefined) out[spec.key] = convert(spec, file[spec.key], `${configFile}: "${spec.key}"`);
  }
  if (out.model === undefined) throw new ConfigError(`no model: give --model, ${envName('model')} or "model" in a config file`);
  const instance = (out.instance as string | undefined) ?? hostname();
  const none = (v: unknown) => v === 'none';
  const modelTopic = out.modelTopic === undefined ? DEFAULTS.modelTopic : none(out.modelTopic) ? null : (out.modelTopic as string);
  if (typeof modelTopic === 'string' && /[+#]/.test(modelTopic)) throw new ConfigError(`model topic "${modelTopic}": a plain topic is needed, without + or #`);
  const modelStore = out.modelStore === undefined ? join(dirname(out.model as string), 'pushed', instance) : none(out.modelStore) ? null : (out.modelStore as string);
  return {
    broker: 'mqtt://127.0.0.1:1883',
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
    healthInterval: 60_000,
    logLevel: 'info',
    trust: [],
    allowDowngrade: false,
    probation: DEFAULTS.probation,
    modelStatusTopic: DEFAULTS.modelStatusTopic,
    ...out,
    modelTopic,
    modelStore,
    instance,
  } as unknown as RunConfig;
}
