// A real NATS cluster on loopback (scripts/cluster/nats-nodes.ts) and `edge-rnn run
// --cluster` instances as child processes, for the cluster tests; predictions are read
// back from the predictions stream, so a test sees every one whatever node died.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, connect, DeliverPolicy, type NatsConnection } from 'nats';
import { startNatsCluster, type NatsCluster } from '../../scripts/cluster/nats-nodes.js';
import { LEASES_BUCKET, PREDICTIONS_STREAM, READINGS_STREAM } from '../../src/io/cluster/subjects.js';
import { CLI, EXAMPLE_MODEL } from './support.js';

export interface Instance {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly log: string;
}

export interface ClusterRig {
  readonly dir: string;
  readonly nats: NatsCluster;
  readonly nc: NatsConnection;
  readonly instances: Instance[];
  start(name: string): Instance;
  /** Owner of every partition's lease now (null: free). */
  owners(): Promise<(string | null)[]>;
  /** The node name of a stream's leader. */
  leader(stream: string): Promise<string>;
  readingsStored(): Promise<number>;
  /** Every prediction in the stream, in order. */
  predictions(): Promise<Record<string, any>[]>;
  /** Messages in the predictions stream (cheap: one request). */
  predictionCount(): Promise<number>;
  stop(): Promise<void>;
}

/** `f` again while it fails (a node died under the test's own connection: JetStream re-elects). */
async function retried<T>(f: () => Promise<T>, tries = 20): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await f();
    } catch (e) {
      if (i >= tries) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

export async function startRig(o: { partitions: number; leaseTtl: string; checkpointInterval: string; trust?: string }): Promise<ClusterRig> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-rnn-cluster-'));
  const nats = await startNatsCluster({ dir, partitions: o.partitions, logTo: (n) => join(dir, `${n}.log`) });
  const nc = await connect({ servers: nats.servers.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  const js = nc.jetstream({ timeout: 5000 });
  const jsm = await nc.jetstreamManager({ checkAPI: false, timeout: 5000 });
  const instances: Instance[] = [];
  const owners = async (): Promise<(string | null)[]> => {
    // Bind only: creating it here would race the instances' own creation (with their TTL).
    const kv = await js.views.kv(LEASES_BUCKET, { bindOnly: true }).catch(() => null);
    if (!kv) return Array.from({ length: o.partitions }, () => null);
    const out: (string | null)[] = [];
    for (let p = 0; p < o.partitions; p++) {
      const e = await kv.get(`part-${p}`);
      out.push(e && e.operation === 'PUT' ? (JSON.parse(new TextDecoder().decode(e.value)) as { owner: string }).owner : null);
    }
    return out;
  };
  let readers = 0;
  // A durable three-replica reader each time: nats.js's ordered consumer is one replica and
  // may be placed on a dead node.
  const allPredictions = async (): Promise<Record<string, any>[]> => {
    const total = (await jsm.streams.info(PREDICTIONS_STREAM)).state.last_seq;
    const out: Record<string, any>[] = [];
    if (total === 0) return out;
    const name = `test-reader-${++readers}`;
    await jsm.consumers.add(PREDICTIONS_STREAM, { durable_name: name, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All });
    try {
      const consumer = await js.consumers.get(PREDICTIONS_STREAM, name);
      while (out.length < total) {
        const batch = await consumer.fetch({ max_messages: 5000, expires: 2000 });
        let got = 0;
        for await (const m of batch) {
          out.push(JSON.parse(new TextDecoder().decode(m.data)));
          got++;
        }
        if (got === 0) break;
      }
    } finally {
      await jsm.consumers.delete(PREDICTIONS_STREAM, name).catch(() => undefined);
    }
    return out;
  };
  const rig: ClusterRig = {
    dir, nats, nc, instances,
    start(name) {
      const log = join(dir, `${name}.log`);
      const proc = spawn(process.execPath, [
        CLI, 'run', '--cluster', nats.servers, '--instance', name, '--model', EXAMPLE_MODEL,
        '--partitions', String(o.partitions), '--lease-ttl', o.leaseTtl, '--cluster-checkpoint-interval', o.checkpointInterval,
        '--model-store', 'none', '--state-dir', 'none', '--health-interval', '0', '--log-level', 'info',
        ...(o.trust ? ['--trust', o.trust, '--probation', '0'] : []),
      ], { stdio: ['ignore', openSync(log, 'w'), openSync(`${log}.err`, 'w')] });
      const inst = { name, proc, log };
      instances.push(inst);
      return inst;
    },
    leader: (stream) => retried(async () => (await jsm.streams.info(stream)).cluster?.leader ?? ''),
    readingsStored: () => retried(async () => (await jsm.streams.info(READINGS_STREAM)).state.messages),
    predictions: () => retried(() => allPredictions()),
    predictionCount: () => retried(async () => (await jsm.streams.info(PREDICTIONS_STREAM)).state.messages),
    owners: () => retried(() => owners()),
    async stop() {
      await Promise.all(instances.map((i) => new Promise<void>((resolve) => {
        if (i.proc.exitCode !== null || i.proc.signalCode !== null) return resolve();
        i.proc.once('exit', () => resolve());
        i.proc.kill('SIGTERM');
        setTimeout(() => i.proc.kill('SIGKILL'), 8000).unref();
      })));
      await nc.close();
      await nats.stop();
    },
  };
  // JetStream answers once the nodes elected a meta leader.
  for (let i = 0; ; i++) {
    try {
      await jsm.getAccountInfo();
      break;
    } catch (e) {
      if (i > 120) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return rig;
}
