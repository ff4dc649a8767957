import { activateInPlace, type Activation } from './activations.js';
import { matvecBias, type BiasVector, type WeightMatrix } from './weights.js';

export interface DenseWeights {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly activation: Activation;
  readonly w: WeightMatrix; // [O, I]
  readonly b: BiasVector; // [O]
}

/** y = act(W x + b).  W [O, I], x [I] -> y [O]. */
export function denseForward(y: Float32Array, d: DenseWeights, x: Float32Array): void {
  matvecBias(y, d.w, x, d.b.data, d.outputSize, d.inputSize);
  activateInPlace(y, d.outputSize, d.activation);
}

/** Dense layers in order, layer k into ys[k] from ys[k - 1] (layer 0 from x); returns the last output (x if none). */
export function denseStackForward(ys: readonly Float32Array[], layers: readonly DenseWeights[], x: Float32Array): Float32Array {
  let cur = x;
  for (let k = 0; k < layers.length; k++) {
    denseForward(ys[k], layers[k], cur);
    cur = ys[k];
  }
  return cur;
}
