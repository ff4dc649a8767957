// The windowed session's ring (issue 19): which readings end a window, the first seq of each
// window, resets, checkpoint copies, independent devices, and one pass's buffers made once.
import { describe, expect, it } from 'vitest';
import { planModel } from '../../src/model/index.js';
import { createSession } from '../../src/runtime/session.js';
import { createWindowSession, isWindowSession, type WindowSession } from '../../src/runtime/session-window.js';
import { createJsWindowForward } from '../../src/runtime/window-forward.js';
import { bidirectional, classification, dense, prng, windowed } from '../model/model-builders.js';

const model = windowed(classification([bidirectional('lstm', 3, 4, 1), dense(8, 2, 'softmax', 2)], ['a', 'b']), 4, 3, 'mean');

function session(kernels: 'js' | 'wasm' = 'js'): WindowSession {
  const s = createSession(model, { kernels });
  if (!isWindowSession(s)) throw new Error('expected a windowed session');
  return s;
}

const readings = (n: number, seed = 7) => {
  const r = prng(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: 3 }, () => r() * 60 - 20));
};

/** The indices of the readings that ended a window, and their results. */
function feed(s: WindowSession, xs: readonly Float32Array[], seq = (k: number) => k as number | undefined) {
  const st = s.createState();
  const ends: number[] = [], ys: number[][] = [], firsts: (number | undefined)[] = [];
  xs.forEach((x, k) => {
    const y = new Float32Array(s.outputSize);
    if (s.window.push(st, x, seq(k), y)) {
      ends.push(k);
      ys.push(Array.from(y));
      firsts.push(s.window.firstSeq(st));
    }
  });
  return { ends, ys, firsts, st };
}

describe('windowed session', () => {
  it('ends a window when the ring has just filled, then every hop readings', () => {
    const { ends, firsts } = feed(session(), readings(14));
    expect(ends).toEqual([3, 6, 9, 12]);
    expect(firsts).toEqual([0, 3, 6, 9]);
  });

  it('hop = size: back-to-back windows; hop 1: every reading once full', () => {
    for (const [hop, want] of [[4, [3, 7, 11]], [1, [3, 4, 5, 6, 7, 8, 9, 10, 11]]] as const) {
      const s = createWindowSession({ ...model, window: { size: 4, hop } }, planModel({ ...model, window: { size: 4, hop } }), 'js');
      expect(feed(s, readings(12)).ends).toEqual(want);
    }
  });

  it('keeps seqs up to 2^48 exactly; a reading without seq or past that leaves the first seq unknown', () => {
    const big = 2 ** 40 + 12345;
    expect(feed(session(), readings(4), (k) => big + k).firsts).toEqual([big]);
    expect(feed(session(), readings(4), (k) => (k === 0 ? undefined : k)).firsts).toEqual([undefined]);
    expect(feed(session(), readings(4), (k) => 2 ** 48 + k).firsts).toEqual([undefined]);
    expect(feed(session(), readings(5), (k) => (k === 0 ? undefined : k)).firsts).toEqual([undefined]);
  });

  it('reset empties the ring: W more readings before the next result', () => {
    const s = session(), st = s.createState(), y = new Float32Array(2), xs = readings(10);
    const ends: number[] = [];
    xs.forEach((x, k) => {
      if (k === 5) s.reset(st);
      if (s.window.push(st, x, k, y)) ends.push(k);
    });
    expect(ends).toEqual([3, 8]);
    expect(s.window.filled(st)).toBe(4);
  });

  it('a copied state buffer (a checkpoint) carries on with the same results; devices do not share state', () => {
    const s = session(), xs = readings(12);
    const whole = feed(s, xs);
    const a = s.createState(), y = new Float32Array(2);
    xs.slice(0, 5).forEach((x, k) => s.window.push(a, x, k, y));
    const b = s.createState();
    b.buffer.set(a.buffer.slice());
    const other = s.createState();
    const rest: number[][] = [];
    xs.slice(5).forEach((x, k) => {
      s.window.push(other, readings(1, 100 + k)[0], k, y); // another device in between
      if (s.window.push(b, x, 5 + k, y)) rest.push(Array.from(y));
    });
    expect(rest).toEqual(whole.ys.slice(1));
  });

  it('refuses per-reading stepping in one line', () => {
    const s = session();
    expect(() => s.step(s.createState(), [1, 2, 3])).toThrow(/windowed: readings go through session.window.push/);
    expect(() => s.stepBatch([], new Float32Array(0), new Float32Array(0))).toThrow(/windowed/);
  });

  it('JS and wasm kernels agree within 1e-5', () => {
    const xs = readings(20);
    const js = feed(session('js'), xs).ys.flat(), wasm = feed(session('wasm'), xs).ys.flat();
    expect(js.length).toBe(wasm.length);
    js.forEach((v, k) => expect(Math.abs(v - wasm[k])).toBeLessThan(1e-5));
  });

  it('a pass writes into buffers made once (the same output buffer every pass)', () => {
    const pass = createJsWindowForward(planModel(model));
    pass.xs.set(readings(4).flatMap((x) => Array.from(x)).map((v) => v / 20));
    const first = pass.forward();
    const values = Array.from(first);
    expect(pass.forward()).toBe(first);
    expect(Array.from(first)).toEqual(values); // zero state each pass: the same window gives the same result
  });
});
