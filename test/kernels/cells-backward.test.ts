// The backward kernels on their own, over a sequence unrolled by hand from the forward
// kernels: besides the parameter gradients (also checked through the trainer in
// test/train/gradcheck.test.ts) this checks what only the kernels expose, the gradients
// of every input x_t and of the initial state (h0, and c0 for LSTM). Float64 throughout
// (the forward kernels are plain loops and compute in float64 when given Float64Array),
// central differences.
import { describe, expect, it } from 'vitest';
import { gruStep, lstmStep, rnnStep } from '../../src/kernels/cells.js';
import { gruStepBackward, lstmStepBackward, rnnStepBackward } from '../../src/kernels/cells-backward.js';
import { denseForward } from '../../src/kernels/dense.js';
import { denseBackward } from '../../src/kernels/dense-backward.js';
import type { Activation } from '../../src/kernels/activations.js';
import { seededRandom } from '../../src/model/init.js';

const I = 3, H = 4, T = 4, EPS = 1e-6;
type Cell = 'rnn-tanh' | 'rnn-relu' | 'lstm' | 'gru';
const f32 = (a: Float64Array) => a as unknown as Float32Array; // float64 through the f32-typed forward

function setup(cell: Cell, seed: number) {
  const rand = seededRandom(seed);
  const u = (n: number, s = 1) => Float64Array.from({ length: n }, () => s * (rand() * 2 - 1));
  const G = cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
  const w = {
    inputSize: I, hiddenSize: H, activation: (cell === 'rnn-relu' ? 'relu' : 'tanh') as 'relu' | 'tanh',
    wIh: { dtype: 'f32' as const, data: f32(u(G * H * I, 0.9)) }, wHh: { dtype: 'f32' as const, data: f32(u(G * H * H, 0.9)) },
    bIh: { data: f32(u(G * H, 0.5)) }, bHh: { data: f32(u(G * H, 0.5)) },
  };
  const inputs = { x: u(T * I, 1.5), h0: u(H, 0.8), c0: u(H, 0.8) };
  const coef = u(T * H); // loss = Σ_t coef_t · h_t (+ Σ coefC · c_T for LSTM)
  const coefC = u(H);
  return { G, w, inputs, coef, coefC };
}

function run(cell: Cell, s: ReturnType<typeof setup>, backward: boolean) {
  const { G, w, inputs, coef, coefC } = s;
  const hs = Array.from({ length: T + 1 }, () => new Float64Array(H));
  const cs = Array.from({ length: T + 1 }, () => new Float64Array(H));
  const gates = Array.from({ length: T }, () => new Float64Array(G * H));
  const ghs = Array.from({ length: T }, () => new Float64Array(3 * H));
  const xs = Array.from({ length: T }, (_, t) => inputs.x.subarray(t * I, (t + 1) * I));
  hs[0].set(inputs.h0);
  cs[0].set(inputs.c0);
  let L = 0;
  for (let t = 0; t < T; t++) {
    if (cell === 'lstm') lstmStep(f32(hs[t + 1]), f32(cs[t + 1]), f32(gates[t]), w, f32(xs[t]), f32(hs[t]), f32(cs[t]));
    else if (cell === 'gru') gruStep(f32(hs[t + 1]), f32(gates[t]), f32(ghs[t]), w, f32(xs[t]), f32(hs[t]));
    else rnnStep(f32(hs[t + 1]), f32(gates[t]), w, f32(xs[t]), f32(hs[t]));
    for (let j = 0; j < H; j++) L += coef[t * H + j] * hs[t + 1][j];
  }
  if (cell === 'lstm') for (let j = 0; j < H; j++) L += coefC[j] * cs[T][j];
  if (!backward) return { L };

  const g = { dWIh: new Float64Array(G * H * I), dWHh: new Float64Array(G * H * H), dBIh: new Float64Array(G * H), dBHh: new Float64Array(G * H) };
  const dx = new Float64Array(T * I);
  let dh = new Float64Array(H), dc = Float64Array.from(cell === 'lstm' ? coefC : new Float64Array(H));
  const dpre = new Float64Array(G * H), dpreH = new Float64Array(3 * H);
  for (let t = T - 1; t >= 0; t--) {
    const dht = new Float64Array(H);
    for (let j = 0; j < H; j++) dht[j] = dh[j] + coef[t * H + j];
    const dhPrev = new Float64Array(H), dcPrev = new Float64Array(H);
    const dxt = dx.subarray(t * I, (t + 1) * I);
    if (cell === 'lstm') lstmStepBackward(dxt, dhPrev, dcPrev, g, dpre, w, dht, dc, xs[t], hs[t], cs[t], cs[t + 1], gates[t]);
    else if (cell === 'gru') gruStepBackward(dxt, dhPrev, g, dpre, dpreH, w, dht, xs[t], hs[t], gates[t], ghs[t]);
    else rnnStepBackward(dxt, dhPrev, g, dpre, w, dht, xs[t], hs[t], hs[t + 1]);
    dh = dhPrev;
    dc = dcPrev;
  }
  return { L, grads: { wIh: g.dWIh, wHh: g.dWHh, bIh: g.dBIh, bHh: g.dBHh, x: dx, h0: dh, c0: dc } };
}

