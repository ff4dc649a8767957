import { describe, expect, it } from 'vitest';
import { leaseKey, Leases } from '../../../src/io/cluster/leases.js';
import { FakeKv, VirtualClock } from '../../helpers/fake-kv.js';

const TTL = 3000;

function setup() {
  const clock = new VirtualClock();
  const kv = new FakeKv(clock, TTL);
  const a = new Leases(kv, 'a', clock, TTL, 500);
  const b = new Leases(kv, 'b', clock, TTL, 500);
  return { clock, kv, a, b };
}

describe('partition leases on a KV bucket with a TTL', () => {
  it('create-if-absent: the first taker holds it, a second is refused', async () => {
    const { kv, a, b } = setup();
    expect(await a.acquire(3)).toBe(true);
    expect(await b.acquire(3)).toBe(false);
    expect(kv.owner(leaseKey(3))).toBe('a');
    expect(a.holds(3)).toBe(true);
    expect(b.holds(3)).toBe(false);
  });

  it('renewing keeps it past the TTL; another member gets it only after the holder stops renewing and the TTL runs out', async () => {
    const { clock, kv, a, b } = setup();
    await a.acquire(1);
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      expect(await a.renew(1)).toBe(true);
    }
    expect(await b.acquire(1)).toBe(false);
    clock.advance(TTL + 1); // a stops renewing (crashed)
    expect(await b.acquire(1)).toBe(true);
    expect(kv.owner(leaseKey(1))).toBe('b');
  });

  it('the holder stops (local deadline) before the server lets anyone else take it', async () => {
    const { clock, a, b } = setup();
    await a.acquire(2);
    clock.advance(TTL - 500 + 1); // past ttl - margin since the create was sent
    expect(a.expired()).toEqual([2]);
    expect(a.holds(2)).toBe(false);
    expect(await b.acquire(2)).toBe(false); // the server entry is still alive: nobody overlaps
    clock.advance(500);
    expect(await b.acquire(2)).toBe(true);
  });

  it('a renewal that loses the compare-and-set loses the lease at once', async () => {
    const { clock, a, b } = setup();
    await a.acquire(4);
    clock.advance(TTL + 1);
    await b.acquire(4); // a's entry expired on the server while a was paused
    expect(await a.renew(4)).toBe(false);
    expect(a.holds(4)).toBe(false);
  });

  it('cut off from the cluster: renewals fail, the lease is kept until the deadline, then lost', async () => {
    const { clock, kv, a } = setup();
    await a.acquire(5);
    kv.unreachable = true;
    clock.advance(1000);
    expect(await a.renew(5)).toBe(true); // no answer yet: still within the deadline
    clock.advance(1600);
    expect(await a.renew(5)).toBe(false);
    expect(a.holds(5)).toBe(false);
  });

  it('release gives it back at once; releasing a lease someone else took leaves theirs alone', async () => {
    const { clock, kv, a, b } = setup();
    await a.acquire(6);
    await a.release(6);
    expect(await b.acquire(6)).toBe(true);
    await a.acquire(7);
    clock.advance(TTL + 1);
    await b.acquire(7);
    await a.release(7); // stale revision: refused by the bucket, swallowed
    expect(kv.owner(leaseKey(7))).toBe('b');
  });

  it('refuses a margin not below the TTL', () => {
    const clock = new VirtualClock();
    expect(() => new Leases(new FakeKv(clock, 10), 'a', clock, 10, 10)).toThrow(/margin/);
  });
});
