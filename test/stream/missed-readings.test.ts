import { describe, expect, it } from 'vitest';
import { initModel } from '../../src/model/index.js';
import { createSession } from '../../src/runtime/session.js';
import { createCounters } from '../../src/stream/counters.js';
import { DeviceTable } from '../../src/stream/device-table.js';

describe('missed readings (seq gaps)', () => {
  const session = createSession(initModel({ name: 'm', inputs: ['x'], outputs: ['x'], cell: 'gru', hiddenSizes: [2], dense: [{ size: 1, activation: 'linear' }] }, 1));

  it('counts the seq numbers a device skipped, per device, and nothing for duplicates, late readings or a first reading', () => {
    const counters = createCounters();
    const table = new DeviceTable(session, counters);
    const seqs: [string, number][] = [['a', 5], ['a', 6], ['a', 9], ['b', 0], ['a', 9], ['a', 8], ['b', 4], ['a', 10]];
    const kinds = seqs.map(([device, seq], t) => table.admit(device, t, seq)).map((a) => (a.kind === 'skip' ? a.verdict : a.kind));
    // a: 6 -> 9 skips 7, 8; b: 0 -> 4 skips 1, 2, 3; the first seq of a device (5) is not a gap.
    expect(counters.missedReadings).toBe(5);
    expect(kinds).toEqual(['step', 'step', 'step', 'step', 'duplicate', 'late', 'step', 'step']);
    expect(counters.duplicates).toBe(1);
  });

  it('ignores readings without seq', () => {
    const counters = createCounters();
    const table = new DeviceTable(session, counters);
    table.admit('a', 0, 1);
    table.admit('a', 1, undefined);
    table.admit('a', 2, 2);
    expect(counters.missedReadings).toBe(0);
  });
});
