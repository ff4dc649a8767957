// `edge-rnn demo` headless, sped up: predictions for every simulated mote, and a summary
// whose numbers agree with the traffic the broker carried, counted independently.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDemoFlags, runDemo } from '../../src/cli/commands/demo.js';
import { decodeModel } from '../../src/model/codec.js';
import { startBroker } from '../helpers/broker.js';
import { record, settle } from '../firmware-sim/recorder.js';

const sink = () => {
  let text = '';
  return { write: (s: string) => ((text += s), true), isTTY: false, get text() { return text; } };
};

describe('edge-rnn demo', () => {
  it('embedded broker: predictions for every mote; the summary matches what the broker carried', async () => {
    const seen = { readings: 0, predictions: 0, deadLetters: 0 };
    const out = sink();
    const result = await runDemo(parseDemoFlags(['--duration', '2500ms', '--speed', '200', '--drop', '0.05', '--malformed', '0.05', '--duplicate', '0.05']), {
      stdout: out,
      onBroker: (b) => b.onPublish((topic) => {
        if (/^sensors\/[^/]+\/reading$/.test(topic)) seen.readings++;
        else if (topic.startsWith('predictions/')) seen.predictions++;
        else if (topic.endsWith('/dead-letter')) seen.deadLetters++;
      }),
    });
    expect(Object.keys(result.devices).sort()).toEqual(['mote-1', 'mote-2', 'mote-3', 'mote-4']);
    for (const d of Object.values(result.devices)) expect(d.predictions).toBeGreaterThan(10);
    const s = result.summary;
    expect(s.readings).toBe(seen.readings);
    expect(s.predictions).toBe(seen.predictions);
    expect(s.deadLetters).toBe(seen.deadLetters);
    expect(s.readings).toBe(result.sim.total.published);
    expect(result.runtime.received).toBe(seen.readings);
    expect(result.runtime.predictions).toBe(seen.predictions);
    expect(result.runtime.deadLetters).toBe(seen.deadLetters);
    expect(result.runtime.duplicates).toBeGreaterThan(0);
    expect(s.deadLetters).toBeGreaterThan(0);
    expect(s.scored).toBeGreaterThan(0);
    expect(out.text).toContain(`predictions   ${s.predictions}`);
    expect(out.text).toContain('mote-4');
  }, 30_000);

  it('--broker: summary counts and MAE equal those recomputed from an independent subscriber', async () => {
    const broker = await startBroker();
    try {
      const rec = await record(broker.url, broker.mqttVersion, ['sensors/+/reading', 'predictions/+', 'edge-rnn/+/dead-letter']);
      const result = await runDemo(parseDemoFlags(['--broker', broker.url, '--mqtt-version', String(broker.mqttVersion), '--count', '40', '--speed', '500', '--no-live', '--nan', '0.05', '--payload', 'msgpack']), { stdout: sink() });
      await settle(300);
      await rec.close();
      const readings = rec.on('sensors/');
      const preds = rec.on('predictions/').map((m) => JSON.parse(m.payload.toString()) as { device: string; seq: number; y: Record<string, number> });
      expect(result.summary.readings).toBe(readings.length);
      expect(result.summary.predictions).toBe(preds.length);
      expect(result.summary.deadLetters).toBe(rec.on('edge-rnn/').length);
      expect(readings.length).toBe(160);
      expect(new Set(preds.map((p) => p.device)).size).toBe(4);
      // MAE by hand: prediction at seq s vs the valid reading at s + horizon of that device
      const { model } = { model: decodeModel(readFileSync(result.model)) };
      const k = model.outputs.horizon ?? 1;
      const { unpack } = await import('msgpackr');
      const actual = new Map<string, { temperature: number; humidity: number }>();
      for (const m of readings) {
        const doc = unpack(m.payload) as { seq: number; values: { temperature: number; humidity: number } };
        const device = m.topic.split('/')[1];
        if (Number.isFinite(doc.values.temperature) && Number.isFinite(doc.values.humidity)) actual.set(`${device}#${doc.seq}`, doc.values);
      }
      let n = 0;
      let t = 0;
      let h = 0;
      for (const p of preds) {
        const a = actual.get(`${p.device}#${p.seq + k}`);
        if (!a) continue;
        n++;
        t += Math.abs(p.y.temperature - a.temperature);
        h += Math.abs(p.y.humidity - a.humidity);
      }
      expect(n).toBeGreaterThan(0);
      expect(result.summary.scored).toBe(n);
      expect(result.summary.mae.temperature).toBeCloseTo(t / n, 9);
      expect(result.summary.mae.humidity).toBeCloseTo(h / n, 9);
    } finally {
      await broker.close();
    }
  }, 30_000);
});

describe('edge-rnn demo flags', () => {
  it('defaults to 60x and QoS 1 (the sim command defaults stay 1x and QoS 0)', async () => {
    const f = parseDemoFlags([]);
    expect(f.speed).toBe(60);
    expect(f.qos).toBe(1);
    expect(f.source).toBe('replay');
    const { Command } = await import('commander');
    const { defineSimCommand } = await import('../../firmware-sim/src/run-sim.js');
    const sim = defineSimCommand(new Command('sim')).exitOverride();
    sim.parse([], { from: 'user' });
    expect(sim.opts().speed).toBe(1);
    expect(sim.opts().qos).toBe(0);
  });
});
