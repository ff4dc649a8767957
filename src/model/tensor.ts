import type { TensorF32 } from './types.js';

/** An f32 tensor from numbers; checks that the data fits the shape. */
export function tensorF32(shape: readonly number[], data: ArrayLike<number>): TensorF32 {
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new RangeError(`tensorF32: ${data.length} values for shape [${shape.join(', ')}]`);
  return { dtype: 'f32', shape: [...shape], data: Float32Array.from(data) };
}
