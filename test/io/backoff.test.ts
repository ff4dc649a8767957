import { describe, expect, it } from 'vitest';
import { exponentialBackoff } from '../../src/io/backoff.js';

describe('reconnect backoff', () => {
  it('doubles from the minimum up to the cap, and resets after a connect', () => {
    const b = exponentialBackoff(500, 30_000, () => 0.5); // no jitter at 0.5
    expect(Array.from({ length: 9 }, () => b.next())).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    b.reset();
    expect(b.next()).toBe(500);
  });

  it('jitters by ±25% and never exceeds the cap', () => {
    const lo = exponentialBackoff(1000, 30_000, () => 0);
    const hi = exponentialBackoff(1000, 30_000, () => 0.999999);
    expect(lo.next()).toBe(750);
    expect(hi.next()).toBe(1250);
    for (let i = 0; i < 20; i++) expect(hi.next()).toBeLessThanOrEqual(30_000);
  });
});
