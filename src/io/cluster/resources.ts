// The streams and buckets of a cluster, created by whichever instance (or the setup
// script) comes first and checked by the others: same partition count, same lease TTL.
// Everything is replicated on `replicas` nodes (3 on a three-node cluster), so a node
// crash loses no acknowledged write.
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type StreamConfig } from 'nats';
import {
  LEASES_BUCKET, MEMBERS_BUCKET, MODELS_STREAM, MODELS_SUBJECTS, PARTITIONS_KEY, PREDICTIONS_STREAM, PREDICTIONS_SUBJECTS,
  READINGS_STREAM, READINGS_SUBJECTS, STATES_BUCKET,
} from './subjects.js';

export interface ResourceOptions {
  readonly partitions: number;
  readonly leaseTtlMs: number;
  readonly replicas: number;
  /** How long readings and predictions are kept (default 24 h). */
  readonly retainMs?: number;
}

/** A setup that does not match this instance's settings (one line, names both sides). */
export class ClusterSetupError extends Error {
  override readonly name = 'ClusterSetupError';
}

const NS_PER_MS = 1_000_000;

async function ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(cfg.name);
  } catch (e) {
    if (!/stream not found/i.test(String((e as Error).message))) throw e;
    try {
      await jsm.streams.add(cfg);
    } catch (e2) {
      // Another instance created it between our info and add.
      if (!/already in use|exists/i.test(String((e2 as Error).message))) throw e2;
    }
  }
}

/** Waits until JetStream answers (a fresh cluster elects its meta leader first); rejects after `timeoutMs`. */
export async function waitForJetStream(jsm: JetStreamManager, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await jsm.getAccountInfo();
      return;
    } catch (e) {
      if (Date.now() > until) throw new ClusterSetupError(`JetStream did not answer within ${timeoutMs} ms: ${(e as Error).message} (is JetStream on, and a majority of the nodes up?)`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export async function ensureClusterResources(js: JetStreamClient, jsm: JetStreamManager, o: ResourceOptions): Promise<void> {
  await waitForJetStream(jsm);
  const common = { num_replicas: o.replicas, storage: StorageType.File, discard: DiscardPolicy.Old, retention: RetentionPolicy.Limits };
  const maxAge = (o.retainMs ?? 24 * 3600_000) * NS_PER_MS;
  await ensureStream(jsm, { ...common, name: READINGS_STREAM, subjects: [READINGS_SUBJECTS], max_age: maxAge });
  await ensureStream(jsm, { ...common, name: PREDICTIONS_STREAM, subjects: [PREDICTIONS_SUBJECTS], max_age: maxAge });
  // One message per model subject: the last push is what a later instance starts from.
  await ensureStream(jsm, { ...common, name: MODELS_STREAM, subjects: [MODELS_SUBJECTS], max_msgs_per_subject: 1 });
  const members = await js.views.kv(MEMBERS_BUCKET, { ttl: o.leaseTtlMs, replicas: o.replicas, history: 1 });
  const leases = await js.views.kv(LEASES_BUCKET, { ttl: o.leaseTtlMs, replicas: o.replicas, history: 1 });
  const states = await js.views.kv(STATES_BUCKET, { replicas: o.replicas, history: 1 });
  for (const [name, kv] of [[LEASES_BUCKET, leases], [MEMBERS_BUCKET, members]] as const) {
    const ttl = (await kv.status()).ttl;
    if (ttl !== o.leaseTtlMs) throw new ClusterSetupError(`--lease-ttl is ${o.leaseTtlMs} ms but the cluster's ${name} bucket expires entries after ${ttl} ms: every instance needs the same lease TTL`);
  }
  const want = new TextEncoder().encode(String(o.partitions));
  try {
    await states.create(PARTITIONS_KEY, want);
  } catch {
    const got = await states.get(PARTITIONS_KEY);
    const have = got ? new TextDecoder().decode(got.value) : '?';
    if (have !== String(o.partitions)) throw new ClusterSetupError(`--partitions is ${o.partitions} but the cluster was set up with ${have} partitions (the server mapping and every instance must agree)`);
  }
}
