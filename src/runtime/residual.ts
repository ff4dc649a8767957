// Residual outputs (model format v1, outputs.residual): the network predicts the change of
// each output from the current reading, and the session adds that reading back. Shared by
// the JS and WebAssembly sessions so both compute the same float32 numbers.
import type { Model } from '../model/types.js';

/**
 * Residual outputs (outputs.residual): the input index each output's current value comes
 * from, or null for a model that outputs levels directly.
 */
export function residualInputs(model: Model): Int32Array | null {
  if (!model.outputs.residual) return null;
  return Int32Array.from(model.outputs.names, (n) => model.inputs.names.indexOf(n));
}

/**
 * out[offset + o] (the predicted change, already de-normalised and rounded to float32) plus
 * the raw reading x[xOff + from[o]]: y = x + f32(y' · std + mean), rounded once more to float32.
 */
export function addResidual(out: Float32Array, offset: number, x: ArrayLike<number>, xOff: number, from: Int32Array): void {
  for (let o = 0; o < from.length; o++) out[offset + o] = x[xOff + from[o]] + out[offset + o];
}
