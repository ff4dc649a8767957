// `npm run bench:mqtt`: readings/s and reading -> prediction latency through Mosquitto on
// loopback, for `edge-rnn run` (LSTM hidden 64, 1000 devices), the same `run` with its
// observability listener scraped every second and the status page's event stream open, and
// a plain mqtt.js relay (subscribe and republish, no inference). All three run at once, each
// in its own process on its own topics; this process publishes and collects. The floods
// are interleaved in rounds (the order rotates every round, so each system takes each slot)
// and the report gives medians and the per-round ratios: a single pass measured each system
// in one slot of a drifting machine, and its slot moved CPU per reading by up to 37 %.
//
//   node bin/ts.mjs scripts/bench/bench-mqtt.ts [--readings 50000] [--rounds 5] [--devices 1000] [--rate 2000] [--seconds 5]
//   BENCH_PROF=.tmp/prof npm run bench:mqtt    # CPU profiles of the relay and of both runs
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { encodeModel } from '../../src/model/codec.js';
import { initModel } from '../../src/model/init.js';
import { freePort, startBroker } from '../../test/helpers/broker.js';
import { get as httpGet } from 'node:http';
import { median, quantile } from './stats.js';

const USAGE = `usage: npm run bench:mqtt -- [--readings N (per flood, 50000)] [--rounds N (6, after one warm-up round)]
         [--load-rate N/s (5000: both runs at once, CPU per reading at a fixed load) --load-seconds N (6)]
         [--devices N (1000)] [--rate N/s (2000, the latency phase)] [--seconds N (5)]
         [--control (the third system without --http: an A/A run that shows the bench's own noise)]`;
const { values: args } = parseArgs({
  options: {
    role: { type: 'string' }, broker: { type: 'string' }, prefix: { type: 'string' },
    readings: { type: 'string', default: '50000' }, rounds: { type: 'string', default: '6' },
    devices: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '2000' }, seconds: { type: 'string', default: '5' },
    'load-rate': { type: 'string', default: '5000' }, 'load-seconds': { type: 'string', default: '6' },
    control: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
/** The topic prefix both runs subscribe to besides their own, for the concurrent load phase. */
const PAIR = 'bench/pair';
const ROOT = new URL('../../', import.meta.url).pathname;

// --- the relay: the floor any MQTT-in, MQTT-out service on mqtt.js pays -------------
async function relay(broker: string, prefix: string): Promise<void> {
  const c = await mqtt.connectAsync(broker, { clientId: `bench-relay-${process.pid}`, clean: true, protocolVersion: 5 });
  c.on('message', (topic, payload) => c.publish(`${prefix}/predictions/${topic.split('/')[2]}`, payload, { qos: 1 }));
  await c.subscribeAsync(`${prefix}/+/reading`, { qos: 1 });
  process.once('SIGTERM', () => process.exit(0)); // an orderly exit, so --cpu-prof writes its profile
  process.send?.('ready');
}

interface Phase {
  readingsPerS: number;
  p50: number;
  p99: number;
  received: number;
}

const now = () => performance.timeOrigin + performance.now();

/** Predictions of every system (`<prefix>/predictions/<device>`); counts and latencies of the one being measured. */
class Collector {
  lat: number[] = [];
  count = 0;
  lastAt = 0;
  /** Predictions that arrived for a system other than the one measured (a straggler would skew a round). */
  strays = 0;
  private measured: string[] = [];

  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload) => {
      const t = now();
      if (!this.measured.some((m) => topic.startsWith(m))) {
        this.strays++;
        return;
      }
      const doc = JSON.parse(payload.toString()) as { ts: number };
      this.lat.push(t - doc.ts);
      this.count++;
      this.lastAt = t;
    });
  }

  static async connect(url: string): Promise<Collector> {
    const client = await mqtt.connectAsync(url, { clientId: `bench-collect-${process.pid}`, clean: true, protocolVersion: 5 });
    await client.subscribeAsync('bench/+/predictions/+', { qos: 1 });
    return new Collector(client);
  }

  measure(systems: readonly System[]): void {
    this.measured = systems.map((s) => `${s.prefix}/`);
    this.lat = [];
    this.count = 0;
  }

  phase(t0: number): Phase {
    const lat = Float64Array.from(this.lat).sort();
    return { readingsPerS: this.count / ((this.lastAt - t0) / 1000), p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), received: this.count };
  }
}

