// The state layout the model plan sets out, as the sessions and the trainer's network use it:
// a mixed stack (rnn, lstm, gru) whose h and c sit at the plan's offsets in both sessions, the
// JS session and the trainer's forward pass writing the same buffer bit for bit, and the wasm
// session agreeing with them to the wasm tolerance.
import { describe, expect, it } from 'vitest';
import { initModel, planModel, seededRandom, tensorF32, type DenseLayer, type Model } from '../../src/model/index.js';
import { createSession, type KernelChoice } from '../../src/runtime/session.js';
import { createNetwork } from '../../src/train/network.js';

/** rnn 3->4, lstm 4->5, gru 5->6, dense 6->2; input statistics that are not the identity. */
function mixedStack(): Model {
  const names = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}${i}`);
  const layer = (cell: 'rnn' | 'lstm' | 'gru', I: number, H: number, seed: number) =>
    initModel({ name: 'm', cell, inputs: names('x', I), outputs: names('h', H), hiddenSizes: [H] }, seed).layers[0];
  const base = initModel({ name: 'mixed', cell: 'rnn', inputs: names('x', 3), outputs: ['a', 'b'], hiddenSizes: [4] }, 5);
  const dense: DenseLayer = {
    type: 'dense', inputSize: 6, outputSize: 2, activation: 'linear',
    w: tensorF32([2, 6], Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 0.4)), b: tensorF32([2], Float32Array.of(0.1, -0.2)),
  };
  return {
    ...base,
    inputs: { ...base.inputs, mean: tensorF32([3], Float32Array.of(1, -2, 0.5)), std: tensorF32([3], Float32Array.of(2, 0.5, 3)) },
    layers: [layer('rnn', 3, 4, 1), layer('lstm', 4, 5, 2), layer('gru', 5, 6, 3), dense],
  };
}

const model = mixedStack();
const plan = planModel(model);
const T = 60;
const rand = seededRandom(9);
const xs = Float32Array.from({ length: T * 3 }, () => Math.fround(4 * rand() - 2));

/** The session's state after T steps from zero. */
function sessionState(kernels: KernelChoice): Float32Array {
  const s = createSession(model, { kernels });
  const st = s.createState();
  for (let t = 0; t < T; t++) s.step(st, xs.subarray(t * 3, t * 3 + 3));
  return st.buffer;
}

describe.each(['js', 'wasm'] as const)('%s session', (kernels) => {
  it('holds each layer h and c at the plan offsets', () => {
    const s = createSession(model, { kernels });
    expect(s.stateSize).toBe(plan.stateSize);
    expect(plan.stateSize).toBe(4 + 2 * 5 + 6);
    const st = s.createState();
    plan.recurrent.forEach((r, k) => {
      expect(st.h[k].byteOffset / 4).toBe(r.hOffset);
      expect(st.h[k].length).toBe(r.hiddenSize);
      if (r.cOffset < 0) expect(st.c[k]).toBeNull();
      else expect([st.c[k]!.byteOffset / 4, st.c[k]!.length]).toEqual([r.cOffset, r.hiddenSize]);
      expect(st.h[k].buffer).toBe(st.buffer.buffer);
    });
  });
});

describe('one state layout across the runtime and the trainer', () => {
  // The trainer steps normalised inputs; the session normalises into a Float32Array the same way.
  const xn = Float32Array.from(xs, (v, i) => (v - model.inputs.mean.data[i % 3]) / model.inputs.std.data[i % 3]);

  it('the trainer forward pass leaves bit for bit the JS session state', () => {
    const net = createNetwork(model, T);
    expect(net.stateSize).toBe(plan.stateSize);
    const state = new Float32Array(net.stateSize);
    net.forwardWindow(state, xn, 0, T);
    expect(Array.from(new Uint32Array(state.buffer))).toEqual(Array.from(new Uint32Array(Float32Array.from(sessionState('js')).buffer)));
    expect(state.some((v) => v !== 0)).toBe(true);
  });

  it('the wasm session leaves the same state within its float32-sum tolerance', () => {
    const js = sessionState('js'), wasm = sessionState('wasm');
    for (let i = 0; i < js.length; i++) expect(Math.abs(js[i] - wasm[i])).toBeLessThan(1e-5);
  });
});
