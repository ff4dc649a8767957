// Losses of one step, each returning its value and writing its gradient. Both are
// averaged over the steps of a batch by the caller (it passes 1 / steps as `scale`).
import type { FloatArray } from '../kernels/cells-backward.js';

/**
 * Mean squared error over O outputs: (1/O) Σ (y - t)².  Writes d[o] = scale · ∂/∂y[o]
 * into dOut[off + o] and returns scale · loss.
 */
export function mseLoss(
  dOut: Float64Array, off: number, y: FloatArray, yOff: number, target: FloatArray, tOff: number, O: number, scale: number,
): number {
  let sum = 0;
  for (let o = 0; o < O; o++) {
    const e = y[yOff + o] - target[tOff + o];
    sum += e * e;
    dOut[off + o] = (scale * 2 * e) / O;
  }
  return (scale * sum) / O;
}

/** Probabilities are clamped here before the log, so a confident mistake costs ≈ 27.6, not ∞. */
const MIN_P = 1e-12;

/**
 * Weighted cross-entropy of softmax probabilities p [C] for class `cls`: -w log p[cls].
 * Writes the gradient w.r.t. the pre-softmax logits, scale · w · (p - onehot), which is
 * exact and stable where ∂/∂p (= -w / p[cls]) is not; returns scale · loss.
 */
export function softmaxCrossEntropyLoss(
  dLogits: Float64Array, off: number, p: FloatArray, pOff: number, cls: number, C: number, weight: number, scale: number,
): number {
  const sw = scale * weight;
  for (let c = 0; c < C; c++) dLogits[off + c] = sw * (p[pOff + c] - (c === cls ? 1 : 0));
  return -sw * Math.log(Math.max(p[pOff + cls], MIN_P));
}

/**
 * Inverse-frequency class weights, w_c = N / (C · n_c), so every class carries the same
 * total weight; a class absent from the training split gets weight 0 (no example to weigh).
 */
export function inverseFrequencyWeights(counts: readonly number[]): number[] {
  const N = counts.reduce((a, b) => a + b, 0);
  const C = counts.length;
  return counts.map((n) => (n > 0 ? N / (C * n) : 0));
}
