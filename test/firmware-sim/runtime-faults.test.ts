// Each fault flag of the simulator, played through a real broker into the real runtime
// (`startRuntime`, as `edge-rnn run` uses it): its effect on the runtime's counters and on
// the predictions the broker carries is the one the plan predicts.
//   drop -> gaps in the predicted seq numbers       duplicate -> dedup count
//   reorder -> the late one a dead letter `late`    malformed / NaN -> dead letters
//   glitch -> dead letters `out-of-range`           reboot -> a new epoch, nothing lost
//   disconnect -> nothing lost                      clock skew -> predictions carry the node's clock
// and all of them at once: every message published is exactly one prediction, dead letter
// or counted duplicate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFile } from '../../src/io/model-file.js';
import { startRuntime } from '../../src/io/mqtt-runtime.js';
import { expectAtRuntime, planTraffic, startFleet, type Faults, type PayloadFormat, type PublishStep } from '../../firmware-sim/src/index.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { planConfig } from './plan-config.js';
import { record, settle, uniqueId, waitFor } from './recorder.js';

const { model } = readModelFile(new URL('../../models/example-lstm.msgpack', import.meta.url).pathname);

/** Seq gaps between consecutive predictions of each device. */
function gapsOf(predicted: Map<string, number[]>): number {
  let gaps = 0;
  for (const seqs of predicted.values()) for (let i = 1; i < seqs.length; i++) gaps += seqs[i] - seqs[i - 1] - 1;
  return gaps;
}

