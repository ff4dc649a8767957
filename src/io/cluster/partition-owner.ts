// Which partitions this instance serves, decided every tick from the live members by
// rendezvous hashing and made safe by leases: a partition is started only once its lease
// is ours, released (after its last checkpoint) when the assignment gives it to another
// member, and stopped at once when its lease is lost. Only the partitions of a member
// that joins or leaves move. The hooks do the I/O (restore and consume, checkpoint and
// ack); this file is only the decisions, so it runs on a fake bucket and a virtual clock.
import type { Leases } from './leases.js';
import type { Membership } from './membership.js';
import { partitionsOf } from './rendezvous.js';

export interface PartitionHooks {
  /** The lease is ours: restore the partition's states and start consuming it. */
  start(partition: number): Promise<void>;
  /** The partition goes to another member: stop, write its last checkpoint, ack; then the lease is given back. */
  release(partition: number): Promise<void>;
  /** The lease is lost: stop the partition now, ack nothing more (its readings are replayed by the next owner). */
  lost(partition: number): void;
}

export interface PartitionOwnerOptions {
  readonly partitions: number;
  readonly membership: Membership;
  readonly leases: Leases;
  readonly hooks: PartitionHooks;
  /** Monotonic ms. */
  readonly now: () => number;
  /** Take no partition before we have been a member this long (others see us first: less churn at a joint start). */
  readonly settleMs: number;
  readonly onError?: (what: string, err: unknown) => void;
}

export class PartitionOwner {
  private readonly startedAt: number;
  private running: Promise<void> | null = null;
  private members: string[] | null = null;
  private stopped = false;
  /** Partitions whose start hook finished (their lease may since be gone). */
  private readonly serving = new Set<number>();
  /** Start hooks under way: they run beside the rounds, so renewals never wait for a slow start. */
  private readonly starting = new Map<number, Promise<void>>();

  constructor(private readonly o: PartitionOwnerOptions) {
    this.startedAt = o.now();
  }

  /** Partitions served now. */
  partitions(): number[] {
    return [...this.serving].sort((a, b) => a - b);
  }

  /** One round; a round still running makes this a no-op (returns that round). */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.round().finally(() => (this.running = null));
    return this.running;
  }

  /** Stop every partition whose lease passed its local deadline (cheap: call it often). */
  checkDeadlines(): void {
    for (const p of this.o.leases.expired()) this.lose(p);
  }

  /** Lose a partition now (e.g. its checkpoint compare-and-set failed: someone else wrote it). */
  lose(partition: number): void {
    this.o.leases.drop(partition);
    if (this.serving.delete(partition)) this.o.hooks.lost(partition);
  }

  /** Clean stop: release every partition (last checkpoint, acks, lease back), leave the members. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    await Promise.all([...this.starting.values()]);
    await Promise.all(this.partitions().map((p) => this.releaseOne(p)));
    await this.o.membership.leave();
  }

  private async round(): Promise<void> {
    const { membership, leases, partitions } = this.o;
    this.checkDeadlines();
    await this.attempt('heartbeat', () => membership.heartbeat());
    // Without an answer, the last known members: the held leases are renewed all the same.
    const members = (await this.attempt('members', () => membership.live())) ?? this.members;
    if (!members || this.stopped) return;
    this.members = members;
    const want = new Set(partitionsOf(membership.self, members, partitions));
    await Promise.all(leases.partitions().map(async (p) => {
      if (!want.has(p)) return this.releaseOne(p);
      if (!(await leases.renew(p))) this.lose(p);
    }));
    this.checkDeadlines();
    if (this.o.now() - this.startedAt < this.o.settleMs) return;
    const free = [...want].filter((p) => !leases.holds(p) && !this.starting.has(p));
    await Promise.all(free.map(async (p) => {
      if (this.stopped || !(await this.attempt(`lease ${p}`, () => leases.acquire(p)))) return;
      this.starting.set(p, this.startOne(p).finally(() => this.starting.delete(p)));
    }));
  }

  private async startOne(p: number): Promise<void> {
    const ok = await this.attempt(`start ${p}`, () => this.o.hooks.start(p).then(() => true));
    if (!ok) await this.o.leases.release(p);
    else if (this.o.leases.holds(p)) this.serving.add(p);
    else this.o.hooks.lost(p); // the lease ran out while the partition was starting
  }

  private async releaseOne(p: number): Promise<void> {
    await this.starting.get(p);
    if (this.serving.delete(p)) await this.attempt(`release ${p}`, () => this.o.hooks.release(p));
    await this.o.leases.release(p);
  }

  private async attempt<T>(what: string, f: () => Promise<T>): Promise<T | undefined> {
    try {
      return await f();
    } catch (e) {
      this.o.onError?.(what, e);
      return undefined;
    }
  }
}
