// A fitted linear autoregression as an exact recurrent model: a one-layer ReLU RNN that
// holds a shift register of the last k normalised inputs and a linear dense head that
// applies the AR's coefficients to it (issue 15: the recurrent models were 5-8x worse
// than the AR they contain as a special case; this makes the special case the start).
//
// Hidden unit u(j, s, i) = j·2I + s·I + i, lag j in 0..k-1, sign s (0: +, 1: -), input i:
//   h[u(0, +, i)] = relu( x'[t, i])      h[u(0, -, i)] = relu(-x'[t, i])
//   h[u(j, s, i)] = relu(h_prev[u(j-1, s, i)]) = h_prev[u(j-1, s, i)]   (j >= 1, already >= 0)
// so h[u(j, +, i)] - h[u(j, -, i)] = x'[t - j, i], and 0 before the series' first j steps,
// as the AR reads them. The head: y'[o] = Σ_j Σ_i coef[o][j·I + i]·(h+ − h−) + intercept[o].
// Every weight is 0, +1 or -1 except the head's, so the f32 run is exact up to the head's
// summation order; int8 keeps the recurrent layer a copy (one ±1 per row, 127·f32(1/127) = 1 − 4e-9).
import { tensorF32 } from '../model/tensor.js';
import type { DenseLayer, Model, RnnLayer } from '../model/types.js';
import type { Dataset } from './dataset.js';
import type { LinearAr } from './linear-ar.js';
import { createNetwork } from './network.js';
import { exportModel, initialModel } from './trainer.js';

/** Hidden units the shift register needs: two (+ and − parts) per input and lag. */
export function arHiddenSize(ar: Pick<LinearAr, 'lags' | 'inputs'>): number {
  return 2 * ar.lags * ar.inputs;
}

/** The recurrent layer and dense head that compute `ar` exactly. */
export function arLayers(ar: LinearAr): [RnnLayer, DenseLayer] {
  const I = ar.inputs, k = ar.lags, O = ar.coef.length, H = arHiddenSize(ar);
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`arLayers: lags must be an integer >= 1, got ${k}`);
  if (ar.intercept.length !== O) throw new RangeError(`arLayers: ${O} coefficient rows but ${ar.intercept.length} intercepts`);
  ar.coef.forEach((c, o) => {
    if (c.length !== k * I) throw new RangeError(`arLayers: coef[${o}] has ${c.length} entries, expected lags·inputs = ${k * I}`);
  });
  const unit = (j: number, s: number, i: number) => j * 2 * I + s * I + i;
  const wIh = new Float32Array(H * I), wHh = new Float32Array(H * H);
  for (let i = 0; i < I; i++) {
    wIh[unit(0, 0, i) * I + i] = 1;
    wIh[unit(0, 1, i) * I + i] = -1;
  }
  for (let j = 1; j < k; j++) {
    for (let s = 0; s < 2; s++) for (let i = 0; i < I; i++) wHh[unit(j, s, i) * H + unit(j - 1, s, i)] = 1;
  }
  const w = new Float32Array(O * H), b = new Float32Array(O);
  for (let o = 0; o < O; o++) {
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < I; i++) {
        const c = ar.coef[o][j * I + i];
        w[o * H + unit(j, 0, i)] = c;
        w[o * H + unit(j, 1, i)] = -c;
      }
    }
    b[o] = ar.intercept[o];
  }
  const zeros = () => tensorF32([H], new Float32Array(H));
  return [
    { type: 'rnn', activation: 'relu', inputSize: I, hiddenSize: H, wIh: tensorF32([H, I], wIh), wHh: tensorF32([H, H], wHh), bIh: zeros(), bHh: zeros() },
    { type: 'dense', activation: 'linear', inputSize: H, outputSize: O, w: tensorF32([O, H], w), b: tensorF32([O], b) },
  ];
}

/**
 * The AR as a deployable model for dataset `ds` (its normalisation and outputs, residual
 * included): the runtime's outputs equal linearArOutputs to float rounding.
 */
export function arModel(ar: LinearAr, ds: Dataset, name: string): Model {
  if (ds.task !== 'regression') throw new RangeError('arModel: an autoregression forecasts a regression target');
  if (ar.inputs !== ds.inputNames.length || ar.coef.length !== ds.outputNames.length) {
    throw new RangeError(`arModel: the AR maps ${ar.inputs} inputs to ${ar.coef.length} outputs; the dataset has ${ds.inputNames.length} inputs and ${ds.outputNames.length} outputs`);
  }
  const base = initialModel(ds, { ...arTrainShape(ar), name, seqLen: 1, batch: 1, epochs: 0, lr: 0, clip: 0, patience: 0, seed: 0 });
  return exportModel(createNetwork({ ...base, layers: arLayers(ar) }, 1), ds, base);
}

/** The TrainOptions fields that give the AR model's shape (train --init linear-ar). */
export function arTrainShape(ar: LinearAr): { cell: 'rnn'; rnnActivation: 'relu'; hidden: number; layers: 1 } {
  return { cell: 'rnn', rnnActivation: 'relu', hidden: arHiddenSize(ar), layers: 1 };
}
