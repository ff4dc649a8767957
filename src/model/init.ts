// Fresh models from a spec: seeded PyTorch-style initialisation (U(-1/√H, 1/√H) for
// recurrent weights, U(-1/√I, 1/√I) for dense), identity normalisation. Used by the
// trainer as its starting point and by tests and benchmarks for models of any shape.
import { tensorF32 } from './tensor.js';
import type { DenseActivation, Layer, Model, RecurrentType, RnnActivation, Task } from './types.js';
import { GATES } from './types.js';

/** mulberry32: a small, fast, seeded PRNG; uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ModelSpec {
  readonly name: string;
  readonly modelVersion?: number;
  readonly task?: Task;
  readonly inputs: readonly string[];
  /** Regression: output names. Classification: the labelled column (one name). */
  readonly outputs: readonly string[];
  readonly labels?: readonly string[];
  readonly horizon?: number;
  readonly cell: RecurrentType;
  readonly hiddenSizes: readonly number[];
  readonly rnnActivation?: RnnActivation;
  /** Dense head, in order; the last one's size must match the outputs. Empty: h is the output. */
  readonly dense?: readonly { readonly size: number; readonly activation: DenseActivation }[];
  readonly meta?: Record<string, unknown>;
}

function uniform(n: number, bound: number, rand: () => number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * bound;
  return a;
}

export function initModel(spec: ModelSpec, seed: number): Model {
  const rand = seededRandom(seed);
  const layers: Layer[] = [];
  let width = spec.inputs.length;
  for (const H of spec.hiddenSizes) {
    const G = GATES[spec.cell] * H;
    const k = 1 / Math.sqrt(H);
    const base = {
      inputSize: width, hiddenSize: H,
      wIh: tensorF32([G, width], uniform(G * width, k, rand)),
      wHh: tensorF32([G, H], uniform(G * H, k, rand)),
      bIh: tensorF32([G], uniform(G, k, rand)),
      bHh: tensorF32([G], uniform(G, k, rand)),
    };
    layers.push(spec.cell === 'rnn' ? { type: 'rnn', activation: spec.rnnActivation ?? 'tanh', ...base } : { type: spec.cell, ...base });
    width = H;
  }
  for (const d of spec.dense ?? []) {
    const k = 1 / Math.sqrt(width);
    layers.push({
      type: 'dense', inputSize: width, outputSize: d.size, activation: d.activation,
      w: tensorF32([d.size, width], uniform(d.size * width, k, rand)),
      b: tensorF32([d.size], uniform(d.size, k, rand)),
    });
    width = d.size;
  }
  const I = spec.inputs.length;
  return {
    format: 'edge-rnn', version: 1, name: spec.name, modelVersion: spec.modelVersion ?? 1,
    task: spec.task ?? 'regression',
    inputs: { names: [...spec.inputs], mean: tensorF32([I], new Float32Array(I)), std: tensorF32([I], new Float32Array(I).fill(1)) },
    outputs: {
      names: [...spec.outputs],
      ...(spec.labels ? { labels: [...spec.labels] } : {}),
      ...(spec.horizon ? { horizon: spec.horizon } : {}),
    },
    layers,
    ...(spec.meta ? { meta: spec.meta } : {}),
  };
}
