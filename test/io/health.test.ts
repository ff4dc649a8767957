import { describe, expect, it } from 'vitest';
import { formatHealth, healthMeter } from '../../src/io/health.js';
import { createCounters, LatencyWindow } from '../../src/stream/counters.js';

describe('health line', () => {
  it('reports rates since the last line, devices, dead letters and step p50/p99', () => {
    const c = createCounters();
    let now = 0;
    const meter = healthMeter(c, () => now);
    c.received = 500;
    c.predictions = 480;
    c.devices = 12;
    c.deadLetters = 3;
    c.deadByReason.late = 1;
    c.deadByReason['out-of-range'] = 2;
    c.resets = 1;
    c.reboots = 2;
    c.duplicates = 4;
    c.missedReadings = 5;
    c.swaps = 2;
    c.modelRejects = 1;
    for (let i = 1; i <= 100; i++) c.stepLatency.add(i / 1000); // 1..100 µs
    now = 10_000;
    const h = meter();
    expect(h.readingsPerS).toBe(50);
    expect(h.predictionsPerS).toBe(48);
    expect(h.stepP50Us).toBeCloseTo(50, 9);
    expect(h.stepP99Us).toBeCloseTo(99, 9);
    expect(formatHealth(h)).toBe('health: 50.0 readings/s, 48.0 predictions/s, 12 devices, 3 dead letters (out-of-range 2, late 1), 4 duplicates, 5 missed, 1 gap resets, 2 reboots, 2 model swaps (1 rejected, 0 rolled back), 0 broker session losses, step p50 50µs p99 99µs');
    now = 20_000;
    expect(meter().readingsPerS).toBe(0);
  });

  it('keeps only the most recent samples', () => {
    const w = new LatencyWindow(4);
    expect(Number.isNaN(w.percentile(0.5))).toBe(true);
    for (const v of [100, 100, 100, 100, 1, 2, 3, 4]) w.add(v);
    expect(w.count).toBe(4);
    expect(w.percentile(1)).toBe(4);
    expect(w.percentile(0.5)).toBe(2);
  });
});
