// The finite-difference check both trainer networks are held to (test/train/gradcheck and
// window-network): central differences in float64 against the analytic gradients, per tensor.
import { expect } from 'vitest';

export interface CheckedTensor {
  readonly name: string;
  readonly value: Float32Array | Float64Array;
  readonly grad: Float32Array | Float64Array;
}

/** `analytic`: the network's flat gradient buffer after one backward pass (each tensor's grad is a view into it). */
export function expectGradientsMatchFiniteDifferences(tensors: readonly CheckedTensor[], analytic: ArrayLike<number>, lossOf: () => number, eps: number): void {
  for (const tensor of tensors) {
    const off = tensor.grad.byteOffset / tensor.grad.BYTES_PER_ELEMENT;
    let num2 = 0, diff2 = 0, worst = 0;
    for (let i = 0; i < tensor.value.length; i++) {
      const p = tensor.value[i];
      tensor.value[i] = p + eps;
      const lp = lossOf();
      tensor.value[i] = p - eps;
      const lm = lossOf();
      tensor.value[i] = p;
      const numeric = (lp - lm) / (2 * eps);
      const a = analytic[off + i];
      num2 += numeric * numeric;
      diff2 += (a - numeric) ** 2;
      worst = Math.max(worst, Math.abs(a - numeric) / (1e-6 + Math.abs(numeric)));
    }
    // The tensor must matter (a gradient of all zeros would pass trivially)...
    expect(Math.sqrt(num2), `${tensor.name} has a zero gradient`).toBeGreaterThan(1e-4);
    // ...and agree as a whole and element by element.
    expect(Math.sqrt(diff2 / num2), `${tensor.name} relative error`).toBeLessThan(1e-6);
    expect(worst, `${tensor.name} worst element`).toBeLessThan(1e-3);
  }
}