function payload(device: number, seq: number): Buffer {
  return Buffer.from(JSON.stringify({ ts: now(), seq, values: { temperature: 20 + (seq % 17) * 0.3 + device * 0.001, humidity: 40 + (seq % 13) * 0.2 } }));
}

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/** One system under test: its process, its topics, and the next seq of its devices (seqs continue over its rounds). */
interface Spec {
  readonly name: string;
  /** Its own topics: `<prefix>/<device>/reading` in, `<prefix>/predictions/<device>` out. */
  readonly prefix: string;
  readonly role: 'relay' | 'plain' | 'observed';
  readonly argv: string[];
  /** Its observability listener's port (scraped and watched for the whole run). */
  readonly port?: number;
  /** The topic prefix it shares with its pair for the concurrent load phase (runs only). */
  readonly pair?: string;
}

interface System extends Spec {
  readonly child: ChildProcess;
  seq: number;
}

/** Flood: publish `total` readings QoS 1 as fast as the broker takes them (window 2000). */
async function flood(pub: MqttClient, col: Collector, sys: System, total: number, devices: number): Promise<Phase> {
  col.measure([sys]);
  const t0 = now();
  let inflight = 0;
  for (let i = 0; i < total; i++) {
    while (inflight >= 2000) await new Promise((r) => setImmediate(r));
    inflight++;
    const d = i % devices;
    pub.publish(`${sys.prefix}/dev-${d}/reading`, payload(d, sys.seq + Math.floor(i / devices)), { qos: 1 }, () => inflight--);
  }
  sys.seq += Math.ceil(total / devices);
  const ok = await waitUntil(() => col.count >= total, 120_000);
  if (!ok) console.error(`  ${sys.name}: only ${col.count} of ${total} arrived`);
  return col.phase(t0);
}

/**
 * Paced: `rate` readings/s spread over the devices for `seconds` on `<topicPrefix>/<device>/reading`,
 * which every system in `targets` subscribes to (one, or both runs at once); latency without queueing.
 */
async function paced(pub: MqttClient, col: Collector, targets: readonly System[], topicPrefix: string, rate: number, seconds: number, devices: number): Promise<Phase> {
  col.measure(targets);
  const seq = Math.max(...targets.map((t) => t.seq)); // targets share these readings, so their devices' seqs must agree
  const total = rate * seconds;
  const t0 = now();
  const tickMs = 10;
  const perTick = rate / (1000 / tickMs);
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - t0) / tickMs + 1) * perTick));
    for (; sent < due; sent++) {
      const d = sent % devices;
      pub.publish(`${topicPrefix}/dev-${d}/reading`, payload(d, seq + Math.floor(sent / devices)), { qos: 1 });
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  for (const t of targets) t.seq = seq + Math.ceil(total / devices);
  await waitUntil(() => col.count >= total * targets.length, 30_000);
  if (process.env.BENCH_TRACE) {
    const l = col.lat;
    const per = Math.ceil(l.length / 20);
    console.log('paced latency max per 5% slice (arrival order):', Array.from({ length: 20 }, (_, k) => Math.max(...l.slice(k * per, (k + 1) * per)).toFixed(0)).join(' '));
  }
  return col.phase(t0);
}

/** A Prometheus-like scraper (GET /metrics every second) and the status page's event stream, on `port`, for the whole run. */
function watchers(port: number): { stop(): string } {
  let scrapes = 0;
  let bytes = 0;
  let events = 0;
  const timer = setInterval(() => void fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).then((t) => ((scrapes++), (bytes += t.length)), () => undefined), 1000);
  const req = httpGet(`http://127.0.0.1:${port}/events`, (res) => res.on('data', (d: Buffer) => (events += (d.toString().match(/^event: /gm) ?? []).length)));
  req.on('error', () => undefined);
  return {
    stop() {
      clearInterval(timer);
      req.destroy();
      return `${scrapes} scrapes (${(bytes / Math.max(1, scrapes) / 1024).toFixed(1)} KiB each), ${events} page events`;
    },
  };
}

