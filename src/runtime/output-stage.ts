// The last part of a step, shared by the JS and WebAssembly sessions so both write the same
// float32 numbers: de-normalise the network output (y = y' · std + mean) and, for residual
// models (outputs.residual), add back the current reading of the same-named input.
import type { ModelPlan } from '../model/plan.js';
import type { Model } from '../model/types.js';

/**
 * out[offset + o] (the predicted change, already de-normalised and rounded to float32) plus
 * the raw reading x[xOff + from[o]]: y = x + f32(y' · std + mean), rounded once more to float32.
 */
export function addResidual(out: Float32Array, offset: number, x: ArrayLike<number>, xOff: number, from: Int32Array): void {
  for (let o = 0; o < from.length; o++) out[offset + o] = x[xOff + from[o]] + out[offset + o];
}

/**
 * writeOutput(y, out, offset, x, xOff): the network output y [O] (normalised) to out[offset..]
 * in the model's units; x[xOff..] is the raw reading the step read (for residual outputs).
 */
export type WriteOutput = (y: Float32Array, out: Float32Array, offset: number, x: ArrayLike<number>, xOff: number) => void;

export function outputStage(model: Model, plan: ModelPlan): WriteOutput {
  const O = plan.outputSize;
  const mean = model.outputs.mean?.data;
  const std = model.outputs.std?.data;
  const residualFrom = plan.residualFrom;
  return (y, out, offset, x, xOff) => {
    if (mean && std) for (let o = 0; o < O; o++) out[offset + o] = y[o] * std[o] + mean[o];
    else for (let o = 0; o < O; o++) out[offset + o] = y[o];
    if (residualFrom) addResidual(out, offset, x, xOff, residualFrom);
  };
}
