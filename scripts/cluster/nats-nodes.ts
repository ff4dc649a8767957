// Three (or N) nats-server nodes clustered on loopback, each with JetStream, an MQTT
// listener and the subject mapping that partitions readings by device. Used by
// `npm run cluster:local`, the cluster tests and `npm run bench:cluster`.
//
// The mapping (nats-server >= 2.8; Debian 12 ships 2.9.10):
//   sensors.*.reading -> part.{{partition(P,1)}}.sensors.{{wildcard(1)}}.reading
// partition() hashes the device token (FNV-1a) into 0..P-1, so one device always lands in
// one partition. MQTT topics map to subjects level by level (`sensors/<dev>/reading` is
// `sensors.<dev>.reading`), and the mapping applies to MQTT publishers too.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitForPort } from '../local-ports.js';

export interface NatsNode {
  readonly name: string;
  readonly clientPort: number;
  readonly mqttPort: number;
  readonly routePort: number;
  readonly url: string;
  readonly mqttUrl: string;
  proc: ChildProcess | null;
}

export interface NatsCluster {
  readonly nodes: NatsNode[];
  /** Every node's client URL, comma-separated (what `--cluster` takes). */
  readonly servers: string;
  /** Kill -9 one node. */
  kill(i: number): void;
  /** Start a killed node again (same store folder: it catches up from the others). */
  restart(i: number): Promise<void>;
  stop(): Promise<void>;
}

export function partitionMapping(partitions: number): Record<string, string> {
  return { 'sensors.*.reading': `part.{{partition(${partitions},1)}}.sensors.{{wildcard(1)}}.reading` };
}

/** One node's nats-server config (the format is a superset of JSON). */
export function nodeConfig(node: NatsNode, all: readonly NatsNode[], storeDir: string, partitions: number): string {
  return JSON.stringify({
    server_name: node.name,
    listen: `127.0.0.1:${node.clientPort}`,
    // Readings and checkpoints of 1 000s of devices: room for a partition's checkpoint value.
    max_payload: 8 * 1024 * 1024,
    jetstream: { store_dir: storeDir, max_memory_store: 256 * 1024 * 1024, max_file_store: 2 * 1024 * 1024 * 1024 },
    cluster: {
      name: 'edge-rnn',
      listen: `127.0.0.1:${node.routePort}`,
      routes: all.filter((n) => n !== node).map((n) => `nats-route://127.0.0.1:${n.routePort}`),
    },
    // stream_replicas: the MQTT listener's own streams (sessions, retained, QoS 1 to MQTT
    // subscribers) replicated on every node, so an MQTT session survives a node crash.
    mqtt: { listen: `127.0.0.1:${node.mqttPort}`, stream_replicas: Math.min(3, all.length), ack_wait: '30s' },
    mappings: partitionMapping(partitions),
  }, null, 2);
}

export interface StartOptions {
  readonly dir: string;
  readonly nodes?: number;
  readonly partitions: number;
  readonly binary?: string;
  /** Where each node's log goes (default: ignored). */
  readonly logTo?: (name: string) => string;
}

/** Starts the nodes and waits until each listens (JetStream's meta leader takes a moment more: see waitForJetStream). */
export async function startNatsCluster(o: StartOptions): Promise<NatsCluster> {
  const count = o.nodes ?? 3;
  const nodes: NatsNode[] = [];
  for (let i = 0; i < count; i++) {
    const [clientPort, mqttPort, routePort] = [await freePort(), await freePort(), await freePort()];
    nodes.push({ name: `n${i + 1}`, clientPort, mqttPort, routePort, url: `nats://127.0.0.1:${clientPort}`, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, proc: null });
  }
  const launch = (n: NatsNode) => {
    const store = join(o.dir, n.name);
    mkdirSync(store, { recursive: true });
    const conf = join(o.dir, `${n.name}.conf`);
    writeFileSync(conf, nodeConfig(n, nodes, store, o.partitions));
    const args = ['-c', conf, ...(o.logTo ? ['-l', o.logTo(n.name)] : [])];
    n.proc = spawn(o.binary ?? 'nats-server', args, { stdio: 'ignore' });
    n.proc.once('exit', () => (n.proc = null));
  };
  nodes.forEach(launch);
  await Promise.all(nodes.map((n) => waitForPort(n.clientPort, 15_000, 'nats-server')));
  await Promise.all(nodes.map((n) => waitForPort(n.mqttPort, 15_000, 'nats-server')));
  return {
    nodes,
    servers: nodes.map((n) => n.url).join(','),
    kill(i) {
      nodes[i].proc?.kill('SIGKILL');
    },
    async restart(i) {
      launch(nodes[i]);
      await waitForPort(nodes[i].clientPort, 15_000, 'nats-server');
    },
    async stop() {
      await Promise.all(nodes.map((n) => new Promise<void>((resolve) => {
        if (!n.proc) return resolve();
        n.proc.once('exit', () => resolve());
        n.proc.kill('SIGTERM');
        setTimeout(() => n.proc?.kill('SIGKILL'), 5000).unref();
      })));
    },
  };
}
