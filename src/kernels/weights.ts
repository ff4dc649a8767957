// The weight shapes the cell kernels read. Model tensors satisfy these structurally, so a
// decoded model is stepped without copying.
import { matvecBiasAddF32, matvecBiasF32 } from './matvec.js';
import { matvecBiasAddQ8, matvecBiasQ8 } from './matvec-q8.js';

export type WeightMatrix =
  | { readonly dtype: 'f32'; readonly data: Float32Array }
  | { readonly dtype: 'i8'; readonly data: Int8Array; readonly scale: Float32Array };

export interface BiasVector {
  readonly data: Float32Array;
}

/** y = W x + b for either weight dtype.  W [rows, cols] -> y [rows]. */
export function matvecBias(
  y: Float32Array, w: WeightMatrix, x: Float32Array, b: Float32Array, rows: number, cols: number,
): void {
  if (w.dtype === 'f32') matvecBiasF32(y, w.data, x, b, rows, cols);
  else matvecBiasQ8(y, w.data, w.scale, x, b, rows, cols);
}

/** y += W x + b for either weight dtype. */
export function matvecBiasAdd(
  y: Float32Array, w: WeightMatrix, x: Float32Array, b: Float32Array, rows: number, cols: number,
): void {
  if (w.dtype === 'f32') matvecBiasAddF32(y, w.data, x, b, rows, cols);
  else matvecBiasAddQ8(y, w.data, w.scale, x, b, rows, cols);
}
