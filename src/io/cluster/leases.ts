// Partition leases in a KV bucket whose entries expire after the lease TTL (the bucket's
// max age): taken with create-if-absent, renewed with compare-and-set on the revision we
// wrote last, given back with a delete on that revision. A lease is lost the moment a
// renewal loses the compare-and-set (someone else holds it, or it expired on the server)
// and, without any answer from the cluster, at a local deadline: TTL minus a margin after
// the last renewal was *sent*. The server expires the entry at least TTL after it stored
// that renewal, which is later than we sent it, so we stop before anyone else can start
// (clock rates assumed equal; the margin covers drift and a late timer).
import type { ClusterKv } from './kv.js';
import { isConflict } from './kv.js';

export interface LeaseClock {
  /** Monotonic milliseconds. */
  now(): number;
}

interface Held {
  revision: number;
  /** Local time after which we must consider the lease gone. */
  deadline: number;
}

export const leaseKey = (partition: number): string => `part-${partition}`;

export class Leases {
  private readonly held = new Map<number, Held>();
  private readonly body: Uint8Array;

  constructor(
    private readonly kv: ClusterKv,
    readonly owner: string,
    private readonly clock: LeaseClock,
    readonly ttlMs: number,
    readonly marginMs: number = Math.max(1, Math.floor(ttlMs / 5)),
  ) {
    if (!(ttlMs > 0) || !(marginMs >= 0 && marginMs < ttlMs)) throw new RangeError(`lease TTL ${ttlMs} ms with margin ${marginMs} ms: needs 0 <= margin < TTL`);
    this.body = new TextEncoder().encode(JSON.stringify({ owner }));
  }

  holds(partition: number): boolean {
    return this.held.has(partition);
  }

  /** Partitions held now (ascending). */
  partitions(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** Take the lease if nobody holds it. False when someone does; other errors reject. */
  async acquire(partition: number): Promise<boolean> {
    if (this.held.has(partition)) return true;
    const sentAt = this.clock.now();
    try {
      const revision = await this.kv.create(leaseKey(partition), this.body);
      this.held.set(partition, { revision, deadline: sentAt + this.ttlMs - this.marginMs });
      return true;
    } catch (e) {
      if (isConflict(e)) return false;
      throw e;
    }
  }

  /**
   * Renew a held lease. False when it is lost (compare-and-set refused, or past the local
   * deadline); it is then forgotten. A transport error keeps it until its deadline.
   */
  async renew(partition: number): Promise<boolean> {
    const h = this.held.get(partition);
    if (!h) return false;
    const sentAt = this.clock.now();
    try {
      const revision = await this.kv.update(leaseKey(partition), this.body, h.revision);
      if (this.held.get(partition) !== h) return false; // dropped while we waited
      if (this.clock.now() > h.deadline) {
        this.held.delete(partition); // the answer came too late to trust
        return false;
      }
      h.revision = revision;
      h.deadline = sentAt + this.ttlMs - this.marginMs;
      return true;
    } catch (e) {
      if (isConflict(e)) {
        if (this.held.get(partition) === h) this.held.delete(partition);
        return false;
      }
      if (this.held.get(partition) !== h) return false;
      if (this.clock.now() <= h.deadline) return true;
      this.held.delete(partition);
      return false;
    }
  }

  /** Give a lease back so another member can take it at once (best effort: it expires anyway). */
  async release(partition: number): Promise<void> {
    const h = this.held.get(partition);
    if (!h) return;
    this.held.delete(partition);
    try {
      await this.kv.delete(leaseKey(partition), h.revision);
    } catch {
      // lost already, or the cluster is unreachable: the entry expires after the TTL
    }
  }

  /** Forget a lease without telling the bucket (it expires there). */
  drop(partition: number): void {
    this.held.delete(partition);
  }

  /** Leases past their local deadline, forgotten now: their partitions must stop at once. */
  expired(): number[] {
    const now = this.clock.now();
    const out: number[] = [];
    for (const [p, h] of this.held) if (now > h.deadline) out.push(p);
    for (const p of out) this.held.delete(p);
    return out;
  }
}