/**
 * CPU time (ms, user + system) a process has used so far, from /proc (Linux); NaN elsewhere.
 * The flood's CPU per reading of each system is its cost, whichever process is the
 * bottleneck: the relay is usually faster than the publisher here, so its readings/s
 * measure the publisher as much as the relay, and drift with the machine's load.
 */
function cpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in USER_HZ ticks (100 on Linux)
  } catch {
    return NaN;
  }
}

function startChild(argv: string[], readyWhen: (line: string) => boolean): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    // BENCH_PROF=<dir>: a CPU profile of each system under test (written when it exits).
    const prof = process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
    const child = spawn(process.execPath, [...prof, ...argv], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'], cwd: ROOT });
    let buf = '';
    child.on('message', (m) => m === 'ready' && resolve(child));
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split('\n')) if (readyWhen(line)) resolve(child);
      buf = buf.slice(buf.lastIndexOf('\n') + 1);
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

function positiveInt(name: string, v: string | undefined, min = 1): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`bench:mqtt: --${name} must be an integer >= ${min} (got ${v})\n${USAGE}`);
  return n;
}

interface Round {
  flood: Phase;
  /** CPU per reading in the flood, and at the fixed --load-rate (the same arrival pattern for every system). */
  cpuUs: number;
  loadCpuUs: number;
}

