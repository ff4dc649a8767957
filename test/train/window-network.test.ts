// Finite-difference gradient checks of the windowed network's backward pass
// (window-network.ts): every parameter tensor, the reverse direction's included, of every
// cell type, 1- and 2-layer stacks, forward-only and bidirectional, both pooling modes,
// both losses. float64 with central differences, as gradcheck.test.ts.
import { describe, expect, it } from 'vitest';
import { initModel, seededRandom, type Model, type RecurrentType } from '../../src/model/index.js';
import { tensorF32 } from '../../src/model/tensor.js';
import type { Layer, RecurrentLayer, RecurrentWeights, WindowReduce } from '../../src/model/types.js';
import { createWindowNetwork } from '../../src/train/window-network.js';
import { mseLoss, softmaxCrossEntropyLoss } from '../../src/train/loss.js';
import { expectGradientsMatchFiniteDifferences } from '../helpers/finite-differences.js';

const W = 5;
const EPS = 1e-5;
const I = 3;

interface Case {
  cell: RecurrentType;
  rnnActivation?: 'tanh' | 'relu';
  hidden: number[];
  bidirectional: boolean;
  pool: WindowReduce;
  loss: 'mse' | 'ce';
}

/** A model of the case's shape with seeded weights; bidirectional layers get their own reverse weights. */
function windowModel(c: Omit<Case, 'loss'> & { outputs: number; softmax: boolean }, seed: number): Model {
  const D = c.bidirectional ? 2 : 1;
  const base = initModel({
    name: 'w', inputs: ['a', 'b', 'c'], outputs: c.softmax ? ['label'] : Array.from({ length: c.outputs }, (_, i) => `y${i}`),
    ...(c.softmax ? { task: 'classification' as const, labels: Array.from({ length: c.outputs }, (_, i) => String(i)) } : {}),
    cell: c.cell, hiddenSizes: c.hidden, rnnActivation: c.rnnActivation,
    dense: [{ size: c.outputs, activation: c.softmax ? 'softmax' : 'linear' }],
  }, seed);
  const rand = seededRandom(seed + 7);
  const u = (n: number, k: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * k);
  let width = I;
  const layers = base.layers.map((l): Layer => {
    if (l.type === 'dense') {
      const w = tensorF32([l.outputSize, width], u(l.outputSize * width, 1 / Math.sqrt(width)));
      return { ...l, inputSize: width, w };
    }
    const G = l.wIh.shape[0], H = l.hiddenSize, k = 1 / Math.sqrt(H);
    const cell = (inp: number) => ({
      wIh: tensorF32([G, inp], u(G * inp, k)), wHh: tensorF32([G, H], u(G * H, k)), bIh: tensorF32([G], u(G, k)), bHh: tensorF32([G], u(G, k)),
    });
    const out: RecurrentLayer = { ...l, inputSize: width, ...cell(width), ...(c.bidirectional ? { direction: 'bidirectional' as const, reverse: cell(width) } : {}) };
    width = D * H;
    return out;
  });
  return { ...base, layers, window: { size: W, hop: 1 }, outputs: { ...base.outputs, from: c.pool } };
}

function check(c: Case, seed: number): void {
  const O = 3;
  const model = windowModel({ ...c, outputs: O, softmax: c.loss === 'ce' }, seed);
  const net = createWindowNetwork(model, 'f64');
  const rand = seededRandom(seed + 1000);
  const u = () => rand() * 2 - 1;
  for (let i = 0; i < net.params.length; i++) net.params[i] *= 1.5; // saturate the gates a little
  const x = Float64Array.from({ length: (W + 2) * I }, () => 1.5 * u());
  const x0 = 2 * I; // a window that does not start at the array's start
  const target = Float64Array.from({ length: O }, () => u());
  const cls = 1;
  const dOut = new Float64Array(O);

  const lossOf = (): number => {
    const y = net.forward(x, x0);
    return c.loss === 'ce' ? softmaxCrossEntropyLoss(dOut, 0, y, 0, cls, O, 1.3, 0.5) : mseLoss(dOut, 0, y, 0, target, 0, O, 0.5);
  };

  net.grads.fill(0);
  lossOf();
  net.backward(dOut, c.loss === 'ce');
  const analytic = Float64Array.from(net.grads);
  const names = net.tensors.map((t) => t.name);
  if (c.bidirectional) expect(names.filter((n) => n.includes('.reverse.')).length).toBe(4 * c.hidden.length);

  expectGradientsMatchFiniteDifferences(net.tensors, analytic, lossOf, EPS);
}

const cells: { cell: RecurrentType; rnnActivation?: 'tanh' | 'relu' }[] = [
  { cell: 'rnn', rnnActivation: 'tanh' }, { cell: 'lstm' }, { cell: 'gru' },
];

describe('window network gradient check', () => {
  for (const cell of cells) {
    for (const pool of ['last', 'mean'] as const) {
      it(`${cell.cell}, bidirectional, 1 layer, pool ${pool}, MSE`, () => {
        check({ ...cell, hidden: [4], bidirectional: true, pool, loss: 'mse' }, 11);
      });
      it(`${cell.cell}, bidirectional, 2 layers, pool ${pool}, cross-entropy`, () => {
        check({ ...cell, hidden: [3, 4], bidirectional: true, pool, loss: 'ce' }, 31);
      });
      it(`${cell.cell}, forward only, 2 layers, pool ${pool}, MSE`, () => {
        check({ ...cell, hidden: [4, 3], bidirectional: false, pool, loss: 'mse' }, 13);
      });
    }
  }
  it('rnn relu, bidirectional, 2 layers, pool last, MSE', () => {
    check({ cell: 'rnn', rnnActivation: 'relu', hidden: [4, 3], bidirectional: true, pool: 'last', loss: 'mse' }, 17);
  });
});

describe('window network forward', () => {
  it('the reverse direction reads the window right to left: a reversed window swaps the halves of pool last', () => {
    // A bidirectional layer whose reverse weights equal its forward weights, no dense
    // transformation beyond identity: reversing the window swaps the two halves.
    const m = windowModel({ cell: 'gru', hidden: [3], bidirectional: true, pool: 'last', outputs: 6, softmax: false }, 5);
    const l = m.layers[0] as RecurrentLayer;
    const fwd: RecurrentWeights = { wIh: l.wIh, wHh: l.wHh, bIh: l.bIh, bHh: l.bHh };
    const same = { ...m, layers: [{ ...l, reverse: fwd }, {
      ...(m.layers[1] as never as object),
      w: tensorF32([6, 6], Float32Array.from({ length: 36 }, (_, i) => (i % 7 === 0 ? 1 : 0))),
      b: tensorF32([6], new Float32Array(6)),
    } as Layer] };
    const net = createWindowNetwork(same, 'f64');
    const rand = seededRandom(3);
    const x = Float64Array.from({ length: W * I }, () => rand() * 2 - 1);
    const xr = new Float64Array(W * I);
    for (let t = 0; t < W; t++) for (let i = 0; i < I; i++) xr[t * I + i] = x[(W - 1 - t) * I + i];
    const a = Array.from(net.forward(x, 0));
    const b = Array.from(net.forward(xr, 0));
    expect(a.slice(0, 3)).not.toEqual(a.slice(3)); // the two halves differ, so the swap is a real check
    for (let j = 0; j < 3; j++) {
      expect(b[j]).toBeCloseTo(a[3 + j], 12);
      expect(b[3 + j]).toBeCloseTo(a[j], 12);
    }
  });
});
