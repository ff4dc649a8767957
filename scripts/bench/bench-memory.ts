// `npm run bench:memory`: resident memory (RSS, from /proc/<pid>/status) of the device
// bundle's `edge-rnn run` idle and at steady state under 1 000 readings/s over 10 000
// devices, next to a bare mqtt.js subscriber (scripts/bench/bare-subscriber.mjs: same
// topics, QoS and session, does nothing) and a bare `node`, all measured at once under the
// same load through one Mosquitto. `run` runs twice: with the node flags of the systemd
// unit (read from scripts/edge-rnn.service, so the bench measures what a device runs) and
// with node's defaults. Each process is its own child; this one publishes and counts the
// predictions. Linux only (/proc).
//
//   npm run bench:memory [-- --minutes 5 --rate 1000 --devices 10000 --idle 30 --breakdown --heap-snapshot]
//   npm run bench:memory -- --minutes 1 --baseline /tmp/old-device.mjs "--try-flags=--max-semi-space-size=2"
//
// Results and what they mean: docs/deploy.md#memory, BENCHMARKS.md#benchmemory.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { bundle } from '../bundle.js';
import { startBroker } from '../../test/helpers/broker.js';
import { median } from './stats.js';

const HELP = `usage: npm run bench:memory -- [options]
  --minutes N       minutes of load before the steady state is read (default 5)
  --rate N          readings per second published (default 1000)
  --devices N       distinct devices the readings rotate over (default 10000)
  --idle N          seconds connected without readings before the idle RSS is read (default 30)
  --model FILE      model the runtime serves (default models/mote-forecaster.msgpack)
  --no-build        measure dist/edge-rnn-device.mjs as it is (default: npm run bundle first)
  --baseline FILE   also run another device bundle (e.g. built from an older commit) with the
                    unit's flags, for before/after numbers from the same run
  --try-flags=F     also run the device bundle with node flags F (repeatable), to compare flag sets
  --breakdown       preload scripts/bench/memory-probe.mjs into every process and print
                    process.memoryUsage(), V8's heap spaces and GC counts at the end
  --heap-snapshot   at 90 % of the load, write a V8 heap snapshot of each process (SIGUSR2), print where
  -h, --help        this text`;

function usageError(message: string): never {
  console.error(`bench:memory: ${message} (--help for the options)`);
  process.exit(2);
}

function parse() {
  return parseArgs({ options: {
    minutes: { type: 'string', default: '5' }, rate: { type: 'string', default: '1000' },
    devices: { type: 'string', default: '10000' }, idle: { type: 'string', default: '30' },
    model: { type: 'string', default: 'models/mote-forecaster.msgpack' },
    'no-build': { type: 'boolean', default: false }, baseline: { type: 'string' }, 'try-flags': { type: 'string', multiple: true, default: [] }, breakdown: { type: 'boolean', default: false },
    'heap-snapshot': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false },
  } });
}

const { values: args } = (() => {
  try {
    return parse();
  } catch (e) {
    return usageError((e as Error).message.split('\n')[0]);
  }
})();
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
const ROOT = new URL('../../', import.meta.url).pathname;
const MINUTES = Number(args.minutes);
const RATE = Number(args.rate);
const DEVICES = Number(args.devices);
const IDLE_S = Number(args.idle);
for (const [k, v] of Object.entries({ minutes: MINUTES, rate: RATE, devices: DEVICES, idle: IDLE_S })) {
  if (!(v > 0) || !Number.isFinite(v)) usageError(`--${k}: expected a positive number, got ${JSON.stringify(args[k as keyof typeof args])}`);
}

/** The node flags between the node binary and the bundle in the unit's ExecStart line. */
export function unitNodeFlags(unit: string): string[] {
  const line = unit.split('\n').find((l) => l.startsWith('ExecStart='));
  if (!line) throw new Error('scripts/edge-rnn.service: no ExecStart= line');
  const words = line.slice('ExecStart='.length).trim().split(/\s+/);
  const at = words.findIndex((w) => w.endsWith('/edge-rnn.mjs'));
  if (at < 1) throw new Error(`scripts/edge-rnn.service: ExecStart is not "node [flags] DIR/edge-rnn.mjs run": ${line}`);
  return words.slice(1, at);
}

interface Sample {
  readonly t: number;
  readonly rss: number;
}

