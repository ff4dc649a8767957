// What one device costs `edge-rnn run` in memory: 10 000 devices admitted into a
// DeviceTable (state, sequence history, LRU entry) of the deployed model, heap and
// external bytes per device after a full GC, and with --objects the heap objects behind it
// (from a V8 heap snapshot: kinds with at least one object per device).
//
//   node --expose-gc bin/ts.mjs scripts/bench/device-cost.ts [--devices 10000] [--model FILE] [--objects]
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { decodeModel } from '../../src/model/codec.js';
import { createSession } from '../../src/runtime/session.js';
import { createCounters } from '../../src/stream/counters.js';
import { DeviceTable } from '../../src/stream/device-table.js';

const { values: args } = parseArgs({ options: {
  devices: { type: 'string', default: '10000' }, objects: { type: 'boolean', default: false },
  model: { type: 'string', default: new URL('../../models/mote-forecaster.msgpack', import.meta.url).pathname },
} });
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const N = Number(args.devices);
const session = createSession(decodeModel(readFileSync(args.model!)));
const ids = Array.from({ length: N }, (_, i) => `dev-${i}`); // made before: the ids are not counted
gc(); gc();
const m0 = process.memoryUsage();
const table = new DeviceTable(session, createCounters(), { maxDevices: N });
for (let i = 0; i < N; i++) table.admit(ids[i], 1000 + i, 1);
gc(); gc();
const m1 = process.memoryUsage();
const per = (k: 'heapUsed' | 'external' | 'rss') => ((m1[k] - m0[k]) / N).toFixed(0);
console.log(`${N} devices of ${session.model.name} (${session.stateSize} state floats = ${session.stateSize * 4} B): per device heap ${per('heapUsed')} B, external ${per('external')} B, RSS ${per('rss')} B`);

if (args.objects) {
  const file = v8.writeHeapSnapshot(join(tmpdir(), `device-cost-${process.pid}.heapsnapshot`));
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  rmSync(file);
  const fields: string[] = snap.snapshot.meta.node_fields;
  const types: string[] = snap.snapshot.meta.node_types[0];
  const [nf, ti, ni, si] = [fields.length, fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const by = new Map<string, { n: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += nf) {
    const type = types[snap.nodes[i + ti]];
    const key = type === 'string' ? 'string' : `${type}: ${String(snap.strings[snap.nodes[i + ni]]).slice(0, 40)}`;
    const v = by.get(key) ?? { n: 0, bytes: 0 };
    v.n++;
    v.bytes += snap.nodes[i + si];
    by.set(key, v);
  }
  console.log('heap objects with at least one per device (count, bytes each, kind):');
  for (const [k, v] of [...by].filter(([, v]) => v.n >= N).sort((a, b) => b[1].bytes - a[1].bytes)) console.log(`${String(v.n).padStart(8)} ${(v.bytes / v.n).toFixed(0).padStart(5)} B  ${k}`);
}
(globalThis as { keep?: unknown }).keep = table;
