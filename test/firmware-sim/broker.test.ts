// The simulator against a real broker (Mosquitto when installed, else aedes): the broker
// delivers exactly the planned messages for the seed, node by node, byte for byte; the
// last will fires on a dropped connection; seq survives reconnects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planTraffic, startFleet, type PlanConfig, type PlanStep, type PublishStep } from '../../firmware-sim/src/index.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { planConfig } from './plan-config.js';
import { record, settle, uniqueId, waitFor } from './recorder.js';

const publishedBy = (steps: PlanStep[], device: string) =>
  steps.filter((s): s is PublishStep => s.kind === 'publish' && s.device === device).map((s) => Buffer.from(s.payload).toString('hex'));

describe('firmware-sim on a broker', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  async function playAndRecord(config: PlanConfig, qos: 0 | 1) {
    const prefix = uniqueId('sim');
    const topic = `${prefix}/{device}/reading`;
    const cfg = { ...config, topic };
    const rec = await record(broker.url, broker.mqttVersion, [`${prefix}/+/reading`, `${prefix}/+/status`]);
    const fleet = startFleet(cfg, { broker: broker.url, speed: 2000, qos, mqttVersion: broker.mqttVersion, clientIdPrefix: `${prefix}-`, statusTopic: `${prefix}/{device}/status`, reconnectMinMs: 20, reconnectMaxMs: 200 });
    const report = await fleet.done;
    const steps = [...planTraffic(cfg)];
    const expected = steps.filter((s) => s.kind === 'publish').length;
    await waitFor('every planned message', () => rec.messages.filter((m) => m.topic.endsWith('/reading')).length >= expected);
    await settle();
    await rec.close();
    return { steps, report, rec, prefix, expected };
  }

  for (const [qos, payload] of [[1, 'json'], [0, 'msgpack']] as const) {
    it(`delivers exactly the planned sequence per node (QoS ${qos}, ${payload}, every fault on)`, async () => {
      const config = planConfig({
        readingsPerNode: 60, payload,
        faults: { drop: 0.1, duplicate: 0.1, reorder: 0.1, malformed: 0.1, nan: 0.1, disconnect: 0.04, offlineMs: 20_000, clockSkewMs: 5000 },
      });
      const { steps, report, rec, prefix, expected } = await playAndRecord(config, qos);
      const readings = rec.messages.filter((m) => m.topic.endsWith('/reading'));
      expect(readings).toHaveLength(expected);
      for (const device of ['mote-1', 'mote-2', 'mote-3', 'mote-4']) {
        const got = readings.filter((m) => m.topic === `${prefix}/${device}/reading`).map((m) => m.payload.toString('hex'));
        expect(got).toEqual(publishedBy(steps, device));
      }
      expect(report.finished).toBe(true);
      expect(report.total.published).toBe(expected);
      // each planned disconnect is a lost connection (last will "offline") and a reconnect
      const disconnects = steps.filter((s) => s.kind === 'disconnect');
      expect(disconnects.length).toBeGreaterThan(0);
      for (const device of ['mote-1', 'mote-2', 'mote-3', 'mote-4']) {
        const planned = disconnects.filter((s) => s.device === device).length;
        expect(report.nodes.get(device)!.connects).toBe(1 + planned);
        const status = rec.messages.filter((m) => m.topic === `${prefix}/${device}/status`).map((m) => m.payload.toString());
        // online at each connect, offline from the will at each drop, offline at the end
        expect(status.filter((s) => s === 'online')).toHaveLength(1 + planned);
        expect(status.filter((s) => s === 'offline')).toHaveLength(planned + 1);
        expect(status[status.length - 1]).toBe('offline');
      }
    }, 30_000);
  }

  it('the same flags give the same traffic at the broker twice', async () => {
    const config = planConfig({ readingsPerNode: 30, faults: { drop: 0.2, duplicate: 0.2, reorder: 0.2 } });
    const a = await playAndRecord(config, 1);
    const b = await playAndRecord(config, 1);
    const strip = (r: typeof a) => r.rec.messages.filter((m) => m.topic.endsWith('/reading')).map((m) => `${m.topic.slice(r.prefix.length)} ${m.payload.toString('hex')}`).sort();
    expect(strip(a)).toEqual(strip(b));
    expect(strip(a)).toHaveLength(a.expected);
  }, 30_000);

  it('buffers readings while the broker is down and delivers them after reconnecting with backoff', async () => {
    const prefix = uniqueId('down');
    const config = { ...planConfig({ readingsPerNode: 40, nodes: planConfig().nodes.slice(0, 2) }), topic: `${prefix}/{device}/reading` };
    const steps = [...planTraffic(config)];
    const rec = await record(broker.url, broker.mqttVersion, [`${prefix}/+/reading`], { persistent: true });
    const fleet = startFleet(config, { broker: broker.url, speed: 500, qos: 1, mqttVersion: broker.mqttVersion, clientIdPrefix: `${prefix}-`, statusTopic: `${prefix}/{device}/status`, reconnectMinMs: 50, reconnectMaxMs: 400 });
    await Promise.all([...fleet.nodes.values()].map((n) => n.connected));
    await new Promise((r) => setTimeout(r, 100));
    await broker.stop();
    const playedWhileDown = fleet.total.published;
    await new Promise((r) => setTimeout(r, 300));
    await broker.start();
    const report = await fleet.done;
    await waitFor('every reading', () => new Set(rec.messages.map((m) => m.topic + m.payload.toString())).size >= steps.length);
    await rec.close();
    expect(playedWhileDown).toBeGreaterThan(0);
    expect(playedWhileDown).toBeLessThan(steps.length);
    expect(report.nodes.get('mote-1')!.connects).toBeGreaterThanOrEqual(2);
    // QoS 1 is at least once: after dropping redeliveries, each node's seq runs 0..39 in order
    for (const device of ['mote-1', 'mote-2']) {
      const seqs = rec.messages.filter((m) => m.topic === `${prefix}/${device}/reading`).map((m) => JSON.parse(m.payload.toString()).seq as number);
      const firstSeen = seqs.filter((s, i) => seqs.indexOf(s) === i);
      expect(firstSeen).toEqual([...Array(40).keys()]);
    }
  }, 30_000);
});
