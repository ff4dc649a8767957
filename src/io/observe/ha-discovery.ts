// Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery):
// for each device a sensor per model output (and, for a classifier, one for the label),
// announced retained on `<prefix>/sensor/<node_id>/<object_id>/config`. The state topic
// is the device's prediction topic, read with a value_template; availability follows the
// runtime's retained status ({"state": "online" | "offline"}). An empty retained config
// removes a sensor (a device evicted; an output a new model no longer has).
import { createHash } from 'node:crypto';
import type { Model } from '../../model/types.js';
import { outputKeys } from '../../protocol/prediction.js';

export const DEFAULT_HA_PREFIX = 'homeassistant';

export interface HaDiscoveryOptions {
  /** Discovery prefix (Home Assistant's default: homeassistant). */
  readonly prefix: string;
  readonly instance: string;
  /** The device's prediction topic. */
  readonly predictionTopic: (device: string) => string;
  /** The runtime's retained status topic. */
  readonly statusTopic: string;
}

export interface SensorConfig {
  readonly topic: string;
  readonly config: Record<string, unknown>;
}

/** node_id and object_id may hold only [a-zA-Z0-9_-]; a changed id gets a hash so two devices never collide. */
export function discoveryId(text: string): string {
  const clean = text.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 48);
  return clean === text ? clean : `${clean}_${createHash('sha256').update(text).digest('hex').slice(0, 8)}`;
}

/** The discovery configs of one device's sensors under `model`. */
export function sensorConfigs(model: Model, device: string, o: HaDiscoveryOptions): SensorConfig[] {
  const node = discoveryId(o.instance);
  const dev = discoveryId(device);
  const base = {
    state_topic: o.predictionTopic(device),
    availability: [{ topic: o.statusTopic, value_template: '{{ value_json.state }}', payload_available: 'online', payload_not_available: 'offline' }],
    device: { identifiers: [`edge_rnn_${node}_${dev}`], name: device, model: `${model.name} v${model.modelVersion}`, manufacturer: 'edge-rnn' },
    origin: { name: 'edge-rnn' },
  };
  const sensor = (object: string, name: string, valueTemplate: string, numeric: boolean): SensorConfig => ({
    topic: `${o.prefix}/sensor/${node}/${dev}_${object}/config`,
    config: { name, unique_id: `edge_rnn_${node}_${dev}_${object}`, value_template: valueTemplate, ...(numeric ? { state_class: 'measurement' } : {}), ...base },
  });
  const labels = model.outputs.labels;
  // Jinja string literal: a JSON string is one (double quotes, backslash escapes).
  const out = outputKeys(model).map((k) => sensor(discoveryId(k), labels ? `p(${k})` : `${k} forecast`, `{{ value_json.y[${JSON.stringify(k)}] }}`, true));
  return labels ? [...out, sensor('label', 'label', '{{ value_json.label }}', false)] : out;
}

/**
 * Announces each device once, on its first prediction; again when a prediction comes from
 * a model with other outputs (a swap); removes the sensors of an evicted device. One map
 * entry per device with a state, so it is bounded like the device table.
 */
export class HaAnnouncer {
  private readonly announced = new Map<string, { model: Model; topics: readonly string[] }>();
  announcements = 0;
  removals = 0;

  constructor(
    private readonly publish: (topic: string, payload: string) => void,
    private readonly o: HaDiscoveryOptions,
  ) {}

  get devices(): number {
    return this.announced.size;
  }

  /** Per prediction: a map lookup and a reference compare unless something is to announce. */
  prediction(device: string, model: Model): void {
    const had = this.announced.get(device);
    if (had && (had.model === model || sameOutputs(had.model, model))) {
      had.model = model;
      return;
    }
    const configs = sensorConfigs(model, device, this.o);
    const topics = configs.map((c) => c.topic);
    for (const t of had?.topics ?? []) if (!topics.includes(t)) this.remove(t);
    for (const c of configs) this.publish(c.topic, JSON.stringify(c.config));
    this.announcements += configs.length;
    this.announced.set(device, { model, topics });
  }

  evicted(device: string): void {
    const had = this.announced.get(device);
    if (!had) return;
    for (const t of had.topics) this.remove(t);
    this.announced.delete(device);
  }

  private remove(topic: string): void {
    this.publish(topic, '');
    this.removals++;
  }
}

function sameOutputs(a: Model, b: Model): boolean {
  const ka = outputKeys(a);
  const kb = outputKeys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i]) && !a.outputs.labels === !b.outputs.labels && a.name === b.name && a.modelVersion === b.modelVersion;
}
