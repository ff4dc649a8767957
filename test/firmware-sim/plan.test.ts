// The traffic plan is a pure function of the flags and the seed: these tests pin what a
// seed produces (count, order, seq numbers, bytes) and what each fault does to it.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseReading } from '../../src/protocol/reading.js';
import { expectAtRuntime, GLITCH_VALUE, MOTE_DATA_PATH, planNode, planTraffic, summarize, type PlanStep, type PublishStep } from '../../firmware-sim/src/index.js';
import { moteNodes, planConfig, syntheticNodes } from './plan-config.js';

const INPUTS = ['temperature', 'humidity'];
const publishes = (steps: PlanStep[]) => steps.filter((s): s is PublishStep => s.kind === 'publish');
const byDevice = <T extends PlanStep>(steps: T[], device: string) => steps.filter((s) => s.device === device);

describe('plan without faults', () => {
  const steps = [...planTraffic(planConfig())];

  it('sends readingsPerNode readings per mote, seq 0..n-1 in order, in time order overall', () => {
    expect(steps).toHaveLength(4 * 50);
    expect(steps.every((s) => s.kind === 'publish')).toBe(true);
    for (const device of ['mote-1', 'mote-2', 'mote-3', 'mote-4']) {
      expect(byDevice(steps, device).map((s) => (s as PublishStep).seq)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    }
    for (let i = 1; i < steps.length; i++) expect(steps[i].atMs).toBeGreaterThanOrEqual(steps[i - 1].atMs);
  });

  it('keeps each node at its own rate within the jitter bounds (5 s × (1 ± 2%) × (1 ± 5%))', () => {
    const periods = new Set<number>();
    for (const device of ['mote-1', 'mote-2', 'mote-3', 'mote-4']) {
      const t = byDevice(steps, device).map((s) => s.atMs);
      const gaps = t.slice(1).map((v, i) => v - t[i]);
      for (const g of gaps) {
        expect(g).toBeGreaterThanOrEqual(Math.floor(5000 * 0.98 * 0.95));
        expect(g).toBeLessThanOrEqual(Math.ceil(5000 * 1.02 * 1.05));
      }
      periods.add(Math.round(gaps.reduce((a, b) => a + b, 0) / gaps.length));
    }
    expect(periods.size).toBe(4); // four different rates
  });

  it('replays each mote its own rows of the CSV, in file order (read here independently)', () => {
    const rows = readFileSync(MOTE_DATA_PATH, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    for (const mote of ['1', '3']) {
      const want = rows.filter((r) => r[1] === mote).slice(0, 50).map((r) => ({ temperature: Number(r[4]), humidity: Number(r[3]) }));
      const got = publishes(byDevice(steps, `mote-${mote}`)).map((s) => parseReading(s.payload, INPUTS));
      expect(got.map((r) => (r.ok ? { temperature: r.reading.values[0], humidity: r.reading.values[1] } : null))).toEqual(want);
    }
  });

  it('stamps ts = startTs + send time, and the payload carries seq and ts', () => {
    for (const s of publishes(steps)) {
      expect(s.ts).toBe(1_700_000_000_000 + s.atMs);
      const r = parseReading(s.payload, INPUTS);
      expect(r.ok && r.reading.seq === s.seq && r.reading.ts === s.ts).toBe(true);
    }
  });

  it('encodes msgpack as a plain map that the protocol reads back to the same reading', () => {
    const mp = publishes([...planTraffic(planConfig({ payload: 'msgpack', readingsPerNode: 5 }))]);
    for (const s of mp) {
      expect(s.payload[0]).toBe(0x83); // fixmap of 3: ts, seq, values
      const r = parseReading(s.payload, INPUTS);
      expect(r.ok && r.reading).toEqual({ ts: s.ts, seq: s.seq, values: [s.values.temperature, s.values.humidity] });
    }
  });

  it('ends a replay node at the end of its series', () => {
    const all = [...planNode(planConfig({ readingsPerNode: undefined, untilMs: undefined }), moteNodes()[0])];
    expect(all).toHaveLength(4417); // mote 1 has 4417 rows
  });
});

describe('seeding', () => {
  const bytes = (steps: PlanStep[]) => steps.map((s) => (s.kind === 'publish' ? `${s.device}|${s.atMs}|${Buffer.from(s.payload).toString('hex')}` : `${s.kind}|${s.device}|${s.atMs}`));
  const faults = { drop: 0.1, duplicate: 0.1, reorder: 0.1, malformed: 0.1, nan: 0.1, disconnect: 0.05, clockSkewMs: 3000 };

  it('gives identical traffic for identical flags, and different traffic for another seed', () => {
    const a = bytes([...planTraffic(planConfig({ faults }))]);
    const b = bytes([...planTraffic(planConfig({ faults }))]);
    const c = bytes([...planTraffic(planConfig({ faults, seed: 8 }))]);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });

  it('draws each fault from its own stream: turning one on does not move the others', () => {
    const dropsOnly = [...planTraffic(planConfig({ faults: { drop: 0.2 } }))].filter((s) => s.kind === 'drop').map((s) => `${s.device}:${(s as { seq: number }).seq}`);
    const withAll = [...planTraffic(planConfig({ faults: { ...faults, drop: 0.2 } }))].filter((s) => s.kind === 'drop').map((s) => `${s.device}:${(s as { seq: number }).seq}`);
    expect(dropsOnly.length).toBeGreaterThan(10);
    expect(withAll).toEqual(dropsOnly);
  });

  it('synthetic nodes are seeded too', () => {
    const cfg = planConfig({ nodes: syntheticNodes(3), readingsPerNode: 20 });
    expect(bytes([...planTraffic(cfg)])).toEqual(bytes([...planTraffic(cfg)]));
    expect(bytes([...planTraffic({ ...cfg, seed: 99 })])).not.toEqual(bytes([...planTraffic(cfg)]));
  });
});

describe('faults', () => {
  const N = 400;
  const run = (f: Parameters<typeof planConfig>[0]) => [...planTraffic(planConfig({ readingsPerNode: N, ...f }))];

  it('drop: the seq is used but nothing is sent, at about the given rate', () => {
    const steps = run({ faults: { drop: 0.25 } });
    const drops = steps.filter((s) => s.kind === 'drop');
    expect(drops.length / (4 * N)).toBeGreaterThan(0.2);
    expect(drops.length / (4 * N)).toBeLessThan(0.3);
    for (const d of ['mote-1', 'mote-2', 'mote-3', 'mote-4']) {
      const sent = publishes(byDevice(steps, d)).map((s) => s.seq);
      const lost = byDevice(steps, d).filter((s) => s.kind === 'drop').map((s) => (s as { seq: number }).seq);
      expect([...sent, ...lost].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
    }
    const exp = expectAtRuntime(steps);
    expect(exp.duplicates).toBe(0);
    // a drop is a gap unless it comes before a device's first sent reading or after its last
    let inner = 0;
    for (const d of ['mote-1', 'mote-2', 'mote-3', 'mote-4']) {
      const sent = publishes(byDevice(steps, d)).map((s) => s.seq);
      inner += byDevice(drops, d).filter((s) => s.kind === 'drop' && s.seq > sent[0] && s.seq < sent[sent.length - 1]).length;
    }
    expect(exp.gaps).toBe(inner);
    expect(exp.predictions).toBe(4 * N - drops.length);
  });

  it('duplicate: the same bytes twice in a row', () => {
    const steps = publishes(run({ faults: { duplicate: 0.1 } }));
    const dups = steps.filter((s) => s.faults.includes('duplicate'));
    expect(dups.length).toBeGreaterThan(100);
    for (const d of ['mote-2']) {
      const seqs = byDevice(steps, d);
      for (let i = 1; i < seqs.length; i++) {
        if (seqs[i].faults.includes('duplicate')) expect(Buffer.from(seqs[i].payload).equals(Buffer.from(seqs[i - 1].payload))).toBe(true);
      }
    }
    expect(expectAtRuntime(steps).duplicates).toBe(dups.length);
  });

  it('reorder: a reading is sent right after the next one', () => {
    const steps = publishes(run({ faults: { reorder: 0.1 } }));
    const seqs = byDevice(steps, 'mote-4').map((s) => s.seq);
    const swapped = byDevice(steps, 'mote-4').filter((s) => s.faults.includes('reorder')).map((s) => s.seq);
    expect(swapped.length).toBeGreaterThan(10);
    for (const k of swapped) {
      if (k === N - 1) continue; // the last one has no successor
      expect(seqs.indexOf(k)).toBe(seqs.indexOf(k + 1) + 1);
    }
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
  });

  it('malformed and NaN payloads are all rejected by the protocol parser; clean ones never are', () => {
    for (const payload of ['json', 'msgpack'] as const) {
      const steps = publishes(run({ payload, faults: { malformed: 0.15, nan: 0.15 } }));
      const codes = new Set<string>();
      for (const s of steps) {
        const r = parseReading(s.payload, INPUTS);
        const bad = s.faults.includes('malformed') || s.faults.includes('nan');
        expect(r.ok).toBe(!bad);
        if (!r.ok) codes.add(r.reason.code);
      }
      // a value as a string is non-numeric; a msgpack NaN is non-finite (JSON has no NaN: a
      // bare NaN token is invalid JSON); cut or garbage bytes do not decode
      expect(codes.has('non-numeric')).toBe(true);
      expect(codes.has('non-finite')).toBe(payload === 'msgpack');
      const undecodable = [...codes].filter((c) => c !== 'non-numeric' && c !== 'non-finite');
      expect(undecodable.length).toBeGreaterThan(0);
      for (const c of undecodable) expect(c).toMatch(/^invalid-/);
      expect(new Set(steps.filter((s) => s.malformed).map((s) => s.malformed))).toEqual(new Set(['truncated', 'garbage', 'wrong-type']));
    }
  });

  it('disconnect: a disconnect step after the reading, seq keeps counting', () => {
    const steps = run({ faults: { disconnect: 0.05, offlineMs: 12_000 } });
    const disc = steps.filter((s) => s.kind === 'disconnect');
    expect(disc.length).toBeGreaterThan(30);
    expect(disc.every((s) => s.kind === 'disconnect' && s.offlineMs === 12_000)).toBe(true);
    expect(publishes(byDevice(steps, 'mote-1')).map((s) => s.seq)).toEqual(Array.from({ length: N }, (_, i) => i));
  });

  it('clock skew: one constant offset per node, within the bound, different across nodes', () => {
    const steps = publishes(run({ faults: { clockSkewMs: 60_000 } }));
    const offsets = new Map<string, Set<number>>();
    for (const s of steps) {
      const o = s.ts - 1_700_000_000_000 - s.atMs;
      expect(Math.abs(o)).toBeLessThanOrEqual(60_000);
      if (!offsets.has(s.device)) offsets.set(s.device, new Set());
      offsets.get(s.device)!.add(o);
    }
    expect([...offsets.values()].every((set) => set.size === 1)).toBe(true);
    expect(new Set([...offsets.values()].map((set) => [...set][0])).size).toBe(4);
  });

  it('summaries count each fault once', () => {
    const steps = run({ faults: { drop: 0.1, duplicate: 0.1, reorder: 0.1, malformed: 0.1, nan: 0.1, disconnect: 0.02 } });
    const { total, devices } = summarize(steps);
    expect(total.readings).toBe(4 * N);
    expect(total.published).toBe(steps.filter((s) => s.kind === 'publish').length);
    expect(total.published).toBe(total.readings - total.dropped + total.duplicates);
    expect([...devices.values()].reduce((a, d) => a + d.readings, 0)).toBe(4 * N);
  });
  it('glitch: one value becomes 655.35, a valid reading the parser accepts', () => {
    const steps = publishes(run({ faults: { glitch: 0.1 } }));
    const glitched = steps.filter((s) => s.faults.includes('glitch'));
    expect(glitched.length).toBeGreaterThan(50);
    for (const g of glitched) {
      const r = parseReading(g.payload, INPUTS);
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.reading.values[INPUTS.indexOf(g.glitchValue!)]).toBe(GLITCH_VALUE);
    }
    expect(expectAtRuntime(steps).outOfRange).toBe(glitched.length);
  });

  it('reboot: after a reboot step the node counts seq from 0 again, with time going on', () => {
    const all = run({ faults: { reboot: 0.05 } });
    const reboots = all.filter((s) => s.kind === 'reboot');
    expect(reboots.length).toBeGreaterThan(10);
    for (const d of ['mote-1', 'mote-3']) {
      const mine = byDevice(all, d);
      let expected = 0;
      let lastTs = -Infinity;
      for (const s of mine) {
        if (s.kind === 'reboot') expected = 0;
        if (s.kind !== 'publish') continue;
        expect(s.seq).toBe(expected++);
        expect(s.ts).toBeGreaterThan(lastTs);
        lastTs = s.ts;
      }
    }
    // The runtime sees a reboot when a reading follows it (two in a row look like one).
    const seen = expectAtRuntime(all).reboots;
    expect(seen).toBeGreaterThan(5);
    expect(seen).toBeLessThanOrEqual(reboots.length);
  });
});

describe('synthetic signals', () => {
  it('sine + noise + drift: the fitted slope is the drift and the residual spread is the noise', () => {
    const signals = { temperature: { base: 20, amplitude: 0, periodMs: 3_600_000, noise: 0.5, driftPerHour: 2, stepProbability: 0, stepSize: 0 } };
    const node = { device: 'n', periodMs: 1000, source: { kind: 'synthetic' as const, signals } };
    const steps = publishes([...planNode(planConfig({ nodes: [node], readingsPerNode: 20_000, jitter: 0 }), node)]);
    const t = steps.map((s) => s.atMs / 3_600_000);
    const y = steps.map((s) => s.values.temperature);
    const n = t.length;
    const mt = t.reduce((a, b) => a + b) / n;
    const my = y.reduce((a, b) => a + b) / n;
    const slope = t.reduce((a, ti, i) => a + (ti - mt) * (y[i] - my), 0) / t.reduce((a, ti) => a + (ti - mt) ** 2, 0);
    const resid = y.map((yi, i) => yi - (my + slope * (t[i] - mt)));
    const sd = Math.sqrt(resid.reduce((a, r) => a + r * r, 0) / (n - 2));
    expect(slope).toBeCloseTo(2, 1);
    expect(sd).toBeGreaterThan(0.47);
    expect(sd).toBeLessThan(0.53);
  });

  it('step events move the level by ±stepSize', () => {
    const signals = { humidity: { base: 50, amplitude: 0, periodMs: 1, noise: 0, driftPerHour: 0, stepProbability: 0.01, stepSize: 3 } };
    const node = { device: 'n', periodMs: 1000, source: { kind: 'synthetic' as const, signals } };
    const y = publishes([...planNode(planConfig({ nodes: [node], readingsPerNode: 2000 }), node)]).map((s) => s.values.humidity);
    const jumps = y.slice(1).map((v, i) => Math.round((v - y[i]) * 100) / 100).filter((d) => d !== 0);
    expect(jumps.length).toBeGreaterThan(5);
    expect(jumps.every((d) => Math.abs(d) === 3)).toBe(true);
  });
});
