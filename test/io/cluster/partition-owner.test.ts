// The partition assignment of three and four members over one fake bucket and a virtual
// clock: every partition served by exactly one member, a crashed member's partitions
// taken over after the lease TTL and nothing else moved, a joining member takes only its
// share, and a member cut off from the cluster stops its partitions before anyone else
// starts them.
import { describe, expect, it } from 'vitest';
import { Leases } from '../../../src/io/cluster/leases.js';
import { Membership } from '../../../src/io/cluster/membership.js';
import { PartitionOwner } from '../../../src/io/cluster/partition-owner.js';
import { partitionsOf } from '../../../src/io/cluster/rendezvous.js';
import { FakeKv, VirtualClock } from '../../helpers/fake-kv.js';

const P = 32;
const TTL = 3000;
const TICK = 750;

interface Member {
  name: string;
  owner: PartitionOwner;
  serving: Set<number>;
  events: string[];
  alive: boolean;
}

function cluster() {
  const clock = new VirtualClock();
  const leaseKv = new FakeKv(clock, TTL);
  const memberKv = new FakeKv(clock, TTL);
  const members: Member[] = [];
  /** Who serves each partition now, to find overlaps at any instant. */
  const overlaps: string[] = [];
  const add = (name: string, kvs = { leaseKv, memberKv }): Member => {
    const serving = new Set<number>();
    const events: string[] = [];
    const m: Member = { name, serving, events, alive: true, owner: null as unknown as PartitionOwner };
    m.owner = new PartitionOwner({
      partitions: P, now: clock.now, settleMs: TICK,
      membership: new Membership(kvs.memberKv, name), leases: new Leases(kvs.leaseKv, name, clock, TTL, 500),
      hooks: {
        start: async (p) => {
          for (const o of members) if (o !== m && o.alive && o.serving.has(p)) overlaps.push(`${p}: ${o.name} and ${name}`);
          serving.add(p);
          events.push(`start ${p}`);
        },
        release: async (p) => void (serving.delete(p), events.push(`release ${p}`)),
        lost: (p) => void (serving.delete(p), events.push(`lost ${p}`)),
      },
    });
    members.push(m);
    return m;
  };
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += TICK / 3) {
      clock.advance(TICK / 3);
      for (const m of members) {
        if (!m.alive) continue;
        m.owner.checkDeadlines();
        if (Math.round(clock.t) % TICK < TICK / 3) await m.owner.tick();
      }
    }
  };
  const servedBy = () => {
    const out = new Map<number, string[]>();
    for (const m of members) if (m.alive) for (const p of m.serving) out.set(p, [...(out.get(p) ?? []), m.name]);
    return out;
  };
  return { clock, members, add, run, servedBy, overlaps, leaseKv, memberKv };
}

const names = (ms: Member[]) => ms.filter((m) => m.alive).map((m) => m.name);

describe('partition owner: rendezvous assignment made safe by leases', () => {
  it('three members serve every partition exactly once, as rendezvous hashing says', async () => {
    const c = cluster();
    ['a', 'b', 'c'].forEach((n) => c.add(n));
    await c.run(6 * TICK);
    const served = c.servedBy();
    expect(served.size).toBe(P);
    for (const [, who] of served) expect(who).toHaveLength(1);
    for (const m of c.members) expect([...m.serving].sort((x, y) => x - y)).toEqual(partitionsOf(m.name, ['a', 'b', 'c'], P));
    expect(c.overlaps).toEqual([]);
  });

  it('a crashed member (no more heartbeats, no more renewals) loses its partitions to the others after the TTL; no other partition moves', async () => {
    const c = cluster();
    const [a, b, dead] = ['a', 'b', 'c'].map((n) => c.add(n));
    await c.run(6 * TICK);
    const before = { a: new Set(a.serving), b: new Set(b.serving) };
    const orphans = [...dead.serving];
    dead.alive = false; // kill -9: its bucket entries stay until they expire
    a.events.length = 0;
    b.events.length = 0;
    await c.run(TTL + 4 * TICK);
    for (const p of before.a) expect(a.serving.has(p)).toBe(true);
    for (const p of before.b) expect(b.serving.has(p)).toBe(true);
    expect([...a.events, ...b.events].filter((e) => !e.startsWith('start'))).toEqual([]);
    const started = [...a.events, ...b.events].map((e) => Number(e.split(' ')[1])).sort((x, y) => x - y);
    expect(started).toEqual(orphans.sort((x, y) => x - y));
    expect(c.servedBy().size).toBe(P);
    expect(c.overlaps).toEqual([]);
  });

  it('a fourth member takes only its share: released by their owners (not lost), nothing else moves', async () => {
    const c = cluster();
    ['a', 'b', 'c'].forEach((n) => c.add(n));
    await c.run(6 * TICK);
    const before = new Map([...c.servedBy()].map(([p, w]) => [p, w[0]]));
    for (const m of c.members) m.events.length = 0;
    const d = c.add('d');
    await c.run(6 * TICK);
    const share = partitionsOf('d', ['a', 'b', 'c', 'd'], P);
    expect(share.length).toBeGreaterThan(0);
    expect([...d.serving].sort((x, y) => x - y)).toEqual(share);
    for (const [p, w] of c.servedBy()) {
      expect(w).toHaveLength(1);
      if (!share.includes(p)) expect(w[0]).toBe(before.get(p));
    }
    const others = c.members.filter((m) => m !== d).flatMap((m) => m.events);
    expect(others.filter((e) => e.startsWith('lost'))).toEqual([]);
    expect(others.map((e) => Number(e.split(' ')[1])).sort((x, y) => x - y)).toEqual(share);
    expect(c.overlaps).toEqual([]);
  });

  it('a member cut off from the cluster stops its partitions at its deadline, before the others start them', async () => {
    const c = cluster();
    // b sees the cluster through its own handles, so it can be cut off alone.
    const bLease = new Proxy(c.leaseKv, {});
    const cut = { on: false };
    const wrap = <T extends object>(kv: T): T => new Proxy(kv, {
      get(target, prop, recv) {
        const v = Reflect.get(target, prop, recv);
        return typeof v === 'function' ? (...args: unknown[]) => (cut.on ? Promise.reject(new Error('TIMEOUT')) : v.apply(target, args)) : v;
      },
    });
    c.add('a');
    const b = c.add('b', { leaseKv: wrap(bLease), memberKv: wrap(c.memberKv) });
    await c.run(6 * TICK);
    const held = [...b.serving];
    expect(held.length).toBeGreaterThan(0);
    cut.on = true;
    await c.run(TTL + 4 * TICK);
    expect(b.serving.size).toBe(0);
    expect(b.events.filter((e) => e.startsWith('lost')).length).toBe(held.length);
    expect(c.servedBy().size).toBe(P);
    expect(c.overlaps).toEqual([]);
  });

  it('stop releases every partition and leaves the members, so the others take over without waiting for the TTL', async () => {
    const c = cluster();
    const [a, b] = ['a', 'b'].map((n) => c.add(n));
    await c.run(6 * TICK);
    await b.owner.stop();
    b.alive = false;
    expect(b.serving.size).toBe(0);
    await c.run(3 * TICK); // well under the TTL
    expect(a.serving.size).toBe(P);
  });
});
