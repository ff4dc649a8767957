// Device states carved out of shared blocks (src/stream/state-pool.ts) step exactly like
// states of their own, on both kernel backends, and never touch their neighbours.
import { describe, expect, it } from 'vitest';
import { initModel } from '../../src/model/init.js';
import { createJsSession } from '../../src/runtime/session.js';
import { createWasmSession } from '../../src/runtime/session-wasm.js';
import { StatePool, STATES_PER_BLOCK } from '../../src/stream/state-pool.js';

const model = initModel({
  name: 'pool', cell: 'lstm', inputs: ['a', 'b'], outputs: ['a', 'b'], hiddenSizes: [8, 5], dense: [{ size: 2, activation: 'linear' }],
}, 4);

describe.each([['js', createJsSession], ['wasm', createWasmSession]] as const)('StatePool (%s session)', (_, make) => {
  it('a pooled state steps to the same outputs as its own, and leaves the others in its block alone', () => {
    const session = make(model);
    const pool = new StatePool(session);
    const pooled = Array.from({ length: STATES_PER_BLOCK + 2 }, () => pool.take()); // a second block too
    const own = session.createState();
    expect(pooled[0].buffer.buffer).toBe(pooled[STATES_PER_BLOCK - 1].buffer.buffer);
    expect(pooled[STATES_PER_BLOCK].buffer.buffer).not.toBe(pooled[0].buffer.buffer);
    const target = pooled[STATES_PER_BLOCK - 2];
    for (let t = 0; t < 20; t++) {
      const x = [Math.sin(t), Math.cos(t / 3)];
      const want = Array.from(session.step(own, x));
      expect(Array.from(session.step(target, x))).toEqual(want);
    }
    expect(Array.from(target.buffer)).toEqual(Array.from(own.buffer));
    expect(target.buffer.some((v) => v !== 0)).toBe(true);
    for (const s of pooled) if (s !== target) expect(s.buffer.every((v) => v === 0)).toBe(true);
    // The lazily made h/c views are views of the same floats.
    expect(Array.from(target.h[1])).toEqual(Array.from(own.h[1]));
    expect(target.c[0]!.buffer).toBe(target.buffer.buffer);
  });

  it('batched steps over pooled states give the numbers of single steps', () => {
    const session = make(model);
    const pool = new StatePool(session);
    const states = Array.from({ length: 11 }, () => pool.take());
    const singles = Array.from({ length: 11 }, () => session.createState());
    const xs = Float32Array.from({ length: 22 }, (_, i) => Math.sin(i));
    const ys = new Float32Array(22);
    for (let t = 0; t < 3; t++) {
      session.stepBatch(states, xs, ys);
      const want = singles.flatMap((s, k) => Array.from(session.step(s, xs.subarray(2 * k, 2 * k + 2))));
      expect(Array.from(ys)).toEqual(want);
    }
  });
});

it('a state buffer of the wrong size is refused', () => {
  const session = createJsSession(model);
  expect(() => session.createState(new Float32Array(3))).toThrow(/needs 26 floats, got 3/);
});
