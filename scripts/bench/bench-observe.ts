// The CPU cost of observability (issue 18) without a broker, so the numbers do not drown
// in the noise of a shared machine: the live path of `run` (as bench:line) with and without
// the observer's per-message taps, in the same process in alternating chunks; and the
// fixed costs a scraper and an open status page add per second (one /metrics document,
// one event-stream update with 8 charted devices).
//
//   npm run bench:observe -- [--readings 100000] [--devices 1000] [--rounds 7]
import { parseArgs } from 'node:util';
import { Subject } from 'rxjs';
import { silentLogger } from '../../src/io/logger.js';
import { Observer } from '../../src/io/observe/observer.js';
import type { Runtime } from '../../src/io/runtime/options.js';
import { initModel } from '../../src/model/init.js';
import { createSession } from '../../src/runtime/session.js';
import { createCounters } from '../../src/stream/counters.js';
import type { Incoming, Outgoing } from '../../src/stream/events.js';
import { inferenceLine } from '../../src/stream/inference-line.js';
import { summarize } from './stats.js';

const { values: args } = parseArgs({ options: { readings: { type: 'string', default: '100000' }, devices: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '7' } } });
const total = Number(args.readings);
const devices = Number(args.devices);
const rounds = Number(args.rounds);
if (!Number.isInteger(rounds) || rounds < 2) throw new Error(`--rounds must be an integer >= 2 (the first round is a warm-up), got ${args.rounds}`);
const CHUNK = 2000;
const model = initModel({ name: 'bench-lstm64', inputs: ['temperature', 'humidity'], outputs: ['temperature', 'humidity'], cell: 'lstm', hiddenSizes: [64], dense: [{ size: 2, activation: 'linear' }] }, 1);

function messages(round: number): { topic: string; payload: Buffer }[] {
  return Array.from({ length: total }, (_, i) => {
    const d = i % devices;
    const seq = round * Math.ceil(total / devices) + Math.floor(i / devices);
    return { topic: `sensors/dev-${d}/reading`, payload: Buffer.from(JSON.stringify({ ts: 1_764_158_400_000 + i, seq, values: { temperature: 20 + (seq % 17) * 0.3, humidity: 40 + (seq % 13) * 0.2 } })) };
  });
}

function line(observed: boolean): { handle(topic: string, payload: Buffer): void; observer: Observer | null; us: number[]; published: () => number } {
  const counters = createCounters();
  const runtime = {
    counters, checkpoints: { checkpointRestored: 0, checkpointColdStarts: 0, checkpointWrites: 0, checkpointWriteErrors: 0 },
    client: { connected: true, on: () => undefined, publish: () => undefined }, clientId: 'b', statusTopic: 'edge-rnn/bench/status',
    model: () => ({ name: model.name, version: model.modelVersion }), ready: Promise.resolve(), closed: Promise.resolve(), stop: async () => undefined,
  } as unknown as Runtime;
  const observer = observed ? new Observer(model, { instance: 'bench', log: silentLogger() }) : null;
  void observer?.start(runtime);
  const input = new Subject<Incoming>();
  let published = 0;
  input.pipe(inferenceLine(createSession(model), {
    topics: ['sensors/+/reading'], counters, instance: 'bench', predictionTopic: 'predictions/{device}', deadLetterTopic: 'edge-rnn/{instance}/dead-letter',
    maxDevices: devices * 2, clock: () => performance.now(),
    onTable: (t) => observer?.taps.onTable(t),
  })).subscribe((out: Outgoing) => {
    if (out.payload) published++;
    out.event.origin.ack?.();
    observer?.taps.onOutgoing(out);
  });
  return { observer, us: [], published: () => published, handle: (topic, payload) => input.next({ receivedAt: Date.now(), arrivedAt: performance.now(), topic, payload }) };
}

const lines = [line(false), line(true)];
for (let r = 0; r < rounds; r++) {
  const msgs = messages(r);
  const cpu = [0, 0];
  for (let c = 0; c < msgs.length; c += CHUNK) {
    for (let k = 0; k < 2; k++) {
      const li = (k + c / CHUNK) % 2;
      const cpu0 = process.cpuUsage();
      for (let i = c; i < Math.min(msgs.length, c + CHUNK); i++) lines[li].handle(msgs[i].topic, msgs[i].payload);
      const d = process.cpuUsage(cpu0);
      cpu[li] += d.user + d.system;
    }
  }
  if (r > 0) cpu.forEach((us, k) => lines[k].us.push(us / msgs.length));
}
for (const l of lines) if (l.published() !== rounds * total) throw new Error(`expected ${rounds * total} predictions, got ${l.published()}`);

const fixed = (f: () => unknown, n = 300): number => {
  for (let i = 0; i < 20; i++) f();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) f();
  const d = process.cpuUsage(cpu0);
  return (d.user + d.system) / n;
};
const obs = lines[1].observer!;
const scrapeUs = fixed(() => obs.metrics());
const cursors = new Map<string, number>();
const updateUs = fixed(() => JSON.stringify(obs.snapshot(cursors)));
const snapshotUs = fixed(() => JSON.stringify(obs.snapshot(null)), 100);
const [plain, tapped] = lines.map((l) => summarize(l.us).median);
console.log(`bench:observe  LSTM 64, ${devices} devices, ${total} messages x ${rounds - 1} rounds; node ${process.version}`);
console.log(`live path: ${plain.toFixed(2)} µs CPU/message without the observer, ${tapped.toFixed(2)} with its taps (${(((tapped - plain) / plain) * 100).toFixed(1)}%)`);
console.log(`per second with a scraper and an open page: /metrics ${scrapeUs.toFixed(0)} µs (${obs.metrics().length} bytes), page update ${updateUs.toFixed(0)} µs; a page's first snapshot ${snapshotUs.toFixed(0)} µs`);
for (const rate of [1000, 10_000, 20_000]) {
  const cost = ((tapped - plain) * rate + scrapeUs + updateUs) / (plain * rate);
  console.log(`at ${rate} readings/s: observability costs ${(cost * 100).toFixed(2)}% of the live path's CPU`);
}
