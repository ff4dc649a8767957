// Backward of denseForward (dense.ts). Output arguments first; gradients d… accumulate
// with +=; `dpre` is caller-owned scratch [O]; nothing is allocated.
import type { Activation } from './activations.js';
import { linearBackward, type FloatArray } from './cells-backward.js';

/** Float weights of a dense layer, as the backward pass reads them. */
export interface DenseParams {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly activation: Activation;
  readonly w: { readonly data: FloatArray }; // [O, I]
}

/**
 * dpre = dy · act'(…), from the layer's output y = act(W x + b) [O] and dy = ∂L/∂y [O].
 * Softmax uses its full Jacobian: dpre_i = y_i (dy_i - Σ_j dy_j y_j).
 */
export function activationBackward(dpre: FloatArray, dy: FloatArray, y: FloatArray, n: number, act: Activation): void {
  switch (act) {
    case 'linear':
      for (let i = 0; i < n; i++) dpre[i] = dy[i];
      return;
    case 'relu':
      for (let i = 0; i < n; i++) dpre[i] = y[i] > 0 ? dy[i] : 0;
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) dpre[i] = dy[i] * (1 - y[i] * y[i]);
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) dpre[i] = dy[i] * y[i] * (1 - y[i]);
      return;
    case 'softmax': {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += dy[i] * y[i];
      for (let i = 0; i < n; i++) dpre[i] = y[i] * (dy[i] - dot);
      return;
    }
  }
}

/**
 * Backward of denseForward from the gradient of its pre-activation (W x + b) [O]:
 * dW += dpre ⊗ x, db += dpre, dx += Wᵀ dpre (dx null: not needed). Used directly for a
 * softmax layer under cross-entropy, whose pre-activation gradient is simply p - onehot.
 */
export function denseBackwardPre(
  dx: FloatArray | null, dW: FloatArray, db: FloatArray, d: DenseParams, dpre: FloatArray, x: FloatArray,
): void {
  linearBackward(dx, dW, db, d.w.data, dpre, x, d.outputSize, d.inputSize);
}

/**
 * Backward of denseForward.  y [O]: its output; dy [O]: ∂L/∂y.  Accumulates dx [I],
 * dW [O, I], db [O].  dpre: scratch [O].
 */
export function denseBackward(
  dx: FloatArray | null, dW: FloatArray, db: FloatArray, dpre: FloatArray, d: DenseParams,
  dy: FloatArray, x: FloatArray, y: FloatArray,
): void {
  activationBackward(dpre, dy, y, d.outputSize, d.activation);
  linearBackward(dx, dW, db, d.w.data, dpre, x, d.outputSize, d.inputSize);
}
