// `npm run soak`: an opt-in reliability soak (not part of `npm test`). Mosquitto with the
// settings the README recommends (persistence true, autosave_interval 1) and `edge-rnn
// run` (a child process, with state checkpoints) at a steady reading rate for --minutes,
// while the broker and the runtime are SIGKILLed (and the runtime sometimes SIGTERMed) at
// random times. At the end it prints what was sent, predicted (unique device/seq),
// dead-lettered and lost, and the runtime's RSS near the start and at the end.
//
//   npm run soak                          # 30 minutes
//   npm run soak -- --minutes 2 --rate 100 --devices 20 --seed 7
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { mosquittoPath, startBroker } from '../test/helpers/broker.js';
import { prng } from '../test/helpers/prng.js';

const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' }, rate: { type: 'string', default: '50' },
    devices: { type: 'string', default: '20' }, seed: { type: 'string', default: '1' },
    'kill-every': { type: 'string', default: '60' }, help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log('usage: npm run soak -- [--minutes 30] [--rate 50 readings/s] [--devices 20] [--kill-every 60 s on average] [--seed 1]');
  process.exit(0);
}
if (!mosquittoPath()) {
  console.error('soak: needs Mosquitto (apt-get install mosquitto)');
  process.exit(1);
}
const ROOT = new URL('../', import.meta.url).pathname;
const MODEL = join(ROOT, 'models/mote-forecaster.msgpack');
const minutes = Number(args.minutes);
const rate = Number(args.rate);
const devices = Number(args.devices);
const killEveryS = Number(args['kill-every']);
const rand = prng(Number(args.seed));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const rssKb = (pid: number | undefined): number => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
};

const broker = await startBroker({ autosaveIntervalS: 1 });
const stateDir = mkdtempSync(join(tmpdir(), 'edge-rnn-soak-'));
let runtime: ChildProcess | undefined;
let runtimeStarts = 0;
function startRun(): void {
  runtimeStarts++;
  runtime = spawn(process.execPath, [join(ROOT, 'bin/edge-rnn.mjs'), 'run', '--broker', broker.url, '--model', MODEL,
    '--instance', 'soak', '--state-dir', stateDir, '--model-store', 'none', '--health-interval', '0', '--log-level', 'warn'],
  { stdio: ['ignore', 'ignore', 'inherit'] });
}
startRun();

const sink = await mqtt.connectAsync(broker.url, { clientId: 'soak-sink', clean: false, protocolVersion: 5, reconnectPeriod: 200, properties: { sessionExpiryInterval: 3600 } });
const predicted = new Set<string>();
let predictionMessages = 0;
const deadLettered = new Set<string>();
sink.on('message', (topic, payload) => {
  const doc = JSON.parse(payload.toString()) as { device?: string; seq?: number; original?: { topic?: string; payload?: string } };
  if (topic.endsWith('/status')) return;
  if (topic.startsWith('predictions/')) {
    predictionMessages++;
    predicted.add(`${doc.device}/${doc.seq}`);
  } else deadLettered.add(`${doc.device ?? '?'}/${doc.seq ?? predictionMessages}`);
});
let online = false;
sink.on('message', (topic, payload) => {
  if (topic === 'edge-rnn/soak/status') online ||= JSON.parse(payload.toString()).state === 'online';
});
await sink.subscribeAsync(['predictions/+', 'edge-rnn/soak/dead-letter', 'edge-rnn/soak/status'], { qos: 1 });
// Readings sent before the runtime's first subscription would find no session to queue in.
while (!online) await sleep(50);
const pub = await mqtt.connectAsync(broker.url, { clientId: 'soak-pub', clean: false, protocolVersion: 5, reconnectPeriod: 200, properties: { sessionExpiryInterval: 3600 } });

const seq = new Array<number>(devices).fill(0);
let sent = 0;
const acks: Promise<unknown>[] = [];
const endAt = Date.now() + minutes * 60_000;
let nextKill = Date.now() + 10_000 + rand() * killEveryS * 2000;
let rssStart = NaN;
const kills = { broker: 0, runtimeKill: 0, runtimeTerm: 0 };
console.log(`soak: ${minutes} min, ${rate} readings/s over ${devices} devices, a kill every ~${killEveryS} s`);
while (Date.now() < endAt) {
  const d = sent % devices;
  const s = seq[d]++;
  const payload = JSON.stringify({ seq: s, values: { temperature: 20 + 3 * Math.sin(s / 50 + d), humidity: 40 + 5 * Math.cos(s / 70 + d) } });
  acks.push(pub.publishAsync(`sensors/mote-${d}/reading`, payload, { qos: 1 }));
  sent++;
  if (acks.length > 1000) await Promise.all(acks.splice(0));
  if (sent === rate * 20) rssStart = rssKb((runtime as ChildProcess | undefined)?.pid);
  if (Date.now() >= nextKill) {
    const what = rand();
    if (what < 0.4) {
      kills.broker++;
      await broker.kill();
      await sleep(300 + rand() * 1500);
      await broker.start();
    } else {
      const term = what > 0.8;
      term ? kills.runtimeTerm++ : kills.runtimeKill++;
      const r = runtime!;
      await new Promise<void>((res) => (r.once('exit', () => res()), r.kill(term ? 'SIGTERM' : 'SIGKILL')));
      await sleep(300 + rand() * 2000);
      startRun();
    }
    nextKill = Date.now() + rand() * killEveryS * 2000;
  }
  await sleep(1000 / rate);
}
await Promise.all(acks);
// Drain: until nothing new arrived for 10 s.
let last = -1;
while (predicted.size + deadLettered.size !== last) {
  last = predicted.size + deadLettered.size;
  await sleep(10_000);
}
const rssEnd = rssKb((runtime as ChildProcess | undefined)?.pid);
const lost = sent - predicted.size - deadLettered.size;
if (lost > 0) {
  const missing: string[] = [];
  for (let d = 0; d < devices && missing.length < 20; d++) for (let s = 0; s < seq[d] && missing.length < 20; s++) if (!predicted.has(`mote-${d}/${s}`)) missing.push(`mote-${d}/${s}`);
  console.log(`soak: first readings without a prediction: ${missing.join(' ')}`);
}
console.log(JSON.stringify({ sent, predicted: predicted.size, predictionMessages, deadLettered: deadLettered.size, lost, kills, runtimeStarts, rssStartMiB: +(rssStart / 1024).toFixed(1), rssEndMiB: +(rssEnd / 1024).toFixed(1) }));
console.log(`soak: sent ${sent}, predicted ${predicted.size} (${predictionMessages - predicted.size} redelivered twice), dead-lettered ${deadLettered.size}, lost ${lost}; RSS ${(rssStart / 1024).toFixed(1)} -> ${(rssEnd / 1024).toFixed(1)} MiB`);
(runtime as ChildProcess | undefined)?.kill('SIGTERM');
await Promise.all([pub.endAsync(), sink.endAsync()]);
await broker.close();
process.exit(lost === 0 ? 0 : 1);
