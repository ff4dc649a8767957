import type { ModelPlan } from '../model/plan.js';

/** stepBatch's contract, checked the same way by every session: xs [n, I] and ys [n, O] fit. */
export function checkBatch(plan: ModelPlan, n: number, xs: Float32Array, ys: Float32Array): void {
  const I = plan.inputSize, O = plan.outputSize;
  if (xs.length < n * I || ys.length < n * O) {
    throw new RangeError(`stepBatch: ${n} streams need xs of ${n * I} and ys of ${n * O} floats, got ${xs.length} and ${ys.length}`);
  }
}