interface Measured {
  readonly name: string;
  readonly flags: string[];
  readonly child: ChildProcess;
  readonly samples: Sample[];
  /** Predictions it published (a runtime), counted by the collector. */
  predictions: number;
  probeFile?: string;
  cpuAtLoad?: number;
}

const MB = 1024 * 1024;

/** VmRSS (bytes) of a process, from /proc; NaN once it is gone. */
function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU time (ms, user + system) a process has used so far, from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/** Starts `node [flags] argv` in cwd; resolves once a stdout line satisfies `ready`. */
function start(name: string, flags: string[], argv: string[], cwd: string, ready: (line: string) => boolean, probe?: string): Promise<Measured> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' };
  const pre = probe ? ['--import', join(ROOT, 'scripts/bench/memory-probe.mjs')] : [];
  if (probe) env.BENCH_MEMORY_PROBE = probe;
  const child = spawn(process.execPath, [...flags, ...pre, ...argv], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  process.once('exit', () => child.kill('SIGKILL'));
  const m: Measured = { name, flags, child, samples: [], predictions: 0, ...(probe ? { probeFile: probe } : {}) };
  return new Promise((resolvePromise, reject) => {
    let buf = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      if (lines.some(ready)) resolvePromise(m);
    });
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}: ${err}`)));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function reading(device: number, seq: number): Buffer {
  const x = (seq + device) / 20;
  return Buffer.from(JSON.stringify({ ts: Date.now(), seq, values: {
    temperature: Math.round((27 + 2 * Math.sin(x) + (device % 7) * 0.3) * 100) / 100,
    humidity: Math.round((40 + 3 * Math.cos(x / 3) + (device % 5) * 0.5) * 100) / 100,
  } }));
}

/** Publishes `rate` readings/s (QoS 1) round-robin over `devices` for `seconds`; returns how many. */
async function publishFor(pub: MqttClient, rate: number, devices: number, seconds: number, onTick: () => void): Promise<{ sent: number; seconds: number; acked: number }> {
  const t0 = performance.now();
  const tickMs = 10;
  const total = Math.round(rate * seconds);
  let sent = 0;
  let acked = 0;
  let lastTick = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate) + 1);
    for (; sent < due; sent++) {
      const d = sent % devices;
      pub.publish(`sensors/dev-${d}/reading`, reading(d, Math.floor(sent / devices)), { qos: 1 }, () => void acked++);
    }
    if (performance.now() - lastTick >= 1000) {
      lastTick = performance.now();
      onTick();
    }
    await sleep(tickMs);
  }
  return { sent, seconds: (performance.now() - t0) / 1000, acked };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

const fmt = (bytes: number) => (bytes / MB).toFixed(1);

async function main(): Promise<void> {
  const unitFlags = unitNodeFlags(readFileSync(join(ROOT, 'scripts/edge-rnn.service'), 'utf8'));
  const tmp = mkdtempSync(join(tmpdir(), 'edge-rnn-memory-'));
  // The device's layout: the bundle alone in its folder, the model in models/ beside it
  // (so the default state dir, models/state/<instance>, checkpoints as on a device).
  const app = join(tmp, 'app');
  mkdirSync(join(app, 'models'), { recursive: true });
  const bundled = args['no-build'] ? join(ROOT, 'dist/edge-rnn-device.mjs') : (await bundle(join(tmp, 'build', 'edge-rnn-device.mjs'), 'device')).outfile;
  if (!existsSync(bundled)) throw new Error(`${bundled}: no device bundle (npm run bundle, or leave out --no-build)`);
  copyFileSync(bundled, join(app, 'edge-rnn.mjs'));
  const modelFile = join(app, 'models', basename(args.model!));
  copyFileSync(resolve(ROOT, args.model!), modelFile);
  const modelName = (JSON.parse(await new Promise<string>((res, rej) => {
    const p = spawn(process.execPath, [join(app, 'edge-rnn.mjs'), 'inspect', '--json', modelFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.once('exit', (code) => (code === 0 ? res(out) : rej(new Error(`inspect ${modelFile} exited with ${code}`))));
  })) as { name: string }).name;

  const broker = await startBroker({ autosaveIntervalS: 1800 }); // Mosquitto's default
  process.once('exit', () => void broker.stop());
  console.log(`bench:memory  ${broker.kind} on ${broker.url}; node ${process.version}; ${cpus().length} cores (${cpus()[0]?.model.trim()})`);
  console.log(`  device bundle ${(readFileSync(bundled).length / 1024).toFixed(1)} KiB; model ${modelName}; ${RATE} readings/s over ${DEVICES} devices for ${MINUTES} min after ${IDLE_S} s idle`);
  console.log(`  unit node flags (scripts/edge-rnn.service): ${unitFlags.join(' ') || '(none)'}`);

  const topics = ['sensors/+/reading', `models/${modelName}`];
  const probe = (n: string) => (args.breakdown ? join(tmp, `probe-${n}.jsonl`) : undefined);
  const snap = args['heap-snapshot'] ? ['--heapsnapshot-signal=SIGUSR2'] : [];
  if (args.baseline) copyFileSync(resolve(args.baseline), join(app, 'baseline.mjs'));
  const runArgs = (instance: string, file = 'edge-rnn.mjs') => [join(app, file), 'run', '--broker', broker.url, '--model', modelFile,
    '--instance', instance, '--prediction-topic', 'predictions/{instance}/{device}', '--max-devices', String(Math.max(DEVICES, 10_000))];
  const isSubscribed = (l: string) => l.includes('"subscribed"') || l === 'subscribed';
  const bare = ['-e', 'setInterval(() => {}, 1 << 30); console.log("subscribed")'];
  const subscriber = (id: string) => [join(ROOT, 'scripts/bench/bare-subscriber.mjs'), broker.url, id, ...topics];
  const specs: [string, string[], string[]][] = [
    ['node (bare, no MQTT)', [], bare],
    ['bare mqtt.js subscriber', [], subscriber('bench-bare')],
    ...(unitFlags.length ? [['bare mqtt.js subscriber, unit flags', unitFlags, subscriber('bench-bare-flags')] as [string, string[], string[]]] : []),
    ['edge-rnn run, node defaults', [], runArgs('mem-defaults')],
    ...(unitFlags.length ? [['edge-rnn run, unit flags', unitFlags, runArgs('mem-unit')] as [string, string[], string[]]] : []),
    ...args['try-flags']!.map((f, i) => [`edge-rnn run, tried flags ${i + 1}`, f.split(/\s+/).filter(Boolean), runArgs(`mem-try-${i + 1}`)] as [string, string[], string[]]),
    ...(args.baseline ? [[`baseline ${basename(args.baseline)}, unit flags`, unitFlags, runArgs('mem-baseline', 'baseline.mjs')] as [string, string[], string[]]] : []),
  ];
  const procs: Measured[] = [];
  for (const [i, [name, flags, argv]] of specs.entries()) procs.push(await start(name, [...flags, ...snap], argv, app, isSubscribed, probe(String(i))));
  const runs = new Map<string, Measured>([['mem-defaults', procs.find((p) => p.name.startsWith('edge-rnn run, node'))!]]);
  if (unitFlags.length) runs.set('mem-unit', procs.find((p) => p.name === 'edge-rnn run, unit flags')!);
  args['try-flags']!.forEach((_, i) => runs.set(`mem-try-${i + 1}`, procs.find((p) => p.name === `edge-rnn run, tried flags ${i + 1}`)!));
  if (args.baseline) runs.set('mem-baseline', procs.find((p) => p.name.startsWith('baseline '))!);

  const collector = await mqtt.connectAsync(broker.url, { clientId: 'bench-mem-collect', clean: true, protocolVersion: 5 });
  let deadLetters = 0;
  collector.on('message', (topic) => {
    if (topic.startsWith('predictions/')) {
      const r = runs.get(topic.slice(12, topic.indexOf('/', 12)));
      if (r) r.predictions++;
    } else deadLetters++;
  });
  // QoS 0 to the collector: the runtimes still publish QoS 1, the broker does less for the count.
  await collector.subscribeAsync(['predictions/#', 'edge-rnn/+/dead-letter'], { qos: 0 });

  let phase: 'idle' | 'load' | 'after' = 'idle';
  const phaseStart = { idle: Date.now(), load: 0, after: 0 };
  const sampleAll = () => {
    const t = Date.now();
    for (const p of procs) p.samples.push({ t, rss: rssOf(p.child.pid!) });
  };
  const sampler = setInterval(sampleAll, 1000);
  process.stdout.write(`  idle ${IDLE_S} s ...`);
  await sleep(IDLE_S * 1000);
  const idleRss = new Map(procs.map((p) => [p, median(p.samples.slice(-10).map((s) => s.rss))]));

  const pub = await mqtt.connectAsync(broker.url, { clientId: 'bench-mem-pub', clean: true, protocolVersion: 5 });
  phase = 'load';
  phaseStart.load = Date.now();
  for (const p of procs) p.cpuAtLoad = cpuMs(p.child.pid!);
  process.stdout.write(` load ${MINUTES} min `);
  // --heap-snapshot: while the load runs (at 90 %), so the snapshot holds what the load keeps alive.
  const snapTimer = args['heap-snapshot'] ? setTimeout(() => procs.forEach((p) => p.child.kill('SIGUSR2')), MINUTES * 60_000 * 0.9) : null;
  let ticks = 0;
  const load = await publishFor(pub, RATE, DEVICES, MINUTES * 60, () => ++ticks % 30 === 0 && process.stdout.write('.'));
  const loadEnd = Date.now();
  const cpuLoad = new Map(procs.map((p) => [p, (cpuMs(p.child.pid!) - p.cpuAtLoad!) / (loadEnd - phaseStart.load)]));
  phase = 'after';
  phaseStart.after = loadEnd;
  const drainUntil = Date.now() + 30_000;
  while ([...runs.values()].some((r) => r.predictions < load.sent) && Date.now() < drainUntil) await sleep(100);
  clearInterval(sampler);
  console.log(' done\n');
  void phase;

  // Steady state: the mean over the last minute of load (the last half for shorter runs).
  const steadyFrom = loadEnd - Math.min(60_000, ((loadEnd - phaseStart.load) / 2));
  const during = (p: Measured, from: number, to: number) => p.samples.filter((s) => s.t >= from && s.t <= to).map((s) => s.rss);
  const bareSub = procs.find((p) => p.name === 'bare mqtt.js subscriber')!;
  const steady = new Map(procs.map((p) => [p, mean(during(p, steadyFrom, loadEnd))]));
  const minuteCols = Array.from({ length: Math.ceil(MINUTES) }, (_, k) => k);
  console.log(`| process | node flags | idle RSS MB | steady RSS MB | peak RSS MB | RSS by minute of load (mean), MB | steady − bare subscriber MB | CPU under load |`);
  console.log('|---|---|---:|---:|---:|---|---:|---:|');
  for (const p of procs) {
    const byMinute = minuteCols.map((k) => fmt(mean(during(p, phaseStart.load + k * 60_000, Math.min(loadEnd, phaseStart.load + (k + 1) * 60_000))))).join(' / ');
    const peak = Math.max(...during(p, phaseStart.load, loadEnd));
    const diff = steady.get(p)! - steady.get(bareSub)!;
    console.log(`| ${p.name} | ${p.flags.join(' ') || '—'} | ${fmt(idleRss.get(p)!)} | ${fmt(steady.get(p)!)} | ${fmt(peak)} | ${byMinute} | ${p === bareSub ? '—' : (diff >= 0 ? '+' : '') + fmt(diff)} | ${(cpuLoad.get(p)! * 100).toFixed(0)}% |`);
  }
  const seconds = load.seconds;
  console.log(`\nload: ${load.sent} readings in ${seconds.toFixed(1)} s = ${(load.sent / seconds).toFixed(0)}/s published (target ${RATE}/s), ${load.acked} acknowledged by the broker`);
  for (const [instance, r] of runs) console.log(`  ${r.name} (${instance}): ${r.predictions} predictions received (${((100 * r.predictions) / load.sent).toFixed(1)}% of the readings)`);
  console.log(`  dead letters: ${deadLetters}`);
  const headline = runs.get(unitFlags.length ? 'mem-unit' : 'mem-defaults')!;
  const over = steady.get(headline)! - steady.get(bareSub)!;
  console.log(`\n${headline.name}: steady ${fmt(steady.get(headline)!)} MB = bare mqtt.js subscriber ${fmt(steady.get(bareSub)!)} MB ${over >= 0 ? '+' : '-'} ${fmt(Math.abs(over))} MB (target: within +30 MB): ${over <= 30 * MB ? 'met' : `missed by ${fmt(over - 30 * MB)} MB`}`);

  if (args.breakdown) {
    printBreakdown(procs, phaseStart.load, loadEnd);
    printMappings(procs);
  }
  if (snapTimer) {
    console.log(`\nheap snapshots (node --heapsnapshot-signal=SIGUSR2, written at 90 % of the load: they disturb the steady-state numbers) in ${app}:`);
    for (const f of readdirSync(app).filter((f) => f.endsWith('.heapsnapshot'))) console.log(`  ${f}`);
  }
  await pub.endAsync();
  await collector.endAsync();
  for (const p of procs) {
    const exited = new Promise((r) => p.child.once('exit', r));
    p.child.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
  }
  await broker.close();
}

interface ProbeLine {
  t: number; rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number;
  mallocedMemory: number; code: number; spaces: Record<string, { size: number; used: number }>;
  gc: { minor: number; major: number; minorMs: number; majorMs: number };
}

/** process.memoryUsage() and V8's heap spaces at the end of the load, GCs during it (MB). */
function printBreakdown(procs: Measured[], from: number, to: number): void {
  console.log('\nat the end of the load (memory-probe.mjs, MB; GCs per second of load):');
  console.log('| process | rss | heapTotal | heapUsed | new space | old space (used) | code space | large objects | external | arrayBuffers | malloced | scavenges/s | mark-compacts |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const p of procs) {
    const lines = readFileSync(p.probeFile!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ProbeLine);
    const first = lines.find((l) => l.t >= from) ?? lines[0];
    const last = [...lines].reverse().find((l) => l.t <= to) ?? lines[lines.length - 1];
    const s = last.spaces;
    const secs = (last.t - first.t) / 1000;
    console.log(`| ${p.name} | ${last.rss} | ${last.heapTotal} | ${last.heapUsed} | ${s.new_space?.size} | ${s.old_space?.size} (${s.old_space?.used}) | ${s.code_space?.size} | ${s.large_object_space?.size} | ${last.external} | ${last.arrayBuffers} | ${last.mallocedMemory} | ${((last.gc.minor - first.gc.minor) / secs).toFixed(1)} | ${last.gc.major - first.gc.major} |`);
  }
}

/**
 * Where the RSS sits in the address space, from /proc/<pid>/smaps: files (node's binary
 * and libraries), glibc's main heap ([heap]: malloc), anonymous mappings (V8's heap pages,
 * large mallocs, other threads' malloc arenas), and the biggest anonymous ones.
 */
function printMappings(procs: Measured[]): void {
  console.log('\nRSS by mapping at the end (/proc/<pid>/smaps, MB; anon top: RSS/size of the largest anonymous mappings):');
  console.log('| process | files | [heap] (malloc) | anonymous | stacks | anon top 4 |');
  console.log('|---|---:|---:|---:|---:|---|');
  for (const p of procs) {
    let text = '';
    try {
      text = readFileSync(`/proc/${p.child.pid}/smaps`, 'utf8');
    } catch {
      continue;
    }
    const sums = { file: 0, heap: 0, anon: 0, stack: 0 };
    const anon: { rss: number; size: number }[] = [];
    let kind: keyof typeof sums = 'anon';
    let size = 0;
    for (const line of text.split('\n')) {
      const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
      if (head) {
        const name = head[1];
        kind = name === '[heap]' ? 'heap' : name.startsWith('[stack') ? 'stack' : name.startsWith('/') ? 'file' : 'anon';
        continue;
      }
      const f = /^(Size|Rss):\s+(\d+) kB/.exec(line);
      if (!f) continue;
      const kb = Number(f[2]) * 1024;
      if (f[1] === 'Size') size = kb;
      else {
        sums[kind] += kb;
        if (kind === 'anon') anon.push({ rss: kb, size });
      }
    }
    const top = anon.sort((a, b) => b.rss - a.rss).slice(0, 4).map((m) => `${fmt(m.rss)}/${fmt(m.size)}`).join(', ');
    console.log(`| ${p.name} | ${fmt(sums.file)} | ${fmt(sums.heap)} | ${fmt(sums.anon)} | ${fmt(sums.stack)} | ${top} |`);
  }
}

await main();
process.exit(0);
