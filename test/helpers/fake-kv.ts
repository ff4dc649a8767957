// An in-memory KV bucket behind the ClusterKv seam, with JetStream's rules: one revision
// counter per bucket, create only over an absent key, update only on the live revision,
// entries gone once older than the bucket's TTL on a virtual clock. `unreachable` makes
// every call fail as a network error would (a partition between instance and cluster).
import type { ClusterKv, KvValue } from '../../src/io/cluster/kv.js';

export class VirtualClock {
  t = 0;
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export class FakeKv implements ClusterKv {
  private seq = 0;
  private readonly entries = new Map<string, { value: Uint8Array; revision: number; at: number }>();
  unreachable = false;

  constructor(private readonly clock: VirtualClock, readonly ttlMs = 0) {}

  private live(key: string) {
    const e = this.entries.get(key);
    if (e && this.ttlMs > 0 && this.clock.now() - e.at > this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private check(): void {
    if (this.unreachable) throw new Error('TIMEOUT');
  }

  private write(key: string, value: Uint8Array): number {
    const revision = ++this.seq;
    this.entries.set(key, { value, revision, at: this.clock.now() });
    return revision;
  }

  async get(key: string): Promise<KvValue | null> {
    this.check();
    const e = this.live(key);
    return e ? { value: e.value, revision: e.revision } : null;
  }

  async create(key: string, value: Uint8Array): Promise<number> {
    this.check();
    if (this.live(key)) throw new Error('wrong last sequence: key exists');
    return this.write(key, value);
  }

  async update(key: string, value: Uint8Array, revision: number): Promise<number> {
    this.check();
    const e = this.live(key);
    if (!e || e.revision !== revision) throw new Error(`wrong last sequence: ${e?.revision ?? 0}`);
    return this.write(key, value);
  }

  async put(key: string, value: Uint8Array): Promise<number> {
    this.check();
    return this.write(key, value);
  }

  async delete(key: string, revision?: number): Promise<void> {
    this.check();
    const e = this.live(key);
    if (revision !== undefined && e?.revision !== revision) throw new Error(`wrong last sequence: ${e?.revision ?? 0}`);
    this.entries.delete(key);
  }

  async keys(): Promise<string[]> {
    this.check();
    return [...this.entries.keys()].filter((k) => this.live(k));
  }

  /** Who holds a lease key now (tests). */
  owner(key: string): string | null {
    const e = this.live(key);
    return e ? (JSON.parse(new TextDecoder().decode(e.value)) as { owner: string }).owner : null;
  }
}
