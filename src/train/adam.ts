// Adam (Kingma & Ba, 2015) with bias correction, updating the parameters in place.
import type { FloatArray } from '../kernels/cells-backward.js';

export interface AdamOptions {
  readonly lr: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
}

export interface Adam {
  /** One update from `grads` (same layout as `params`), with learning rate `lr` (default: the option's). */
  step(params: FloatArray, grads: Float64Array, lr?: number): void;
  /** Updates taken so far. */
  readonly steps: number;
}

export function createAdam(size: number, opts: AdamOptions): Adam {
  const { lr: lr0, beta1 = 0.9, beta2 = 0.999, eps = 1e-8 } = opts;
  const m = new Float64Array(size);
  const v = new Float64Array(size);
  let t = 0;
  return {
    step(params, grads, lr = lr0) {
      t++;
      const c1 = 1 - Math.pow(beta1, t);
      const c2 = 1 - Math.pow(beta2, t);
      for (let i = 0; i < size; i++) {
        const g = grads[i];
        m[i] = beta1 * m[i] + (1 - beta1) * g;
        v[i] = beta2 * v[i] + (1 - beta2) * g * g;
        params[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
      }
    },
    get steps() {
      return t;
    },
  };
}
