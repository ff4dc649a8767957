// Finite-difference gradient checks of the whole trainer backward pass (network.ts):
// every parameter tensor of every cell type, 1- and 2-layer stacks, dense heads with each
// activation, both losses, over an unrolled window of several steps from a non-zero
// initial state. Run in float64 (the same code, on Float64Array) with central
// differences, so a wrong sign, index or gate shows up as an O(1) relative error while a
// correct gradient agrees to ~1e-8.
import { describe, expect, it } from 'vitest';
import { initModel, seededRandom, type DenseActivation, type RecurrentType } from '../../src/model/index.js';
import { createNetwork } from '../../src/train/network.js';
import { mseLoss, softmaxCrossEntropyLoss } from '../../src/train/loss.js';
import { expectGradientsMatchFiniteDifferences } from '../helpers/finite-differences.js';

const T = 5;
const EPS = 1e-5;

interface Case {
  cell: RecurrentType;
  rnnActivation?: 'tanh' | 'relu';
  hidden: number[];
  dense: { size: number; activation: DenseActivation }[];
  loss: 'mse' | 'ce';
}

function check(c: Case, seed: number): void {
  const I = 3;
  const O = c.dense.length ? c.dense[c.dense.length - 1].size : c.hidden[c.hidden.length - 1];
  const model = initModel({
    name: 'g', inputs: ['a', 'b', 'c'], outputs: c.loss === 'ce' ? ['label'] : Array.from({ length: O }, (_, i) => `y${i}`),
    cell: c.cell, hiddenSizes: c.hidden, rnnActivation: c.rnnActivation, dense: c.dense,
  }, seed);
  const net = createNetwork(model, T, 'f64');
  const rand = seededRandom(seed + 1000);
  const u = () => rand() * 2 - 1;
  // Larger weights than the init so every gate saturates a little and no term is negligible.
  for (let i = 0; i < net.params.length; i++) net.params[i] *= 1.5;
  const state0 = Float64Array.from({ length: net.stateSize }, () => 0.8 * u());
  const x = Float64Array.from({ length: T * I }, () => 1.5 * u());
  const target = Float64Array.from({ length: T * O }, () => u());
  const cls = Array.from({ length: T }, () => Math.floor(rand() * O));
  const stepWeight = [0.7, 0, 1.3, 1, 0.4]; // includes a masked step (weight 0)
  const dOut = new Float64Array(T * O);

  const lossOf = (): number => {
    const state = Float64Array.from(state0);
    const y = net.forwardWindow(state, x, 0, T);
    let L = 0;
    for (let t = 0; t < T; t++) {
      L += c.loss === 'ce'
        ? softmaxCrossEntropyLoss(dOut, t * O, y, t * O, cls[t], O, stepWeight[t], 0.5)
        : mseLoss(dOut, t * O, y, t * O, target, t * O, O, 0.5 * stepWeight[t]);
    }
    return L;
  };

  net.grads.fill(0);
  lossOf();
  net.backwardWindow(dOut, T, c.loss === 'ce');
  const analytic = Float64Array.from(net.grads);

  expectGradientsMatchFiniteDifferences(net.tensors, analytic, lossOf, EPS);
}

const cells: { cell: RecurrentType; rnnActivation?: 'tanh' | 'relu' }[] = [
  { cell: 'rnn', rnnActivation: 'tanh' }, { cell: 'rnn', rnnActivation: 'relu' }, { cell: 'lstm' }, { cell: 'gru' },
];
const name = (c: { cell: string; rnnActivation?: string }) => c.cell + (c.rnnActivation ? `-${c.rnnActivation}` : '');

describe('gradient check: cells, stacks, losses', () => {
  for (const cell of cells) {
    it(`${name(cell)}, 1 layer, linear head, MSE`, () => {
      check({ ...cell, hidden: [4], dense: [{ size: 2, activation: 'linear' }], loss: 'mse' }, 11);
    });
    it(`${name(cell)}, 2 layers, softmax head, cross-entropy`, () => {
      check({ ...cell, hidden: [4, 3], dense: [{ size: 3, activation: 'softmax' }], loss: 'ce' }, 31);
    });
    it(`${name(cell)}, 2 layers, no head (h is the output), MSE`, () => {
      check({ ...cell, hidden: [3, 4], dense: [], loss: 'mse' }, 13);
    });
  }
});

describe('gradient check: dense heads with each activation', () => {
  const acts: DenseActivation[] = ['linear', 'relu', 'tanh', 'sigmoid', 'softmax'];
  for (const activation of acts) {
    it(`lstm -> dense(${activation}) -> dense(linear), MSE`, () => {
      check({ cell: 'lstm', hidden: [4], dense: [{ size: 5, activation }, { size: 2, activation: 'linear' }], loss: 'mse' }, 21);
    });
    it(`gru -> dense(linear) -> dense(${activation}), MSE`, () => {
      check({ cell: 'gru', hidden: [4], dense: [{ size: 4, activation: 'linear' }, { size: 3, activation }], loss: 'mse' }, 22);
    });
  }
});
