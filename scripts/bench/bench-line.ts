// `npm run bench:line`: the broker-free cost per message of the live path of `edge-rnn
// run` — what the runtime does for one MQTT message between mqtt.js handing it over and
// handing the prediction back: the origin with its ack (as src/io/mqtt-runtime.ts builds
// it), the inference line (parse, step per device, encode) and the subscriber's
// Buffer view + ack. Same model and readings as bench:mqtt (LSTM hidden 64, 1000
// devices, JSON readings), all messages built before the clock starts.
//
//   node bin/ts.mjs scripts/bench/bench-line.ts [--readings 100000] [--devices 1000] [--rounds 7]
//   node bin/ts.mjs scripts/bench/bench-line.ts --baseline /path/to/other/checkout
//   node --cpu-prof --cpu-prof-dir=.tmp/prof bin/ts.mjs scripts/bench/bench-line.ts   # a profile
//
// --baseline runs another checkout's line (e.g. a `git worktree` of the commit before a
// change) in the same process, alternating chunks of 2000 messages between the two: on a
// shared machine the speed of the core drifts by tens of percent within seconds, and
// interleaving makes both sides see the same drift.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Subject } from 'rxjs';
import { initModel } from '../../src/model/init.js';
import type { Outgoing } from '../../src/stream/events.js';
import { summarize } from './stats.js';

const { values: args } = parseArgs({
  options: {
    readings: { type: 'string', default: '100000' },
    devices: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '7' },
    baseline: { type: 'string' },
  },
});
const total = Number(args.readings);
const devices = Number(args.devices);
const rounds = Number(args.rounds);
const CHUNK = 2000;

const model = initModel({
  name: 'bench-lstm64', inputs: ['temperature', 'humidity'], outputs: ['temperature', 'humidity'],
  cell: 'lstm', hiddenSizes: [64], dense: [{ size: 2, activation: 'linear' }],
}, 1);

// The payloads bench:mqtt publishes (ts is a float: performance.timeOrigin + now()).
const t0 = 1_764_158_400_000.123;
function messages(round: number): { topic: string; payload: Buffer }[] {
  const out: { topic: string; payload: Buffer }[] = new Array(total);
  for (let i = 0; i < total; i++) {
    const d = i % devices;
    const seq = round * Math.ceil(total / devices) + Math.floor(i / devices); // contiguous per device across rounds
    const doc = { ts: t0 + i * 0.0137, seq, values: { temperature: 20 + (seq % 17) * 0.3 + d * 0.001, humidity: 40 + (seq % 13) * 0.2 } };
    out[i] = { topic: `sensors/dev-${d}/reading`, payload: Buffer.from(JSON.stringify(doc)) };
  }
  return out;
}

/** As MqttOrigin in src/io/mqtt-runtime.ts: the message, and its PUBACK released once. */
class Origin {
  readonly receivedAt = Date.now();
  constructor(readonly topic: string, readonly payload: Uint8Array, private done: (() => void) | null) {}
  ack(): void {
    const done = this.done;
    this.done = null;
    done?.();
  }
}

interface Line {
  readonly name: string;
  handle(topic: string, payload: Buffer): void;
  readonly count: { published: number; acked: number; bytes: number };
  readonly counters: { deadLetters: number; stepLatency: { percentile(q: number): number } };
  readonly us: number[];
}

/** The live path of the checkout at `root`, fed like mqtt-runtime's handleMessage feeds it. */
async function makeLine(name: string, root: string): Promise<Line> {
  const load = (p: string) => import(pathToFileURL(resolve(root, p)).href);
  const { createSession } = await load('src/runtime/session.ts');
  const { createCounters } = await load('src/stream/counters.ts');
  const { inferenceLine } = await load('src/stream/inference-line.ts');
  const counters = createCounters();
  const input = new Subject<unknown>();
  const count = { published: 0, acked: 0, bytes: 0 };
  input.pipe(inferenceLine(createSession(model), {
    topics: ['sensors/+/reading'], counters, instance: 'bench',
    predictionTopic: 'predictions/{device}', deadLetterTopic: 'edge-rnn/{instance}/dead-letter',
    maxDevices: devices * 2, clock: () => performance.now(),
  })).subscribe((o: unknown) => {
    const out = o as Outgoing;
    // What the runtime's subscriber does, minus the socket write.
    if (out.topic !== null && out.payload !== null) {
      const p = out.payload;
      count.bytes += Buffer.from(p.buffer, p.byteOffset, p.byteLength).length + out.topic.length;
      count.published++;
    }
    out.event.origin.ack?.();
  });
  const done = () => void count.acked++;
  return {
    name, count, counters, us: [],
    handle(topic, payload) {
      // The per-message work of mqtt-runtime's handleMessage, with a no-op `done`.
      input.next(new Origin(topic, payload, done));
    },
  };
}

const here = resolve(new URL('../../', import.meta.url).pathname);
const lines = [await makeLine(args.baseline ? 'this checkout' : 'line', here)];
if (args.baseline) lines.push(await makeLine(`baseline ${args.baseline}`, args.baseline));

for (let r = 0; r < rounds; r++) {
  const msgs = messages(r);
  const cpu = lines.map(() => 0);
  // Alternate chunks (and which line goes first) so drift in the machine's speed hits both.
  for (let c = 0; c < msgs.length; c += CHUNK) {
    for (let k = 0; k < lines.length; k++) {
      const li = (k + c / CHUNK) % lines.length;
      const line = lines[li];
      const cpu0 = process.cpuUsage();
      for (let i = c; i < Math.min(msgs.length, c + CHUNK); i++) line.handle(msgs[i].topic, msgs[i].payload);
      const d = process.cpuUsage(cpu0);
      cpu[li] += d.user + d.system;
    }
  }
  const per = cpu.map((us) => us / msgs.length);
  if (r > 0) per.forEach((us, k) => lines[k].us.push(us)); // round 0 warms up (JIT, device states)
  console.log(`round ${r}: ${lines.map((l, k) => `${l.name} ${per[k].toFixed(2)}`).join(', ')} µs CPU/message${r === 0 ? ' (warm-up)' : ''}`);
}

console.log(`\nbench:line  LSTM 64, ${devices} devices, ${total} messages x ${rounds - 1} rounds; node ${process.version}`);
for (const l of lines) {
  if (l.count.published !== rounds * total || l.count.acked !== rounds * total || l.counters.deadLetters !== 0) {
    throw new Error(`${l.name}: expected ${rounds * total} predictions and acks, got ${l.count.published} / ${l.count.acked} (${l.counters.deadLetters} dead letters)`);
  }
  const s = summarize(l.us);
  console.log(`${l.name}: median ${s.median.toFixed(2)} µs CPU/message (${(1e6 / s.median).toFixed(0)} messages/s per core); step p50 ${(l.counters.stepLatency.percentile(0.5) * 1000).toFixed(1)} µs; ${(l.count.bytes / l.count.published).toFixed(0)} bytes/prediction`);
}
if (lines.length === 2) console.log(`this checkout / baseline: ${(summarize(lines[0].us).median / summarize(lines[1].us).median).toFixed(3)}`);
