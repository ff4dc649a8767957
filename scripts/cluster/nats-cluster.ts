// `npm run cluster:local`: a whole cluster on this machine in one command: three
// nats-server nodes clustered on loopback (JetStream, an MQTT listener each, the partition
// mapping), the streams and buckets, and N `edge-rnn run --cluster` instances. Devices
// publish to any node's MQTT listener (e.g. `edge-rnn sim --broker <mqtt url>`);
// predictions come back on predictions/<device> there too. Ctrl-C stops everything.
//
//   npm run cluster:local -- [--instances 3] [--partitions 16] [--model models/example-lstm.msgpack]
//                            [--lease-ttl 3s] [--dir .tmp/cluster] [--trust key.pub]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from 'nats';
import { ensureClusterResources } from '../../src/io/cluster/resources.js';
import { startNatsCluster } from './nats-nodes.js';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '3' },
    partitions: { type: 'string', default: '16' },
    model: { type: 'string', default: join(ROOT, 'models/example-lstm.msgpack') },
    'lease-ttl': { type: 'string', default: '3s' },
    dir: { type: 'string', default: join(ROOT, '.tmp/cluster') },
    trust: { type: 'string', multiple: true, default: [] },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('npm run cluster:local -- [--instances N] [--partitions P] [--model FILE] [--lease-ttl 3s] [--dir DIR] [--trust KEY.pub]');
  process.exit(0);
}
const partitions = Number(values.partitions);
const count = Number(values.instances);
if (!Number.isSafeInteger(partitions) || partitions < 1 || !Number.isSafeInteger(count) || count < 1) {
  console.error('cluster:local: --partitions and --instances need whole numbers >= 1');
  process.exit(2);
}
const dir = resolve(values.dir);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

const nats = await startNatsCluster({ dir, partitions, logTo: (n) => join(dir, `${n}.log`) });
const nc = await connect({ servers: nats.servers.split(',') });
const leaseTtlMs = (await import('../../src/io/run-config.js')).parseDuration(values['lease-ttl']);
await ensureClusterResources(nc.jetstream({ timeout: 10_000 }), await nc.jetstreamManager({ timeout: 10_000, checkAPI: false }), { partitions, leaseTtlMs, replicas: 3 });
await nc.close();

const instances: ChildProcess[] = [];
for (let i = 1; i <= count; i++) {
  const log = join(dir, `edge-${i}.log`);
  instances.push(spawn(process.execPath, [
    join(ROOT, 'bin/edge-rnn.mjs'), 'run', '--cluster', nats.servers, '--instance', `edge-${i}`, '--model', values.model,
    '--partitions', String(partitions), '--lease-ttl', values['lease-ttl'], '--model-store', 'none', '--state-dir', 'none',
    ...values.trust.flatMap((k) => ['--trust', k]),
  ], { stdio: ['ignore', openSync(log, 'w'), 'inherit'] }));
}

console.log(`cluster up in ${dir}`);
for (const n of nats.nodes) console.log(`  ${n.name}: ${n.url}   MQTT ${n.mqttUrl}   log ${join(dir, `${n.name}.log`)}`);
console.log(`  ${count} edge-rnn instance(s): logs ${join(dir, 'edge-*.log')}`);
console.log(`try: node bin/edge-rnn.mjs sim --broker ${nats.nodes[0].mqttUrl}   (Ctrl-C here stops everything)`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('stopping the instances, then the nodes');
  await Promise.all(instances.map((p) => new Promise<void>((r) => {
    if (p.exitCode !== null) return r();
    p.once('exit', () => r());
    p.kill('SIGTERM');
    setTimeout(() => p.kill('SIGKILL'), 8000).unref();
  })));
  await nats.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
