// 100 000 distinct device ids with maxDevices 10 000: the state count never exceeds the
// cap, and memory stays bounded because evicted states are reused, not reallocated.
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createSession } from '../../src/runtime/session.js';
import { createCounters } from '../../src/stream/counters.js';
import type { DeviceTable } from '../../src/stream/device-table.js';
import type { StreamEvent } from '../../src/stream/events.js';
import { inferPerDevice } from '../../src/stream/infer-per-device.js';
import { model, reading } from './support.js';

describe('max devices', () => {
  it('never holds more than maxDevices states across 100 000 devices', () => {
    const base = createSession(model);
    let created = 0;
    const session = { ...base, createState: () => (created++, base.createState()) };
    const counters = createCounters();
    let table: DeviceTable | undefined;
    const input = new Subject<StreamEvent>();
    let predictions = 0;
    let maxSeen = 0;
    input.pipe(inferPerDevice(session, { counters, maxDevices: 10_000, onTable: (t) => (table = t) })).subscribe((e) => {
      if (e.kind === 'prediction') predictions++;
      maxSeen = Math.max(maxSeen, table!.size);
    });
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 100_000; i++) input.next(reading(`device-${i}`, 0, [20, 40], i));
    // A second pass over the last 10 000: all still held, so none is evicted.
    const evictions = counters.evictions;
    for (let i = 90_000; i < 100_000; i++) input.next(reading(`device-${i}`, 1, [21, 41], 100_000 + i));
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;

    expect(predictions).toBe(110_000);
    expect(maxSeen).toBe(10_000);
    expect(counters.peakDevices).toBe(10_000);
    expect(counters.devices).toBe(10_000);
    expect(evictions).toBe(90_000);
    expect(counters.evictions).toBe(90_000);
    expect(created).toBe(10_000); // evicted states are reused
    expect(table!.has('device-0')).toBe(false);
    expect(table!.has('device-99999')).toBe(true);
    // 10 000 LSTM-8 states are ~1 MB; a leak of 100 000 states plus their map entries would be far more.
    expect(heapGrowthMb).toBeLessThan(64);
  });
});
