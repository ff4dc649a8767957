// The Home Assistant announcer without a broker: once per device, again when a swapped-in
// model has other outputs (sensors it no longer has are removed), removal on eviction.
import { describe, expect, it } from 'vitest';
import { discoveryId, HaAnnouncer, sensorConfigs } from '../../../src/io/observe/ha-discovery.js';
import type { Model } from '../../../src/model/types.js';

const model = (names: string[], version = 1, labels?: string[]) => ({ name: 'm', modelVersion: version, inputs: { names: ['t'] }, outputs: { names, ...(labels ? { labels } : {}) } }) as unknown as Model;
const o = { prefix: 'homeassistant', instance: 'pi 4', predictionTopic: (d: string) => `predictions/${d}`, statusTopic: 'edge-rnn/pi 4/status' };

describe('HaAnnouncer', () => {
  it('announces once, re-announces after a swap that changes the outputs, and removes on eviction', () => {
    const sent: [string, string][] = [];
    const ha = new HaAnnouncer((t, p) => sent.push([t, p]), o);
    const a = model(['temperature', 'humidity']);
    ha.prediction('mote-1', a);
    ha.prediction('mote-1', a);
    expect(sent.map(([t]) => t)).toEqual([
      `homeassistant/sensor/${discoveryId('pi 4')}/mote-1_temperature/config`,
      `homeassistant/sensor/${discoveryId('pi 4')}/mote-1_humidity/config`,
    ]);
    sent.length = 0;
    ha.prediction('mote-1', model(['temperature', 'pressure'], 2)); // humidity gone, pressure new
    expect(sent.filter(([, p]) => p === '').map(([t]) => t)).toEqual([`homeassistant/sensor/${discoveryId('pi 4')}/mote-1_humidity/config`]);
    expect(sent.filter(([, p]) => p !== '').map(([t, p]) => [t.split('/')[3], JSON.parse(p).device.model])).toEqual([['mote-1_temperature', 'm v2'], ['mote-1_pressure', 'm v2']]);
    sent.length = 0;
    ha.evicted('mote-1');
    expect(sent.map(([t, p]) => [t.split('/')[3], p])).toEqual([['mote-1_temperature', ''], ['mote-1_pressure', '']]);
    expect(ha.devices).toBe(0);
  });

  it('keeps ids to [a-zA-Z0-9_-], tells apart ids that clean to the same text, and adds the label sensor for classifiers', () => {
    expect(discoveryId('mote-1')).toBe('mote-1');
    expect(discoveryId('a.b')).toMatch(/^a_b_[0-9a-f]{8}$/);
    expect(discoveryId('a.b')).not.toBe(discoveryId('a/b'));
    const c = sensorConfigs(model(['label'], 1, ['calm', 'event']), 'm', o);
    expect(c.map((s) => s.config.value_template)).toEqual(['{{ value_json.y["calm"] }}', '{{ value_json.y["event"] }}', '{{ value_json.label }}']);
  });
});