function expectClose(name: string, analytic: Float64Array, numeric: Float64Array): void {
  let n2 = 0, d2 = 0;
  for (let i = 0; i < numeric.length; i++) {
    n2 += numeric[i] ** 2;
    d2 += (analytic[i] - numeric[i]) ** 2;
  }
  expect(Math.sqrt(n2), `${name}: zero gradient`).toBeGreaterThan(1e-3);
  expect(Math.sqrt(d2 / n2), `${name}: relative error`).toBeLessThan(1e-7);
}

describe('cell backward kernels vs central differences (float64)', () => {
  for (const cell of ['rnn-tanh', 'rnn-relu', 'lstm', 'gru'] as Cell[]) {
    it(`${cell}: weights, biases, every x_t, h0${cell === 'lstm' ? ', c0' : ''}`, () => {
      const s = setup(cell, 7);
      const { grads } = run(cell, s, true);
      const targets: [string, Float64Array][] = [
        ['wIh', s.w.wIh.data as unknown as Float64Array], ['wHh', s.w.wHh.data as unknown as Float64Array],
        ['bIh', s.w.bIh.data as unknown as Float64Array], ['bHh', s.w.bHh.data as unknown as Float64Array],
        ['x', s.inputs.x], ['h0', s.inputs.h0], ...(cell === 'lstm' ? [['c0', s.inputs.c0] as [string, Float64Array]] : []),
      ];
      for (const [name, arr] of targets) {
        const numeric = new Float64Array(arr.length);
        for (let i = 0; i < arr.length; i++) {
          const p = arr[i];
          arr[i] = p + EPS;
          const lp = run(cell, s, false).L;
          arr[i] = p - EPS;
          const lm = run(cell, s, false).L;
          arr[i] = p;
          numeric[i] = (lp - lm) / (2 * EPS);
        }
        expectClose(`${cell} ${name}`, grads![name as keyof NonNullable<typeof grads>], numeric);
      }
    });
  }
});

describe('dense backward vs central differences (float64)', () => {
  for (const activation of ['linear', 'relu', 'tanh', 'sigmoid', 'softmax'] as Activation[]) {
    it(`${activation}: w, b and x`, () => {
      const rand = seededRandom(3);
      const u = (n: number) => Float64Array.from({ length: n }, () => rand() * 2 - 1);
      const In = 4, On = 3;
      const d = { inputSize: In, outputSize: On, activation, w: { dtype: 'f32' as const, data: f32(u(On * In)) }, b: { data: f32(u(On)) } };
      const x = u(In), coef = u(On), y = new Float64Array(On);
      const loss = () => {
        denseForward(f32(y), d, f32(x));
        return y.reduce((a, v, i) => a + v * coef[i], 0);
      };
      loss();
      const dW = new Float64Array(On * In), db = new Float64Array(On), dx = new Float64Array(In);
      denseBackward(dx, dW, db, new Float64Array(On), d, coef, x, y);
      for (const [name, arr, an] of [['w', d.w.data, dW], ['b', d.b.data, db], ['x', x, dx]] as [string, Float32Array | Float64Array, Float64Array][]) {
        const numeric = new Float64Array(arr.length);
        for (let i = 0; i < arr.length; i++) {
          const p = arr[i];
          arr[i] = p + EPS;
          const lp = loss();
          arr[i] = p - EPS;
          const lm = loss();
          arr[i] = p;
          numeric[i] = (lp - lm) / (2 * EPS);
        }
        expectClose(`${activation} ${name}`, an, numeric);
      }
    });
  }
});
