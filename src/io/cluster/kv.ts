// The key-value bucket as the cluster logic sees it: the five operations leases,
// membership and checkpoints need, so that logic runs in tests on an in-memory bucket
// and a virtual clock (test/helpers/fake-kv.ts) as well as on JetStream KV.
import type { KV } from 'nats';

export interface KvValue {
  readonly value: Uint8Array;
  /** The bucket's sequence of this write; compare-and-set names it. */
  readonly revision: number;
}

export interface ClusterKv {
  /** The live value of `key`, or null (absent, deleted, expired). */
  get(key: string): Promise<KvValue | null>;
  /** Writes only if `key` has no live value; resolves with the new revision, rejects otherwise. */
  create(key: string, value: Uint8Array): Promise<number>;
  /** Writes only if `key`'s live revision is `revision` (compare-and-set); rejects otherwise. */
  update(key: string, value: Uint8Array, revision: number): Promise<number>;
  /** Writes whatever is there. */
  put(key: string, value: Uint8Array): Promise<number>;
  /** Deletes `key`; with `revision`, only if that is still its live revision. */
  delete(key: string, revision?: number): Promise<void>;
  /** Keys with a live value. */
  keys(): Promise<string[]>;
}

/** True when `err` says a create or compare-and-set lost the race (JetStream: wrong last sequence). */
export function isConflict(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; message?: string } | null;
  return e?.api_error?.err_code === 10071 || /wrong last sequence|key exists/i.test(String(e?.message ?? ''));
}

/** A JetStream KV bucket behind the ClusterKv seam. */
export function natsKv(kv: KV): ClusterKv {
  return {
    async get(key) {
      const e = await kv.get(key);
      if (!e || e.operation !== 'PUT') return null;
      return { value: e.value, revision: e.revision };
    },
    create: (key, value) => kv.create(key, value),
    update: (key, value, revision) => kv.update(key, value, revision),
    put: (key, value) => kv.put(key, value),
    delete: (key, revision) => kv.delete(key, revision === undefined ? undefined : { previousSeq: revision }),
    async keys() {
      const out: string[] = [];
      for await (const k of await kv.keys()) out.push(k);
      return out;
    },
  };
}
