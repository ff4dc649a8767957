// The one configuration mechanism of every command: each setting is named once in a table
// (key, kind, help, default), and its value comes from, in this order of precedence, the
// command-line flag, the environment variable (EDGE_RNN_*), the JSON config file. The
// tables themselves live in run-config.ts.
import { readFileSync } from 'node:fs';
import { LOG_LEVELS, type LogLevel } from './logger.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type SettingKind = 'string' | 'url' | 'list' | 'int' | 'count' | 'number' | 'bool' | 'duration' | 'version' | 'level';

export interface SettingSpec<K extends string = string> {
  /** Key in the config file and in the resolved config; the flag is its kebab-case. */
  readonly key: K;
  readonly kind: SettingKind;
  readonly help: string;
  readonly default?: string;
  /** Flag name when it is not the key's kebab-case (push: --key is the signing key). */
  readonly flag?: string;
  /** Placeholder in --help, e.g. `<file>`; `[seconds]` makes the value optional. */
  readonly placeholder?: string;
}

/** `predictionTopic` -> `prediction-topic`. */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}
/** `predictionTopic` -> `EDGE_RNN_PREDICTION_TOPIC`. */
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

// mqtt.js takes a URL without one of these (e.g. `localhost:1883`) and then loops forever
// on a protocol error (issue 12), so it is a usage error here.
const BROKER_SCHEME = /^(mqtt|mqtts|ws|wss):\/\//i;

function integer(raw: unknown, min: number): number {
  const v = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
  return Number.isSafeInteger(v) && v >= min ? v : NaN;
}

function convert(spec: SettingSpec, raw: unknown, where: string): unknown {
  const fail = (why: string) => new ConfigError(`${where}: ${why}`);
  switch (spec.kind) {
    case 'string':
      if (typeof raw !== 'string' || raw === '') throw fail('expected a non-empty string');
      return raw;
    case 'url':
      if (typeof raw !== 'string' || raw === '') throw fail('expected a broker URL');
      if (!BROKER_SCHEME.test(raw)) throw fail(`"${raw}" has no accepted scheme: use mqtt://, mqtts://, ws:// or wss:// (e.g. mqtt://localhost:1883)`);
      return raw;
    case 'list': {
      const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
      if (!items || !items.every((t) => typeof t === 'string')) throw fail('expected a list');
      const list = (items as string[]).map((t) => t.trim()).filter((t) => t !== '');
      if (list.length === 0) throw fail('expected at least one entry');
      return list;
    }
    case 'count': {
      const v = integer(raw, 0);
      if (Number.isNaN(v)) throw fail(`expected a non-negative integer, got ${JSON.stringify(raw)}`);
      return v;
    }
    case 'int': {
      const v = integer(raw, 1);
      if (Number.isNaN(v)) throw fail(`expected a positive integer, got ${JSON.stringify(raw)}`);
      return v;
    }
    case 'number': {
      const v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!(Number.isFinite(v) && v > 0)) throw fail(`expected a positive number, got ${JSON.stringify(raw)}`);
      return v;
    }
    case 'bool': {
      if (raw === true || raw === false) return raw;
      const v = String(raw).trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw fail(`expected true or false, got ${JSON.stringify(raw)}`);
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

/** A JSON object whose keys are all known (to some command: one file may serve several). */
function readConfigFile(path: string, known: ReadonlySet<string>): Record<string, unknown> {
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
  for (const k of Object.keys(doc)) {
    if (!known.has(k)) throw new ConfigError(`config file ${path}: unknown setting "${k}" (known: ${[...known].join(', ')})`);
  }
  return doc as Record<string, unknown>;
}

/**
 * The settings of `specs` that are given somewhere, converted and checked: flags > env >
 * config file. Defaults are the caller's. `fileKeys`: every key a config file may hold.
 */
export function resolveSettings(specs: readonly SettingSpec[], sources: ConfigSources, fileKeys: ReadonlySet<string>): Record<string, unknown> {
  const configFile = sources.configFile ?? sources.env.EDGE_RNN_CONFIG;
  const file = configFile ? readConfigFile(configFile, fileKeys) : {};
  const out: Record<string, unknown> = {};
  for (const spec of specs) {
    const flag = sources.flags[spec.key];
    const env = sources.env[envName(spec.key)];
    if (flag !== undefined) out[spec.key] = convert(spec, flag, `--${spec.flag ?? flagName(spec.key)}`);
    else if (env !== undefined && env !== '') out[spec.key] = convert(spec, env, envName(spec.key));
    else if (file[spec.key] !== undefined) out[spec.key] = convert(spec, file[spec.key], `${configFile}: "${spec.key}"`);
  }
  return out;
}
