// A hand-built persistence forecaster: zero weights and residual outputs, so its forecast at
// every reading is that reading itself (y = x + 0). Anomaly scores of it can be computed by
// hand: the score of reading u is max_o |x_u[o] − x_{u−horizon}[o]| / rmse[o].
import type { Model, TensorF32 } from '../../src/model/types.js';

const t = (shape: number[], values: ArrayLike<number>): TensorF32 => ({ dtype: 'f32', shape, data: Float32Array.from(values) });
const zeros = (...shape: number[]) => t(shape, new Array(shape.reduce((a, b) => a * b, 1)).fill(0));

export interface PersistenceSpec {
  readonly inputs?: readonly string[];
  readonly horizon: number;
  /** outputs.anomaly; none without it. */
  readonly anomaly?: { readonly rmse: readonly number[]; readonly threshold: number };
  readonly name?: string;
  readonly modelVersion?: number;
}

export function persistenceModel(spec: PersistenceSpec): Model {
  const names = spec.inputs ?? ['a', 'b'];
  const n = names.length;
  return {
    format: 'edge-rnn', version: 1, name: spec.name ?? 'persistence', modelVersion: spec.modelVersion ?? 1, task: 'regression',
    inputs: { names: [...names], mean: zeros(n), std: t([n], new Array(n).fill(1)) },
    outputs: {
      names: [...names], mean: zeros(n), std: t([n], new Array(n).fill(1)), horizon: spec.horizon, residual: true,
      ...(spec.anomaly ? { anomaly: { rmse: t([n], spec.anomaly.rmse), threshold: spec.anomaly.threshold } } : {}),
    },
    layers: [
      { type: 'rnn', activation: 'tanh', inputSize: n, hiddenSize: 1, wIh: zeros(1, n), wHh: zeros(1, 1), bIh: zeros(1), bHh: zeros(1) },
      { type: 'dense', inputSize: 1, outputSize: n, activation: 'linear', w: zeros(n, 1), b: zeros(n) },
    ],
  };
}
