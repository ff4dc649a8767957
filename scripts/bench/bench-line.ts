// `npm run bench:line`: the broker-free cost per message of the live path of `edge-rnn
// run` — what the runtime does for one MQTT message between mqtt.js handing it over and
// handing the prediction back: the origin with its ack (as src/io/mqtt-runtime.ts builds
// it), the inference line (parse, step per device, encode) and the subscriber's
// Buffer view + ack. Same model and readings as bench:mqtt (LSTM hidden 64, 1000
// devices, JSON readings), all messages built before the clock starts.
//
//   node bin/ts.mjs scripts/bench/bench-line.ts [--readings 100000] [--devices 1000] [--rounds 11]
//   node --cpu-prof --cpu-prof-dir=.tmp/prof bin/ts.mjs scripts/bench/bench-line.ts   # a profile
import { parseArgs } from 'node:util';
import { Subject } from 'rxjs';
import { initModel } from '../../src/model/init.js';
import { createSession } from '../../src/runtime/session.js';
import { createCounters } from '../../src/stream/counters.js';
import type { Incoming } from '../../src/stream/events.js';
import { inferenceLine } from '../../src/stream/inference-line.js';
import { summarize } from './stats.js';

const { values: args } = parseArgs({
  options: {
    readings: { type: 'string', default: '100000' },
    devices: { type: 'string', default: '1000' },
    rounds: { type: 'string', default: '11' },
  },
});
const total = Number(args.readings);
const devices = Number(args.devices);
const rounds = Number(args.rounds);

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
    const seq = round * total + Math.floor(i / devices);
    const doc = { ts: t0 + i * 0.0137, seq, values: { temperature: 20 + (seq % 17) * 0.3 + d * 0.001, humidity: 40 + (seq % 13) * 0.2 } };
    out[i] = { topic: `sensors/dev-${d}/reading`, payload: Buffer.from(JSON.stringify(doc)) };
  }
  return out;
}

const session = createSession(model);
const counters = createCounters();
const input = new Subject<Incoming>();
let published = 0;
let publishedBytes = 0;
let acked = 0;
input.pipe(inferenceLine(session, {
  topics: ['sensors/+/reading'], counters, instance: 'bench',
  predictionTopic: 'predictions/{device}', deadLetterTopic: 'edge-rnn/{instance}/dead-letter',
  maxDevices: devices * 2, clock: () => performance.now(),
})).subscribe((out) => {
  // What the runtime's subscriber does, minus the socket write.
  if (out.topic !== null && out.payload !== null) {
    const p = out.payload;
    publishedBytes += Buffer.from(p.buffer, p.byteOffset, p.byteLength).length + out.topic.length;
    published++;
  }
  out.event.origin.ack?.();
});

// The per-message work of mqtt-runtime's handleMessage, with a no-op `done`.
const done = () => void acked++;
function handle(topic: string, payload: Buffer): void {
  let wasAcked = false;
  input.next({ topic, payload, receivedAt: Date.now(), ack: () => { if (!wasAcked) (wasAcked = true), done(); } });
}

const perMsgUs: number[] = [];
for (let r = 0; r < rounds; r++) {
  const msgs = messages(r);
  const start = performance.now();
  for (let i = 0; i < msgs.length; i++) handle(msgs[i].topic, msgs[i].payload);
  const us = ((performance.now() - start) * 1000) / msgs.length;
  if (r > 0) perMsgUs.push(us); // round 0 warms up (JIT, device states)
  console.log(`round ${r}: ${us.toFixed(2)} µs/message (${(1e6 / us).toFixed(0)} messages/s)${r === 0 ? ' (warm-up)' : ''}`);
}
if (published !== rounds * total || acked !== rounds * total || counters.deadLetters !== 0) {
  throw new Error(`expected ${rounds * total} predictions and acks, got ${published} / ${acked} (${counters.deadLetters} dead letters)`);
}
const s = summarize(perMsgUs);
console.log(`\nbench:line  LSTM 64, ${devices} devices, ${total} messages x ${rounds - 1} rounds; node ${process.version}`);
console.log(`median ${s.median.toFixed(2)} µs/message, best ${Math.min(...perMsgUs).toFixed(2)} (${(1e6 / s.median).toFixed(0)} messages/s); step p50 ${(counters.stepLatency.percentile(0.5) * 1000).toFixed(1)} µs; ${(publishedBytes / published).toFixed(0)} bytes/prediction`);