describe('fault flags -> runtime counters, through a broker', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  async function play(faults: Partial<Faults>, payload: PayloadFormat = 'json') {
    const prefix = uniqueId('rt');
    const instance = uniqueId('inst');
    const config = { ...planConfig({ readingsPerNode: 60, payload, faults }), topic: `${prefix}/{device}/reading` };
    const steps = [...planTraffic(config)];
    const expected = expectAtRuntime(steps);
    const rec = await record(broker.url, broker.mqttVersion, [`${prefix}-pred/+`, `edge-rnn/${instance}/dead-letter`]);
    const runtime = startRuntime(model, {
      broker: broker.url, mqttVersion: broker.mqttVersion, instance, healthIntervalMs: 0,
      topics: [`${prefix}/+/reading`], predictionTopic: `${prefix}-pred/{device}`,
      resetAfterMs: 0,
    });
    await runtime.ready;
    const fleet = startFleet(config, { broker: broker.url, speed: 5000, qos: 1, mqttVersion: broker.mqttVersion, clientIdPrefix: `${prefix}-`, statusTopic: `${prefix}/{device}/status`, reconnectMinMs: 20, reconnectMaxMs: 200 });
    await fleet.done;
    await waitFor('the runtime to receive every message', () => runtime.counters.received >= expected.received);
    await waitFor('every prediction and dead letter', () => rec.messages.length >= expected.predictions + expected.deadLetters);
    await settle();
    await runtime.stop();
    await rec.close();
    const predicted = new Map<string, number[]>();
    const ts = new Map<string, number[]>();
    for (const m of rec.on(`${prefix}-pred/`)) {
      const doc = JSON.parse(m.payload.toString()) as { device: string; seq: number; ts: number };
      (predicted.get(doc.device) ?? predicted.set(doc.device, []).get(doc.device)!).push(doc.seq);
      (ts.get(doc.device) ?? ts.set(doc.device, []).get(doc.device)!).push(doc.ts);
    }
    const deadLetters = rec.on('edge-rnn/').map((m) => JSON.parse(m.payload.toString()) as { reason: string });
    return { steps, expected, counters: runtime.counters, predicted, ts, deadLetters };
  }

  it('no faults: one prediction per reading, seq 0..59 for every mote', async () => {
    const r = await play({});
    expect(r.counters.received).toBe(240);
    expect(r.counters.predictions).toBe(240);
    expect(r.counters.duplicates + r.counters.deadLetters).toBe(0);
    for (const seqs of r.predicted.values()) expect(seqs).toEqual([...Array(60).keys()]);
  }, 30_000);

  it('drop -> gaps: every dropped seq is missing from the predictions, nothing else', async () => {
    const r = await play({ drop: 0.2 });
    const drops = r.steps.filter((s) => s.kind === 'drop');
    expect(drops.length).toBeGreaterThan(20);
    expect(r.counters.predictions).toBe(240 - drops.length);
    expect(r.counters.duplicates).toBe(0);
    expect(r.counters.deadLetters).toBe(0);
    expect(gapsOf(r.predicted)).toBe(r.expected.gaps);
    expect(gapsOf(r.predicted)).toBeGreaterThan(0);
    // The runtime counts the same gaps itself (a drop after a device's last reading leaves no trace).
    expect(r.counters.missedReadings).toBe(r.expected.gaps);
    for (const [device, seqs] of r.predicted) {
      const dropped = new Set(drops.filter((d) => d.device === device).map((d) => (d as { seq: number }).seq));
      expect(seqs).toEqual([...Array(60).keys()].filter((s) => !dropped.has(s)));
    }
  }, 30_000);

  it('duplicate -> the dedup count equals the duplicates sent; one prediction per reading', async () => {
    const r = await play({ duplicate: 0.2 });
    const dups = r.steps.filter((s) => s.kind === 'publish' && s.faults.includes('duplicate')).length;
    expect(dups).toBeGreaterThan(20);
    expect(r.counters.received).toBe(240 + dups);
    expect(r.counters.duplicates).toBe(dups);
    expect(r.counters.predictions).toBe(240);
    expect(gapsOf(r.predicted)).toBe(0);
    expect(r.counters.missedReadings).toBe(0);
  }, 30_000);

  it('reorder -> the late reading is a dead letter `late` (not a silent duplicate), leaving a gap', async () => {
    const r = await play({ reorder: 0.15 });
    const late = r.steps.filter((s): s is PublishStep => s.kind === 'publish' && s.faults.includes('reorder'));
    expect(late.length).toBeGreaterThan(10);
    expect(r.counters.duplicates).toBe(0);
    expect(r.expected.late).toBe(late.filter((s) => s.seq !== 59).length); // the last one has nothing to overtake it
    expect(r.counters.deadByReason.late).toBe(r.expected.late);
    expect(r.deadLetters.filter((d) => d.reason === 'late')).toHaveLength(r.expected.late);
    expect(gapsOf(r.predicted)).toBe(r.expected.gaps);
    expect(r.counters.missedReadings).toBe(r.expected.gaps);
    expect(r.counters.predictions).toBe(r.expected.predictions);
  }, 30_000);

  it('glitch -> each 655.35 is a dead letter out-of-range; every other reading predicted', async () => {
    const r = await play({ glitch: 0.1 });
    const glitches = r.steps.filter((s) => s.kind === 'publish' && s.faults.includes('glitch')).length;
    expect(glitches).toBeGreaterThan(10);
    expect(r.counters.deadByReason['out-of-range']).toBe(glitches);
    expect(r.deadLetters.filter((d) => d.reason === 'out-of-range')).toHaveLength(glitches);
    expect(r.counters.predictions).toBe(240 - glitches);
  }, 30_000);

  it('reboot -> seq counts from 0 again: a new epoch, every reading predicted, none a duplicate', async () => {
    const r = await play({ reboot: 0.05 });
    expect(r.expected.reboots).toBeGreaterThan(5);
    expect(r.counters.reboots).toBe(r.expected.reboots);
    expect(r.counters.duplicates).toBe(0);
    expect(r.counters.predictions).toBe(240);
    expect(r.predicted).toEqual(r.expected.predicted);
  }, 30_000);

  it('every fault at once -> each message published is exactly one prediction, dead letter or counted duplicate', async () => {
    const r = await play({ drop: 0.05, duplicate: 0.08, reorder: 0.08, malformed: 0.03, nan: 0.03, glitch: 0.04, reboot: 0.03, disconnect: 0.03 });
    const published = r.steps.filter((s) => s.kind === 'publish').length;
    const c = r.counters;
    expect(c.received).toBe(published);
    expect(c.predictions + c.deadLetters + c.duplicates).toBe(published);
    // And each class is what the plan says it should be.
    expect(c.predictions).toBe(r.expected.predictions);
    expect(c.duplicates).toBe(r.expected.duplicates);
    expect(c.deadLetters).toBe(r.expected.deadLetters);
    expect(r.deadLetters).toHaveLength(c.deadLetters);
    expect(c.deadByReason.late ?? 0).toBe(r.expected.late);
    expect(c.deadByReason['out-of-range'] ?? 0).toBe(r.expected.outOfRange);
    expect(c.reboots).toBe(r.expected.reboots);
    expect(r.predicted).toEqual(r.expected.predicted);
  }, 30_000);

  for (const payload of ['json', 'msgpack'] as const) {
    it(`malformed and NaN (${payload}) -> dead letters, one per bad payload, with the reason`, async () => {
      const r = await play({ malformed: 0.1, nan: 0.1 }, payload);
      const bad = r.steps.filter((s): s is PublishStep => s.kind === 'publish' && (s.faults.includes('malformed') || s.faults.includes('nan')));
      expect(bad.length).toBeGreaterThan(20);
      expect(r.counters.deadLetters).toBe(bad.length);
      expect(r.deadLetters).toHaveLength(bad.length);
      expect(r.counters.predictions).toBe(240 - bad.length);
      const nanReason = payload === 'msgpack' ? 'non-finite' : 'invalid-json';
      const nans = bad.filter((s) => s.faults.includes('nan')).length;
      expect(r.counters.deadByReason[nanReason] ?? 0).toBeGreaterThanOrEqual(nans);
      expect(r.counters.deadByReason['non-numeric']).toBe(bad.filter((s) => s.malformed === 'wrong-type').length);
    }, 30_000);
  }

  it('disconnect -> nothing lost: every reading predicted once, in seq order', async () => {
    const r = await play({ disconnect: 0.08, offlineMs: 30_000 });
    expect(r.steps.filter((s) => s.kind === 'disconnect').length).toBeGreaterThan(5);
    expect(r.counters.predictions).toBe(240);
    expect(r.counters.duplicates).toBe(0);
    for (const seqs of r.predicted.values()) expect(seqs).toEqual([...Array(60).keys()]);
  }, 30_000);

  it("clock skew -> each device's predictions carry its own clock", async () => {
    const r = await play({ clockSkewMs: 120_000 });
    expect(r.counters.predictions).toBe(240);
    const offsets = new Set<number>();
    for (const [device, stamps] of r.ts) {
      const sent = r.steps.filter((s): s is PublishStep => s.kind === 'publish' && s.device === device);
      expect(stamps).toEqual(sent.map((s) => s.ts));
      offsets.add(sent[0].ts - 1_700_000_000_000 - sent[0].atMs);
    }
    expect(offsets.size).toBe(4);
  }, 30_000);
});
