// A windowed model through the stream operator (issue 19): one result per device every hop,
// with the window's first and last seqs, equal to pushing each device's readings through the
// session on its own; every other reading is a counted `in-window` drop (never silently
// lost); batched arrays give the same events; a duplicate does not enter the window; a reboot
// starts the window again; `predict` gives the same numbers offline.
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { predictRecorded, type PredictionRow } from '../../src/cli/commands/predict.js';
import { decodeModel, encodeModel } from '../../src/model/index.js';
import { encodePrediction } from '../../src/protocol/prediction.js';
import { createSession } from '../../src/runtime/session.js';
import { isWindowSession } from '../../src/runtime/session-window.js';
import { createCounters } from '../../src/stream/counters.js';
import type { ModelOfferEvent, PredictionEvent, ReadingEvent, StreamEvent } from '../../src/stream/events.js';
import type { Model } from '../../src/model/types.js';
import { version } from '../helpers/swap-models.js';
import { inferPerDevice } from '../../src/stream/infer-per-device.js';
import { bidirectional, classification, dense, windowed } from '../model/model-builders.js';
import { reading } from './support.js';

const model = windowed(classification([bidirectional('gru', 2, 4, 3), dense(8, 3, 'softmax', 4)], ['quiet', 'step', 'spike']), 5, 2, 'last');
const session = createSession(model, { kernels: 'js' });

const run = async (events: StreamEvent[] | StreamEvent[][]) => {
  const counters = createCounters();
  const out = await lastValueFrom(from(events as StreamEvent[]).pipe(inferPerDevice(session, { counters, maxDevices: 100, guardPolicy: 'off' }), toArray()));
  return { out, counters };
};
const predictions = (out: StreamEvent[]) => out.filter((e): e is PredictionEvent => e.kind === 'prediction');

function events(devices: number, perDevice: number): ReadingEvent[] {
  const out: ReadingEvent[] = [];
  for (let m = 0; m < perDevice; m++) for (let d = 0; d < devices; d++) out.push(reading(`d${d}`, 100 + m, [20 + Math.sin(m * 0.7 + d) * 5, 40 + Math.cos(m * d) * 3], m * 1000));
  return out;
}

/** Each device on its own through session.window.push: its results and the seq each ended at. */
function reference(evs: readonly ReadingEvent[]): Map<string, { last: number; y: number[] }[]> {
  if (!isWindowSession(session)) throw new Error('windowed session expected');
  const states = new Map<string, ReturnType<typeof session.createState>>();
  const out = new Map<string, { last: number; y: number[] }[]>();
  for (const e of evs) {
    let st = states.get(e.device);
    if (!st) states.set(e.device, (st = session.createState()));
    const y = new Float32Array(3);
    if (session.window.push(st, Float32Array.from(e.reading.values), e.reading.seq, y)) {
      (out.get(e.device) ?? out.set(e.device, []).get(e.device)!).push({ last: e.reading.seq!, y: Array.from(y) });
    }
  }
  return out;
}

