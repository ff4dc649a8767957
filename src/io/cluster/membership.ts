// Cluster membership: each instance puts a heartbeat key in a KV bucket whose entries
// expire after the member TTL, so the live members are the bucket's keys. A crashed
// instance disappears after the TTL with no one to tell.
import type { ClusterKv } from './kv.js';

/** KV keys allow [-/_=.a-zA-Z0-9]; anything else in an instance name becomes '_'. */
export function memberKey(instance: string): string {
  const k = instance.replace(/[^-/_=a-zA-Z0-9]/g, '_');
  if (k.length === 0) throw new Error('instance name is empty: the cluster needs a member name');
  return k;
}

export class Membership {
  private readonly body: Uint8Array;

  constructor(private readonly kv: ClusterKv, readonly self: string) {
    this.body = new TextEncoder().encode(JSON.stringify({ member: self }));
  }

  /** Say we are alive . */
  async heartbeat(): Promise<void> {
    await this.kv.put(this.self, this.body);
  }

  /** Live members, self included, sorted. */
  async live(): Promise<string[]> {
    const keys = new Set(await this.kv.keys());
    keys.add(this.self);
    return [...keys].sort();
  }

  /** Leave at once (a clean stop) instead of after the TTL. */
  async leave(): Promise<void> {
    try {
      await this.kv.delete(this.self);
    } catch {
      // unreachable: the heartbeat expires
    }
  }
}
