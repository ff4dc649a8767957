// The observability settings of `edge-rnn run` (flags, EDGE_RNN_* env vars, config file
// keys, as every run setting: src/io/settings.ts), in a table of their own.
import { ConfigError, resolveSettings, type ConfigSources, type SettingSpec } from '../settings.js';
import { DEFAULT_HA_PREFIX } from './ha-discovery.js';
import { DEFAULT_HTTP_PORT, ListenAddressError, parseListenAddress, type ListenAddress } from './listen-address.js';

export const DEFAULT_METRICS_TOPIC = 'edge-rnn/{instance}/metrics';

export const OBSERVE_SETTINGS: readonly SettingSpec[] = [
  { key: 'http', kind: 'string', placeholder: '<host:port>', help: `serve /metrics (Prometheus text), /healthz, /readyz and the live status page on this address, e.g. 127.0.0.1:${DEFAULT_HTTP_PORT} ("none": no listener)`, default: 'none' },
  { key: 'metricsTopic', kind: 'string', help: 'retained topic for the same numbers as /metrics, as JSON, every --metrics-interval', default: DEFAULT_METRICS_TOPIC },
  { key: 'metricsInterval', kind: 'duration', help: 'period of the retained metrics on --metrics-topic (0: not published)', default: '0' },
  { key: 'haDiscovery', kind: 'string', placeholder: '[prefix]', help: `announce a Home Assistant sensor per device output (MQTT discovery) under this prefix (--ha-discovery alone: ${DEFAULT_HA_PREFIX}; "none": off)`, default: 'none' },
];

export interface ObserveConfig {
  readonly http: ListenAddress | null;
  /** `{instance}` not yet filled. */
  readonly metricsTopic: string;
  /** Milliseconds; 0: off. */
  readonly metricsInterval: number;
  /** Discovery prefix; null: off. */
  readonly haDiscovery: string | null;
}

export function resolveObserveConfig(sources: ConfigSources, fileKeys: ReadonlySet<string>): ObserveConfig {
  // `--ha-discovery` without a value (commander: true) means the default prefix.
  const flags = sources.flags.haDiscovery === true ? { ...sources.flags, haDiscovery: DEFAULT_HA_PREFIX } : sources.flags;
  const out = resolveSettings(OBSERVE_SETTINGS, { ...sources, flags }, fileKeys);
  let http: ListenAddress | null = null;
  if (out.http !== undefined && out.http !== 'none') {
    try {
      http = parseListenAddress(out.http as string);
    } catch (e) {
      if (e instanceof ListenAddressError) throw new ConfigError(`--http: ${e.message}`);
      throw e;
    }
  }
  const ha = out.haDiscovery as string | undefined;
  if (ha !== undefined && ha !== 'none' && !/^[^#+\s]+$/.test(ha)) throw new ConfigError(`--ha-discovery: "${ha}" is not a plain topic prefix (no +, # or spaces)`);
  const metricsTopic = (out.metricsTopic as string | undefined) ?? DEFAULT_METRICS_TOPIC;
  if (/[+#]/.test(metricsTopic)) throw new ConfigError(`--metrics-topic: "${metricsTopic}" must be a plain topic, without + or #`);
  return {
    http,
    metricsTopic,
    metricsInterval: (out.metricsInterval as number | undefined) ?? 0,
    haDiscovery: ha === undefined || ha === 'none' ? null : ha === 'true' ? DEFAULT_HA_PREFIX : ha,
  };
}
