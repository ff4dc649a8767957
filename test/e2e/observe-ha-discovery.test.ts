// Home Assistant MQTT discovery through a real broker: every config payload has the keys
// Home Assistant's MQTT sensor documentation requires for discovery (state_topic; with a
// device: unique_id and device identifiers; availability topics), its topic has the
// documented shape <prefix>/sensor/<node_id>/<object_id>/config, its value_template,
// rendered by a Jinja-like engine (nunjucks) over the predictions on its state topic,
// gives the predicted value, and an evicted device's configs are removed (empty, retained).
import nunjucks from 'nunjucks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFile } from '../../src/io/model-file.js';
import { startRuntime } from '../../src/io/mqtt-runtime.js';
import { Observer } from '../../src/io/observe/observer.js';
import { silentLogger } from '../../src/io/logger.js';
import { topicFiller } from '../../src/protocol/topic.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { connect, readingPayload, sensorRows, uniqueId, waitFor } from './support.js';

const MODELS = new URL('../../models/', import.meta.url).pathname;
const ID = /^[a-zA-Z0-9_-]+$/;
const render = (template: string, doc: unknown) => nunjucks.renderString(template, { value_json: doc }).trim();

describe('edge-rnn run --ha-discovery', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  for (const [file, classifier] of [['mote-forecaster.msgpack', false], ['mote-events.msgpack', true]] as const) {
    it(`announces a sensor per output${classifier ? ' and the label' : ''} (${file}), fed by the predictions, removed on eviction`, async () => {
      const { model } = readModelFile(MODELS + file);
      const instance = uniqueId('ha');
      const prefix = `ha-${instance}`;
      const seen: { topic: string; payload: Buffer }[] = [];
      const sub = await connect(broker.url, broker.mqttVersion);
      sub.on('message', (topic, payload) => seen.push({ topic, payload }));
      await sub.subscribeAsync([`${prefix}/#`, 'predictions/+'], { qos: 1 });

      const observer = new Observer(model, { instance, log: silentLogger(), haDiscovery: { prefix, predictionTopic: topicFiller('predictions/{device}', instance) } });
      const runtime = startRuntime(model, { broker: broker.url, mqttVersion: broker.mqttVersion, instance, healthIntervalMs: 0, maxDevices: 2, guardPolicy: 'clamp', ...observer.taps });
      await runtime.ready;
      await observer.start(runtime);
      const pub = await connect(broker.url, broker.mqttVersion);
      const dev = (d: string) => `${instance}-${d}`; // device ids of this test only
      const send = async (device: string, seq: number) => {
        const r = sensorRows(1, seq + 1)[seq];
        await pub.publishAsync(`sensors/${device}/reading`, readingPayload({ ...r, device }), { qos: 1 });
      };
      for (let seq = 0; seq < 3; seq++) for (const d of ['a', 'b.x']) await send(dev(d), seq);

      const perDevice = (model.outputs.labels ?? model.outputs.names).length + (classifier ? 1 : 0);
      const configs = () => seen.filter((m) => m.topic.startsWith(prefix) && m.payload.length > 0);
      const predictions = () => seen.filter((m) => m.topic.startsWith('predictions/')).map((m) => ({ topic: m.topic, doc: JSON.parse(String(m.payload)) }));
      await waitFor('discovery configs of both devices and 6 predictions', () => configs().length >= 2 * perDevice && predictions().length >= 6).catch((e) => {
        throw new Error(`${(e as Error).message}: ${configs().length} configs, ${predictions().length} predictions, ${JSON.stringify(runtime.counters.deadByReason)}`);
      });
      expect(configs()).toHaveLength(2 * perDevice); // announced once per device, not per prediction

      const uniqueIds = new Set<string>();
      for (const { topic, payload } of configs()) {
        const parts = topic.split('/');
        expect(parts.slice(0, -4).join('/')).toBe(prefix);
        expect(parts.at(-4)).toBe('sensor');
        expect(parts.at(-3)).toMatch(ID); // node_id
        expect(parts.at(-2)).toMatch(ID); // object_id
        expect(parts.at(-1)).toBe('config');
        const c = JSON.parse(String(payload));
        for (const key of ['name', 'unique_id', 'state_topic', 'value_template', 'device', 'availability']) expect(c, key).toHaveProperty(key);
        expect(uniqueIds.has(c.unique_id)).toBe(false);
        uniqueIds.add(c.unique_id);
        expect(c.state_topic).not.toMatch(/[+#]/);
        expect(Array.isArray(c.device.identifiers) && c.device.identifiers.length > 0).toBe(true);
        expect(c.availability).toEqual([expect.objectContaining({ topic: runtime.statusTopic, payload_available: 'online', payload_not_available: 'offline' })]);
        // The state topic carries the predictions, and the template reads the value out of them.
        const onState = predictions().filter((p) => p.topic === c.state_topic);
        expect(onState.length).toBe(3);
        for (const p of onState) {
          const shown = render(c.value_template, p.doc);
          if (c.value_template.includes('label')) expect(shown).toBe(p.doc.label);
          else expect(Number(shown)).toBe(Object.values(p.doc.y as Record<string, number>).find((_, i) => c.value_template === `{{ value_json.y[${JSON.stringify(Object.keys(p.doc.y)[i])}] }}`));
        }
        // Availability: the template over the runtime's retained status gives payload_available.
        expect(render(c.availability[0].value_template, { state: 'online' })).toBe('online');
      }
      // Retained: a Home Assistant that starts later still finds every config.
      const late = await connect(broker.url, broker.mqttVersion);
      const retained: string[] = [];
      late.on('message', (topic, payload, packet) => packet.retain && payload.length > 0 && retained.push(topic));
      await late.subscribeAsync(`${prefix}/#`, { qos: 1 });
      await waitFor('the retained configs', () => retained.length >= 2 * perDevice);
      expect(retained.sort()).toEqual(configs().map((m) => m.topic).sort());
      await late.endAsync();
      if (classifier) expect(configs().filter((m) => JSON.parse(String(m.payload)).value_template === '{{ value_json.label }}')).toHaveLength(2);

      // A third device evicts the least recently seen (a): its configs are emptied, retained.
      const aTopics = configs().filter((m) => JSON.parse(String(m.payload)).device.name === dev('a')).map((m) => m.topic);
      expect(aTopics).toHaveLength(perDevice);
      await send(dev('c'), 0);
      await waitFor('empty configs for the evicted device', () => aTopics.every((t) => seen.some((m) => m.topic === t && m.payload.length === 0)));
      expect(runtime.counters.evictions).toBe(1);

      await observer.stop();
      await runtime.stop();
      // Leave no retained discovery behind on the shared broker.
      for (const t of new Set(configs().map((m) => m.topic))) await pub.publishAsync(t, '', { qos: 1, retain: true });
      await Promise.all([pub.endAsync(), sub.endAsync()]);
    });
  }
}, 60_000);
