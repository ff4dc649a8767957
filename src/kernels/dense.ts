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
