// The input guard (src/stream/input-guard.ts): a reading far outside the model's training
// distribution does not touch the device state, so the readings after it are predicted
// exactly as if it had never come (issue 12: after a 1e30 the next five predictions were
// near −3e28; after a 655.35 glitch off by up to 20 °C for six readings).
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { readModelFile } from '../../src/io/model-file.js';
import { tensorF32 } from '../../src/model/tensor.js';
import { initModel } from '../../src/model/init.js';
import type { Layer, Model } from '../../src/model/types.js';
import { createSession } from '../../src/runtime/session.js';
import { createCounters } from '../../src/stream/counters.js';
import type { DeadLetterEvent, PredictionEvent, ReadingEvent, StreamEvent } from '../../src/stream/events.js';
import { inferPerDevice, type InferOptions } from '../../src/stream/infer-per-device.js';
import { InputGuard } from '../../src/stream/input-guard.js';
import { reading, referenceOutputs } from './support.js';

const { model } = readModelFile(new URL('../../models/example-lstm.msgpack', import.meta.url).pathname);
const session = createSession(model);

async function run(events: StreamEvent[], opts: Partial<InferOptions> = {}, s = session) {
  const counters = createCounters();
  const out = await lastValueFrom(from(events).pipe(inferPerDevice(s, { counters, ...opts }), toArray()));
  return { out, counters };
}
const normal = (n: number, from = 0): ReadingEvent[] => Array.from({ length: n }, (_, k) => reading('a', from + k, [27 + Math.sin(k / 3), 46 + Math.cos(k / 5)], k * 1000));
const ys = (out: StreamEvent[]) => out.filter((e): e is PredictionEvent => e.kind === 'prediction').map((e) => Array.from(e.y));

describe('input guard', () => {
  for (const glitch of [[1e30, 46], [655.35, 46], [27, -273.15]]) {
    it(`a reading of ${glitch} is dead-lettered out-of-range and leaves the state as it was`, async () => {
      const good = normal(12);
      const bad = reading('a', 100, glitch, 5500);
      const withGlitch = [...good.slice(0, 6), bad, ...good.slice(6).map((e) => reading('a', e.reading.seq! + 200, [...e.reading.values], e.origin.receivedAt))];
      const { out, counters } = await run(withGlitch);
      const dead = out.filter((e): e is DeadLetterEvent => e.kind === 'dead-letter');
      expect(dead.map((e) => e.code)).toEqual(['out-of-range']);
      expect(dead[0].message).toMatch(glitch[0] === 27 ? /"humidity"/ : /"temperature"/);
      expect(ys(out)).toEqual(referenceOutputs(session, good).map((y) => Array.from(y)));
      expect(counters.deadByReason['out-of-range']).toBe(1);
    });
  }

  it('policy clamp: the reading is stepped with its values clamped into the accepted range, and counted', async () => {
    const good = normal(4);
    const { out, counters } = await run([...good, reading('a', 4, [655.35, 46], 4000)], { guardPolicy: 'clamp' });
    const g = new InputGuard(model.inputs);
    const clamped = reading('a', 4, [g.hi[0], 46], 4000);
    expect(ys(out)).toEqual(referenceOutputs(session, [...good, clamped]).map((y) => Array.from(y)));
    expect(counters.clamped).toBe(1);
  });

  it('a reading inside the range passes untouched; the limit follows guardZ', async () => {
    const mean = model.inputs.mean.data[0], std = model.inputs.std.data[0];
    const near = reading('a', 0, [mean + 4 * std, 46]);
    expect((await run([near])).out[0].kind).toBe('prediction');
    expect((await run([near], { guardZ: 3 })).out[0]).toMatchObject({ kind: 'dead-letter', code: 'out-of-range' });
  });

  it('uses the stored training min/max when the model has them: narrower than the z-limit', () => {
    const withRange: Model = { ...model, inputs: { ...model.inputs, min: tensorF32([2], [20, 30]), max: tensorF32([2], [30, 60]) } };
    const g = new InputGuard(withRange.inputs);
    expect(g.lo[0]).toBe(Math.max(model.inputs.mean.data[0] - 10 * model.inputs.std.data[0], 10));
    expect(g.hi[1]).toBe(Math.min(model.inputs.mean.data[1] + 10 * model.inputs.std.data[1], 90));
    expect(g.outOfRange([25, 95])).toBe(1);
    expect(g.outOfRange([25, 45])).toBe(-1);
  });

  it('a model with identity normalisation (untrained) is not guarded', () => {
    const m = initModel({ name: 'x', inputs: ['a', 'b'], outputs: ['a'], cell: 'gru', hiddenSizes: [2], dense: [{ size: 1, activation: 'linear' }] }, 1);
    expect(new InputGuard(m.inputs).active).toBe(false);
    expect(new InputGuard(model.inputs).active).toBe(true);
  });

  it('a state gone non-finite behind a finite output is reset and counted', async () => {
    // Layer 1, a ReLU RNN with weights 1e30, overflows to Infinity on its second step; layer 2
    // (tanh) saturates at 1 on it, so the output stays finite. Identity stats: no guard.
    const base = initModel({ name: 'x', inputs: ['temperature', 'humidity'], outputs: ['y'], cell: 'rnn', hiddenSizes: [4, 4], dense: [{ size: 1, activation: 'linear' }] }, 1);
    const fill = (t: { shape: readonly number[]; data: { length: number } }, v: number) => tensorF32([...t.shape], new Float32Array(t.data.length).fill(v));
    const layers = base.layers.map((l, k): Layer => {
      if (l.type === 'dense') return { ...l, w: fill(l.w, 0.1), b: fill(l.b, 0) };
      const v = k === 0 ? 1e30 : 1e-3;
      return { ...l, type: 'rnn', activation: k === 0 ? 'relu' : 'tanh', wIh: fill(l.wIh, v), wHh: fill(l.wHh, k === 0 ? v : 0), bIh: fill(l.bIh, k === 0 ? v : 0), bHh: fill(l.bHh, 0) } as Layer;
    });
    const { out, counters } = await run([0, 1, 2].map((s) => reading('a', s, [1, 1])), {}, createSession({ ...base, layers }));
    expect(out.map((e) => (e.kind === 'dead-letter' ? e.code : e.kind))).toEqual(['prediction', 'non-finite-state', 'prediction']);
    expect(Array.from((out[2] as PredictionEvent).y).every(Number.isFinite)).toBe(true);
    expect((out[2] as PredictionEvent).steps).toBe(1);
    expect(counters.nonFiniteResets).toBe(1);
  });
});
