// `edge-rnn run --cluster nats://…`: the same runtime, its client seam served by a NATS
// JetStream cluster (src/io/cluster/cluster-client.ts) instead of one MQTT broker. This
// file adds the cluster flags to `run` and turns them into the runtime's options; run.ts
// calls it and otherwise starts the runtime exactly as without a cluster. docs/scale.md.
import type { Command } from 'commander';
import { ClusterClient } from '../io/cluster/cluster-client.js';
import type { Logger } from '../io/logger.js';
import type { Runtime, RuntimeOptions } from '../io/mqtt-runtime.js';
import { parseDuration } from '../io/run-config.js';
import { CliError } from './errors.js';

export const CLUSTER_DEFAULTS = { partitions: 16, leaseTtl: '3s', checkpointInterval: '1s', replicas: 3 } as const;

export function addClusterOptions(cmd: Command): void {
  cmd
    .option('--cluster <urls>', 'NATS JetStream cluster to run in (nats://host:port, comma-separated): readings come partitioned by device from its MQTT listener, this instance serves the partitions it leases, device states are checkpointed in the cluster (docs/scale.md); default: no cluster, --broker is used')
    .option('--partitions <n>', 'cluster: partitions of the server mapping sensors.*.reading -> part.{{partition(n,1)}}... (same on every instance)', String(CLUSTER_DEFAULTS.partitions))
    .option('--lease-ttl <duration>', 'cluster: a partition lease not renewed for this long expires and the partition moves (same on every instance)', CLUSTER_DEFAULTS.leaseTtl)
    .option('--cluster-checkpoint-interval <duration>', 'cluster: period of the per-partition state checkpoints; readings are acked after the checkpoint that covers them', CLUSTER_DEFAULTS.checkpointInterval)
    .option('--cluster-replicas <n>', 'cluster: replicas of the streams and buckets when this instance creates them (1..5, at most the node count)', String(CLUSTER_DEFAULTS.replicas));
}

/** What `run` takes to offer --cluster (the full CLI passes CLUSTER_PLUGIN; the device bundle none). */
export interface ClusterPlugin {
  addOptions(cmd: Command): void;
  mode(opts: Record<string, unknown>, instance: string, log: Logger): ClusterMode | null;
}

export interface ClusterMode {
  /** Options for startRuntime (the client seam, no local state folder). */
  readonly runtimeOptions: Pick<RuntimeOptions, 'connect' | 'onTable'>;
  readonly client: ClusterClient;
  /** Gives the client the model serving now (its checkpoints name it). */
  bind(runtime: Runtime): void;
}

function positiveInt(raw: unknown, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  const v = Number(raw);
  if (!Number.isSafeInteger(v) || v < 1 || v > max) throw new CliError(`${flag}: needs a whole number from 1 to ${max}, got "${String(raw)}"`, 2);
  return v;
}

function duration(raw: unknown, flag: string): number {
  try {
    const ms = parseDuration(String(raw));
    if (ms <= 0) throw new Error(`"${String(raw)}" must be more than 0`);
    return ms;
  } catch (e) {
    throw new CliError(`${flag}: ${(e as Error).message}`, 2);
  }
}

/** The cluster mode of these flags, or null without --cluster. */
export function clusterMode(opts: Record<string, unknown>, instance: string, log: Logger): ClusterMode | null {
  if (opts.cluster === undefined) return null;
  const servers = String(opts.cluster).split(',').map((s) => s.trim()).filter(Boolean);
  const bad = servers.find((s) => !/^(nats|tls):\/\/[^/]+$/i.test(s));
  if (servers.length === 0 || bad !== undefined) throw new CliError(`--cluster: needs nats://host:port URLs, comma-separated; got "${bad ?? String(opts.cluster)}"`, 2);
  const leaseTtlMs = duration(opts.leaseTtl, '--lease-ttl');
  const checkpointIntervalMs = duration(opts.clusterCheckpointInterval, '--cluster-checkpoint-interval');
  if (checkpointIntervalMs >= 10 * leaseTtlMs) log.warn({ checkpointIntervalMs, leaseTtlMs }, 'cluster: the checkpoint period is long next to the lease TTL: a takeover replays up to a period of readings');
  const client = new ClusterClient({
    servers, instance, log, leaseTtlMs, checkpointIntervalMs,
    partitions: positiveInt(opts.partitions, '--partitions', 4096),
    replicas: positiveInt(opts.clusterReplicas, '--cluster-replicas', 5),
  });
  let runtime: Runtime | null = null;
  const model = () => {
    const m = runtime?.model();
    return m ? { name: m.name, version: m.version, ...(m.sha256 ? { sha256: m.sha256 } : {}) } : { name: '?', version: 0 };
  };
  return {
    client,
    runtimeOptions: { connect: () => client, onTable: (table) => client.attach(table, model) },
    bind: (r) => void (runtime = r),
  };
}

export const CLUSTER_PLUGIN: ClusterPlugin = { addOptions: addClusterOptions, mode: clusterMode };
