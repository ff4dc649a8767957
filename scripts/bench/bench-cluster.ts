// `npm run bench:cluster`: readings/s through `edge-rnn run --cluster` with 1, 2 and 3
// instances on a three-node NATS cluster on loopback (JetStream R3, MQTT listener), next
// to `edge-rnn run` on Mosquitto measured in the same run, and the CPU each spends per
// reading (edge-rnn processes, broker processes). Devices publish QoS 1 over MQTT in both.
// This machine has 2 cores for everything (nodes, instances, publisher): expect no linear
// scaling; the CPU per reading is what the cluster adds.
//
//   node bin/ts.mjs scripts/bench/bench-cluster.ts [--readings 20000] [--devices 1000]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { connect } from 'nats';
import { encodeModel } from '../../src/model/codec.js';
import { initModel } from '../../src/model/init.js';
import { startBroker } from '../../test/helpers/broker.js';
import { startNatsCluster } from '../cluster/nats-nodes.js';

const { values: args } = parseArgs({ options: { readings: { type: 'string', default: '20000' }, devices: { type: 'string', default: '1000' } } });
const ROOT = new URL('../../', import.meta.url).pathname;
const total = Number(args.readings);
const devices = Number(args.devices);
const P = 16;

/** CPU ms (user + system) a process has used so far (Linux /proc). */
function cpuMs(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const x = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return ((Number(x[11]) + Number(x[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}
/** Our child processes named `comm` (the test helper does not expose Mosquitto's pid). */
function childPids(comm: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (name === comm && ppid === process.pid) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}
const cpuOf = (pids: (number | undefined)[]) => pids.reduce((s: number, p) => s + cpuMs(p), 0);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function flood(pubs: MqttClient[], count: () => number, tag: string): Promise<number> {
  const start = count();
  const t0 = performance.now();
  let inflight = 0;
  for (let i = 0; i < total; i++) {
    while (inflight >= 2000) await new Promise((r) => setImmediate(r));
    inflight++;
    const d = i % devices;
    const seq = Math.floor(i / devices);
    pubs[d % pubs.length].publish(`sensors/${tag}-${d}/reading`, JSON.stringify({ ts: 1_732_615_200_000 + seq * 1000, seq, values: { temperature: 20 + (seq % 17) * 0.3, humidity: 40 + (seq % 13) * 0.2 } }), { qos: 1 }, () => inflight--);
  }
  const until = Date.now() + 120_000;
  let last = count();
  let lastAt = performance.now();
  while (count() - start < total && Date.now() < until) {
    await sleep(50);
    if (count() !== last) [last, lastAt] = [count(), performance.now()];
  }
  if (count() - start < total) console.error(`  ${tag}: only ${count() - start} of ${total} predictions arrived`);
  return ((count() - start) / (lastAt - t0)) * 1000;
}

/** Publishes a probe reading every 300 ms until its prediction comes back (the system is ready). */
async function probe(pub: MqttClient, count: () => number, tag: string): Promise<void> {
  const start = count();
  for (let seq = 0; count() === start; seq++) {
    if (seq > 200) throw new Error(`${tag}: no prediction for the probe reading within a minute`);
    pub.publish(`sensors/probe-${tag}/reading`, JSON.stringify({ ts: 1_732_615_200_000 + seq * 1000, seq, values: { temperature: 20, humidity: 40 } }), { qos: 1 });
    await sleep(300);
  }
  await sleep(500);
}

function runEdge(argv: string[], log: string): ChildProcess {
  return spawn(process.execPath, [join(ROOT, 'bin/edge-rnn.mjs'), 'run', ...argv, '--health-interval', '0', '--log-level', 'warn', '--model-store', 'none', '--state-dir', 'none', '--max-devices', String(devices * 4)], { stdio: ['ignore', openSync(log, 'w'), 'inherit'] });
}

async function stop(children: ChildProcess[]): Promise<void> {
  await Promise.all(children.map((c) => new Promise<void>((r) => {
    if (c.exitCode !== null) return r();
    c.once('exit', () => r());
    c.kill('SIGTERM');
  })));
}

interface Row { system: string; perS: number; edgeUs: number; brokerUs: number }

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'edge-rnn-bench-cluster-'));
  const model = join(dir, 'lstm64.msgpack');
  writeFileSync(model, encodeModel(initModel({ name: 'bench-lstm64', inputs: ['temperature', 'humidity'], outputs: ['temperature', 'humidity'], cell: 'lstm', hiddenSizes: [64], dense: [{ size: 2, activation: 'linear' }] }, 1)));
  console.log(`bench:cluster  ${devices} devices, ${total} readings per phase (QoS 1 flood, window 2000), LSTM 64; node ${process.version}`);
  const rows: Row[] = [];

  // Baseline: one `edge-rnn run` on Mosquitto.
  const broker = await startBroker({ autosaveIntervalS: 1800 });
  const single = runEdge(['--model', model, '--broker', broker.url, '--instance', 'bench'], join(dir, 'mosquitto-run.log'));
  const col = await mqtt.connectAsync(broker.url, { clientId: 'bench-col', clean: true, protocolVersion: 5 });
  let got = 0;
  col.on('message', () => void got++);
  await col.subscribeAsync('predictions/+', { qos: 1 });
  const pub = await mqtt.connectAsync(broker.url, { clientId: 'bench-pub', clean: true, protocolVersion: 5 });
  const brokerPid = childPids('mosquitto')[0];
  await probe(pub, () => got, 'mq');
  let c0 = [cpuMs(single.pid), cpuMs(brokerPid)];
  let perS = await flood([pub], () => got, 'mq');
  rows.push({ system: 'run on Mosquitto (1 process)', perS, edgeUs: ((cpuMs(single.pid) - c0[0]) * 1000) / total, brokerUs: ((cpuMs(brokerPid) - c0[1]) * 1000) / total });
  await Promise.all([pub.endAsync(), col.endAsync()]);
  await stop([single]);
  await broker.stop();

  // The cluster: 1, 2, 3 instances on three nodes.
  const nats = await startNatsCluster({ dir: join(dir, 'nats'), partitions: P });
  const nc = await connect({ servers: nats.servers.split(',') });
  let preds = 0;
  const sub = nc.subscribe('predictions.>', { callback: () => void preds++ });
  const nodePids = nats.nodes.map((n) => n.proc?.pid);
  const pubs = await Promise.all(nats.nodes.map((n, i) => mqtt.connectAsync(n.mqttUrl, { clientId: `bench-pub-${i}`, clean: true, protocolVersion: 4 })));
  const instances: ChildProcess[] = [];
  for (const k of [1, 2, 3]) {
    instances.push(runEdge(['--model', model, '--cluster', nats.servers, '--instance', `edge-${k}`, '--partitions', String(P)], join(dir, `edge-${k}.log`)));
    if (k === 1) await probe(pubs[0], () => preds, 'c1');
    else await sleep(8_000); // the partitions settle on the new member set
    c0 = [cpuOf(instances.map((c) => c.pid)), cpuOf(nodePids)];
    await sleep(1000);
    perS = await flood(pubs, () => preds, `c${k}`);
    rows.push({ system: `run --cluster, ${k} instance${k > 1 ? 's' : ''}`, perS, edgeUs: ((cpuOf(instances.map((c) => c.pid)) - c0[0]) * 1000) / total, brokerUs: ((cpuOf(nodePids) - c0[1]) * 1000) / total });
  }
  sub.unsubscribe();
  await Promise.all(pubs.map((p) => p.endAsync()));
  await nc.close();
  await stop(instances);
  await nats.stop();

  console.log('\n| system | readings/s | edge-rnn CPU µs/reading | broker CPU µs/reading | total CPU µs/reading |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.system} | ${r.perS.toFixed(0)} | ${r.edgeUs.toFixed(0)} | ${r.brokerUs.toFixed(0)} | ${(r.edgeUs + r.brokerUs).toFixed(0)} |`);
  const base = rows[0];
  for (const r of rows.slice(1)) console.log(`${r.system}: ${(r.perS / base.perS).toFixed(2)}x the readings/s of run on Mosquitto, ${((r.edgeUs + r.brokerUs) / (base.edgeUs + base.brokerUs)).toFixed(2)}x its CPU per reading`);
  process.exit(0);
}

await main();