describe('a windowed model in the stream', () => {
  it('publishes per device at seq 104, 106, 108, … with the window seqs, equal to the session alone', async () => {
    const evs = events(3, 12);
    const { out, counters } = await run(evs);
    const ref = reference(evs);
    for (const d of ['d0', 'd1', 'd2']) {
      const mine = predictions(out).filter((p) => p.device === d);
      expect(mine.map((p) => p.reading.seq)).toEqual([104, 106, 108, 110]);
      expect(mine.map((p) => p.window)).toEqual([104, 106, 108, 110].map((last) => ({ first: last - 4, last })));
      expect(mine.map((p) => Array.from(p.y))).toEqual(ref.get(d)!.map((r) => r.y));
    }
    // Every reading accounted for: a result or a counted in-window drop.
    expect(counters.predictions).toBe(12);
    expect(counters.inWindow).toBe(36 - 12);
    expect(out.filter((e) => e.kind === 'dropped' && e.reason === 'in-window')).toHaveLength(24);
    expect(out).toHaveLength(36);
  });

  it('gives the same events for arrays of readings (the batched path)', async () => {
    const evs = events(4, 11);
    const bursts: StreamEvent[][] = [];
    for (let i = 0; i < evs.length; i += 6) bursts.push(evs.slice(i, i + 6));
    const single = await run(evs), batched = await run(bursts);
    const view = (o: StreamEvent[]) => o.map((e) => (e.kind === 'prediction' ? [e.device, e.reading.seq, Array.from(e.y)] : [e.kind, 'reason' in e ? e.reason : '']));
    expect(view(batched.out)).toEqual(view(single.out));
    expect(batched.counters.inWindow).toBe(single.counters.inWindow);
  });

  it('a duplicate does not enter the window; a reboot (seq falls back) starts it again', async () => {
    // Increasing ts: a seq that falls back with a later ts is a reboot (src/stream/sequence.ts).
    const a = (seq: number, v: number) => reading('a', seq, [v, 40 + v], v * 1000, v * 1000);
    const redelivered = reading('a', 2, [21, 61], 21_500, 21_000); // seq 2 again, its own ts
    const evs = [a(1, 20), a(2, 21), redelivered, a(3, 22), a(4, 23), a(5, 24), a(6, 25), a(7, 26), a(0, 30), a(1, 31), a(2, 32), a(3, 33), a(4, 34)];
    const { out, counters } = await run(evs);
    expect(out.map((e) => (e.kind === 'dropped' ? e.reason : e.kind))).toEqual([
      'in-window', 'in-window', 'duplicate', 'in-window', 'in-window', 'prediction', 'in-window', 'prediction',
      'in-window', 'in-window', 'in-window', 'in-window', 'prediction',
    ]);
    expect(predictions(out).map((p) => p.window)).toEqual([{ first: 1, last: 5 }, { first: 3, last: 7 }, { first: 0, last: 4 }]);
    expect(counters.duplicates).toBe(1);
    expect(counters.reboots).toBe(1);
  });

  it('encodes the window into the prediction payload', () => {
    const doc = JSON.parse(Buffer.from(encodePrediction(model, { device: 'a', seq: 9, window: { first: 5, last: 9 } }, [0.1, 0.7, 0.2])).toString());
    expect(doc).toMatchObject({ device: 'a', seq: 9, label: 'step', window: { first: 5, last: 9 } });
    const noSeq = JSON.parse(Buffer.from(encodePrediction(model, { device: 'a', window: { first: null, last: null } }, [0.1, 0.7, 0.2])).toString());
    expect(noSeq.window).toEqual({ first: null, last: null });
  });

  it('predict gives the same numbers offline, at the same rows, with the window rows', () => {
    const evs = events(3, 12);
    const inputs = Float32Array.from(evs.flatMap((e) => e.reading.values));
    const rows: PredictionRow[] = [];
    predictRecorded(decodeModel(encodeModel(model)), inputs, evs.map((e) => e.device), (p) => rows.push(p), { kernels: 'js' });
    const ref = reference(evs);
    for (const d of ['d0', 'd1', 'd2']) {
      const mine = rows.filter((r) => r.device === d);
      expect(mine.map((r) => evs[r.row].reading.seq)).toEqual([104, 106, 108, 110]);
      expect(mine.map((r) => r.y)).toEqual(ref.get(d)!.map((r) => r.y.map((v) => Number(Math.fround(v).toPrecision(9)))));
      // Rows of a device are 3 apart (3 devices interleaved): the window spans 5 of its rows.
      for (const r of mine) expect(r.window).toEqual({ first: r.row - 12, last: r.row });
    }
    expect(rows.map((r) => r.row)).toEqual([...rows.map((r) => r.row)].sort((a, b) => a - b));
  });
});

describe('hot swap to and from a windowed model', () => {
  const v1 = version('m', 1);
  const v2w: Model = { ...version('m', 2), window: { size: 3, hop: 1 }, outputs: { ...version('m', 2).outputs, from: 'last' } };
  const v3 = version('m', 3);
  const offer = (m: Model): ModelOfferEvent => ({ kind: 'model-offer', result: { ok: true, model: m, sha256: `sha-${m.modelVersion}`, keyId: 'k1' }, origin: { receivedAt: 7 } });
  const a = (seq: number) => reading('a', seq, [20 + seq, 40 - seq]);

  for (const minReadings of [0, 3]) {
    it(`swaps in between two readings, the window fills from the swap on, and back (probation ${minReadings} readings)`, async () => {
      const counters = createCounters();
      const events: StreamEvent[] = [a(0), a(1), offer(v2w), a(2), a(3), a(4), a(5), offer(v3), a(6)];
      const out = await lastValueFrom(from(events).pipe(inferPerDevice(createSession(v1), { counters, guardPolicy: 'off', swap: { probation: { minReadings }, runningSha256: 'sha-1' } }), toArray()));
      const kinds = out.filter((e) => e.kind !== 'model-status').map((e) => (e.kind === 'dropped' ? e.reason : `${e.kind}:${(e as PredictionEvent).model?.modelVersion}`));
      expect(kinds).toEqual(['prediction:1', 'prediction:1', 'in-window', 'in-window', 'prediction:2', 'prediction:2', 'prediction:3']);
      const ws = createSession(v2w);
      if (!isWindowSession(ws)) throw new Error('windowed expected');
      const st = ws.createState(), y = new Float32Array(2), want: number[][] = [];
      for (const s of [2, 3, 4, 5]) if (ws.window.push(st, Float32Array.from(a(s).reading.values), s, y)) want.push(Array.from(y));
      const got = predictions(out).filter((p) => p.model === v2w);
      expect(got.map((p) => Array.from(p.y))).toEqual(want);
      expect(got.map((p) => p.window)).toEqual([{ first: 2, last: 4 }, { first: 3, last: 5 }]);
      expect(counters.swaps).toBe(2);
    });
  }
});