async function main(): Promise<void> {
  const total = positiveInt('readings', args.readings);
  const rounds = positiveInt('rounds', args.rounds);
  const devices = positiveInt('devices', args.devices);
  const rate = positiveInt('rate', args.rate);
  const seconds = positiveInt('seconds', args.seconds);
  const loadRate = positiveInt('load-rate', args['load-rate']);
  const loadSeconds = positiveInt('load-seconds', args['load-seconds']);
  const broker = await startBroker({ autosaveIntervalS: 1800 }); // Mosquitto's default
  process.once('exit', () => void broker.stop());
  const dir = mkdtempSync(join(tmpdir(), 'edge-rnn-bench-'));
  const modelPath = join(dir, 'lstm64.msgpack');
  writeFileSync(modelPath, encodeModel(initModel({
    name: 'bench-lstm64', inputs: ['temperature', 'humidity'], outputs: ['temperature', 'humidity'],
    cell: 'lstm', hiddenSizes: [64], dense: [{ size: 2, activation: 'linear' }],
  }, 1)));
  console.log(`bench:mqtt  ${broker.kind} on ${broker.url}; ${devices} devices; ${rounds} rounds (+1 warm-up) of a ${total}-reading flood per system; paced ${rate}/s for ${seconds}s; node ${process.version}`);

  const pub = await mqtt.connectAsync(broker.url, { clientId: `bench-pub-${process.pid}`, clean: true, protocolVersion: 5 });
  const col = await Collector.connect(broker.url);
  const runArgs = (prefix: string, pair: string) => [join(ROOT, 'bin/edge-rnn.mjs'), 'run', '--model', modelPath, '--broker', broker.url,
    '--instance', prefix.replace('/', '-'), '--topics', `${prefix}/+/reading,${pair}/+/reading`, '--prediction-topic', `${prefix}/predictions/{device}`,
    '--max-devices', String(devices * 2), '--health-interval', '0', '--log-level', 'info', '--session-expiry', '0',
    '--state-dir', 'none']; // states in memory only: nothing on disk differs between the runs
  const subscribed = (l: string) => l.includes('"subscribed"');
  // Issue 18: the same run with its observability listener, a scraper on /metrics every
  // second and the status page's event stream open, against the same run without them.
  // Two pairs, started in opposite orders: one process can sit a few per cent above its
  // identical twin in every round (8 % in one --control run, +1.3 % / -2.9 % in another);
  // the pairs' geometric mean averages that out.
  const plain = (prefix: string, pair: string): Spec => ({ name: `edge-rnn run (LSTM 64)`, prefix, role: 'plain', argv: runArgs(prefix, pair), pair });
  const observed = async (prefix: string, pair: string): Promise<Spec> => {
    if (args.control) return { name: 'edge-rnn run (LSTM 64), the control twin', prefix, role: 'observed', argv: runArgs(prefix, pair), pair };
    const port = await freePort();
    return { name: 'edge-rnn run --http, scraped 1/s, page open', prefix, role: 'observed', argv: [...runArgs(prefix, pair), '--http', `127.0.0.1:${port}`], port, pair };
  };
  const specs: Spec[] = [
    { name: 'relay (mqtt.js, no inference)', prefix: 'bench/relay', role: 'relay', argv: [join(ROOT, 'bin/ts.mjs'), join(ROOT, 'scripts/bench/bench-mqtt.ts'), '--role', 'relay', '--broker', broker.url, '--prefix', 'bench/relay'] },
    plain('bench/run-a', 'bench/pair-a'), await observed('bench/observed-a', 'bench/pair-a'),
    await observed('bench/observed-b', 'bench/pair-b'), plain('bench/run-b', 'bench/pair-b'),
  ];
  const systems: System[] = [];
  for (const spec of specs) {
    const child = await startChild(spec.argv, spec.role === 'relay' ? () => false : subscribed);
    process.once('exit', () => child.kill('SIGKILL'));
    systems.push({ ...spec, name: `${spec.name} [${spec.prefix.slice(6)}]`, child, seq: 0 });
  }
  const watches = systems.flatMap((s) => (s.port === undefined ? [] : [[s, watchers(s.port)] as const]));
  for (const sys of systems) await paced(pub, col, [sys], sys.prefix, 500, 1, devices); // first readings of every device
  const pairs = [systems.slice(1, 3), systems.slice(3, 5)].map((ps) => ({
    topic: ps[0].pair!,
    plain: ps.find((x) => x.role === 'plain')!, observed: ps.find((x) => x.role === 'observed')!, members: ps,
  }));

  const perRound = new Map<System, Round[]>(systems.map((s) => [s, []]));
  for (let r = 0; r <= rounds; r++) {
    // Rotated, and reversed every other round, so no system always follows the same one
    // (a fixed cyclic order made one run 15 % cheaper than its twin).
    const rotated = systems.map((_, i) => systems[(i + r) % systems.length]);
    const order = r % 2 ? rotated.reverse() : rotated;
    for (const sys of order) {
      await new Promise((res) => setTimeout(res, 1000)); // the previous flood's queues and garbage settle
      const cpu0 = cpuMs(sys.child.pid);
      const f = await flood(pub, col, sys, total, devices);
      const cpuUs = ((cpuMs(sys.child.pid) - cpu0) * 1000) / f.received;
      if (r > 0) perRound.get(sys)!.push({ flood: f, cpuUs, loadCpuUs: NaN }); // round 0 warms every system up
      console.log(`  round ${r}${r ? '' : ' (warm-up)'}: ${sys.name.padEnd(56)} flood ${f.readingsPerS.toFixed(0).padStart(6)} readings/s ${cpuUs.toFixed(1).padStart(5)} µs CPU/reading`);
    }
    // A pair's two runs at once on the same readings: the same arrivals and the same second
    // of the machine for each, so its drift (±25 % per round between two identical runs
    // measured one after the other) falls out of their ratio.
    for (const pair of r % 2 ? [...pairs].reverse() : pairs) {
      await new Promise((res) => setTimeout(res, 1000));
      const cpu0 = pair.members.map((sys) => cpuMs(sys.child.pid));
      const load = await paced(pub, col, pair.members, pair.topic, loadRate, loadSeconds, devices);
      const loadCpuUs = pair.members.map((sys, i) => ((cpuMs(sys.child.pid) - cpu0[i]) * 1000) / (load.received / pair.members.length));
      if (r > 0) pair.members.forEach((sys, i) => (perRound.get(sys)!.at(-1)!.loadCpuUs = loadCpuUs[i]));
      console.log(`  round ${r}${r ? '' : ' (warm-up)'}: ${pair.members.map((m) => m.prefix.slice(6)).join(' and ')} at once, ${loadRate}/s: ${loadCpuUs.map((u) => u.toFixed(1)).join(' and ')} µs CPU/reading`);
    }
  }
  const pacedBy = new Map<System, Phase>();
  for (const sys of systems) {
    await paced(pub, col, [sys], sys.prefix, 500, 1, devices); // warm the paced path
    pacedBy.set(sys, await paced(pub, col, [sys], sys.prefix, rate, seconds, devices));
  }
  for (const [sys, w] of watches) console.log(`  ${sys.name}: ${w.stop()}`);
  if (col.strays) console.log(`  ${col.strays} predictions arrived outside their system's measurement`);

  const fmt = (v: number) => v.toFixed(2).padStart(8);
  const range = (xs: number[], d = 1) => `${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}`;
  console.log(`\nmedians over ${rounds} rounds (range in brackets)\n`);
  console.log(`| system | flood readings/s | flood p50 ms | flood p99 ms | flood CPU µs/reading | CPU µs/reading at ${loadRate}/s, with its pair | paced readings/s | paced p50 ms | paced p99 ms |`);
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const sys of systems) {
    const rs = perRound.get(sys)!;
    const rps = rs.map((x) => x.flood.readingsPerS);
    const cpu = rs.map((x) => x.cpuUs);
    const loadCpu = rs.map((x) => x.loadCpuUs);
    const p = pacedBy.get(sys)!;
    console.log(`| ${sys.name} | ${median(rps).toFixed(0)} (${range(rps, 0)}) | ${fmt(median(rs.map((x) => x.flood.p50)))} | ${fmt(median(rs.map((x) => x.flood.p99)))} | ${median(cpu).toFixed(1)} (${range(cpu)}) | ${Number.isNaN(loadCpu[0]) ? '—' : `${median(loadCpu).toFixed(1)} (${range(loadCpu)})`} | ${p.readingsPerS.toFixed(0)} | ${fmt(p.p50)} | ${fmt(p.p99)} |`);
  }
  // Ratios within a round (the same minute of the machine), the geometric mean over the two
  // pairs (each start order once), then the median over rounds.
  const pct = (xs: number[], sign = '') => {
    const f = (x: number) => `${sign && x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
    return `${f(median(xs))} (rounds: ${xs.map(f).join(', ')})`;
  };
  const ratio = (pick: (x: Round) => number) => Array.from({ length: rounds }, (_, i) =>
    Math.sqrt(pairs.reduce((acc, p) => acc * (pick(perRound.get(p.observed)![i]) / pick(perRound.get(p.plain)![i])), 1)));
  const byPair = (pick: (x: Round) => number) => pairs.map((p) => `${p.observed.prefix.slice(6)} ÷ ${p.plain.prefix.slice(6)} ${pct(perRound.get(p.observed)!.map((x, i) => pick(x) / pick(perRound.get(p.plain)![i]) - 1), '+')}`).join('\n    ');
  console.log(args.control
    ? `\ncontrol: identical runs (no --http), per round, the twin against the run (the bench's noise floor):`
    : `\nwith --http, a 1 s scraper and the page's event stream, per round against run without:`);
  console.log(`  CPU per reading at ${loadRate}/s, pairs at once: ${pct(ratio((x) => x.loadCpuUs).map((x) => x - 1), '+')}  (target: under 5%; a CPU-bound run loses this share of its throughput)`);
  console.log(`    ${byPair((x) => x.loadCpuUs)}`);
  console.log(`  CPU per reading in the flood: ${pct(ratio((x) => x.cpuUs).map((x) => x - 1), '+')}`);
  console.log(`  flood throughput: ${pct(ratio((x) => x.flood.readingsPerS))}  (the flood is paced by the publisher as much as by the system)`);
  const relayR = perRound.get(systems[0])!;
  const runR = [pairs[0].plain, pairs[1].plain].map((s) => perRound.get(s)!);
  const vsRelay = (pick: (x: Round) => number) => relayR.map((rl, i) => Math.sqrt(runR.reduce((acc, rr) => acc * (pick(rr[i]) / pick(rl)), 1)));
  console.log(`\nedge-rnn run throughput = ${pct(vsRelay((x) => x.flood.readingsPerS))} of the relay (target >= 80%)`);
  const cost = vsRelay((x) => x.cpuUs);
  console.log(`edge-rnn run CPU per reading = ${pct(cost)} of the relay's (where both were held by their own CPU, run would reach ${(100 / median(cost)).toFixed(0)}% of the relay's throughput)`);
  for (const sys of systems) await stopChild(sys.child);
  await pub.endAsync();
  await col.client.endAsync();
  await broker.close();
}

if (args.help) console.log(USAGE);
else if (args.role === 'relay') await relay(args.broker!, args.prefix ?? 'bench/relay');
else {
  try {
    await main();
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
