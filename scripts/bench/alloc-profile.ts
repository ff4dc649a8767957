// Where the live path of `edge-rnn run` allocates, per message: V8's sampling heap profiler
// (including objects already collected) over the inference line fed as mqtt-runtime feeds
// it, broker-free, like bench:line; bytes per message by allocating function (self).
//
//   node --expose-gc bin/ts.mjs scripts/bench/alloc-profile.ts [--readings 50000] [--devices 10000] [--model FILE]
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { Subject } from 'rxjs';
import { decodeModel } from '../../src/model/codec.js';
import { createSession } from '../../src/runtime/session.js';
import { createCounters } from '../../src/stream/counters.js';
import type { Incoming, Outgoing } from '../../src/stream/events.js';
import { inferenceLine } from '../../src/stream/inference-line.js';
import { MqttOrigin } from '../../src/io/runtime/intake.js';

const { values: args } = parseArgs({ options: {
  readings: { type: 'string', default: '50000' }, devices: { type: 'string', default: '10000' },
  model: { type: 'string', default: new URL('../../models/mote-forecaster.msgpack', import.meta.url).pathname },
} });
const N = Number(args.readings);
const D = Number(args.devices);
const model = decodeModel(readFileSync(args.model!));

function payload(d: number, seq: number): Buffer {
  const x = (seq + d) / 20;
  return Buffer.from(JSON.stringify({ ts: 1_764_158_400_000 + seq * 10_000 + d, seq, values: {
    temperature: Math.round((27 + 2 * Math.sin(x) + (d % 7) * 0.3) * 100) / 100,
    humidity: Math.round((40 + 3 * Math.cos(x / 3) + (d % 5) * 0.5) * 100) / 100 } }));
}
const msgs = (round: number) => Array.from({ length: N }, (_, i) => ({ topic: `sensors/dev-${i % D}/reading`, payload: payload(i % D, round * Math.ceil(N / D) + Math.floor(i / D)) }));

const counters = createCounters();
const input = new Subject<Incoming>();
let published = 0;
input.pipe(inferenceLine(createSession(model), {
  topics: ['sensors/+/reading'], counters, instance: 'bench', predictionTopic: 'predictions/{device}',
  deadLetterTopic: 'edge-rnn/{instance}/dead-letter', maxDevices: D, clock: () => performance.now(),
})).subscribe((out: Outgoing) => {
  if (out.topic !== null && out.payload !== null) {
    const p = out.payload;
    if (Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength)) published++;
  }
  out.event.origin.ack?.();
});
const done = () => {};
const feed = (ms: { topic: string; payload: Buffer }[]) => { for (const m of ms) input.next(new MqttOrigin(Date.now(), m.topic, m.payload, done)); };
feed(msgs(0)); feed(msgs(1)); // warm-up: JIT, every device's state
const measured = msgs(2);
(globalThis as { gc?: () => void }).gc?.();
const session = new Session();
session.connect();
await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
feed(measured);
const { profile } = await session.post('HeapProfiler.stopSampling') as { profile: { head: Node } };
interface Node { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] }
const by = new Map<string, number>();
let total = 0;
const walk = (n: Node, stack: string[]) => {
  const f = n.callFrame;
  const here = `${f.functionName || '(anon)'} ${f.url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
  if (n.selfSize) {
    by.set(here + '  <- ' + stack.slice(-2).join(' <- '), (by.get(here + '  <- ' + stack.slice(-2).join(' <- ')) ?? 0) + n.selfSize);
    total += n.selfSize;
  }
  for (const c of n.children) walk(c, [...stack, f.functionName || '(anon)']);
};
walk(profile.head, []);
console.log(`${N} messages, ${D} devices, ${published} predictions, dead letters ${counters.deadLetters}: ${(total / N).toFixed(0)} bytes allocated per message (sampled)`);
for (const [k, v] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${(v / N).toFixed(0).padStart(6)} B/msg  ${k}`);
