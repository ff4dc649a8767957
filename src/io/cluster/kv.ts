// The key-value bucket as the cluster logic sees it: the five operations leases,
// membership and checkpoints need, so that logic runs in tests on an in-memory bucket
// and a virtual clock (test/helpers/fake-kv.ts) as well as on JetStream KV.
import type { JetStreamManager, KV } from 'nats';

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

/**
 * A JetStream KV bucket behind the ClusterKv seam. `keys` reads the subjects of the
 * bucket's stream (one request to its leader) instead of nats.js's kv.keys(), which
 * creates an ephemeral one-replica consumer each call: after a node crash that consumer
 * can be placed on the dead node, and the call times out until the node returns.
 */
export function natsKv(kv: KV, bucket: string, jsm: JetStreamManager): ClusterKv {
  const get = async (key: string): Promise<KvValue | null> => {
    const e = await kv.get(key);
    if (!e || e.operation !== 'PUT') return null;
    return { value: e.value, revision: e.revision };
  };
  const prefix = `$KV.${bucket}.`;
  return {
    get,
    create: (key, value) => kv.create(key, value),
    update: (key, value, revision) => kv.update(key, value, revision),
    put: (key, value) => kv.put(key, value),
    delete: (key, revision) => kv.delete(key, revision === undefined ? undefined : { previousSeq: revision }),
    async keys() {
      const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}>` });
      const keys = Object.keys(info.state.subjects ?? {}).map((s) => s.slice(prefix.length));
      const live = await Promise.all(keys.map(async (k) => ((await get(k)) ? k : null)));
      return live.filter((k): k is string => k !== null);
    },
  };
}
