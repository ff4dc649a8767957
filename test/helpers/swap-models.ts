// Models for the hot-swap tests: versions of one model with the same or different
// recurrent shapes, and one whose output overflows to Infinity on any ordinary reading.
import { initModel } from '../../src/model/init.js';
import { tensorF32 } from '../../src/model/tensor.js';
import type { Layer, Model } from '../../src/model/types.js';

export const INPUTS = ['temperature', 'humidity'] as const;

/** LSTM(hidden) + dense 2; the seed makes each version's weights differ. */
export function version(name: string, modelVersion: number, opts: { hidden?: number; cell?: 'lstm' | 'gru' | 'rnn'; inputs?: readonly string[]; seed?: number } = {}): Model {
  return initModel({
    name, modelVersion, inputs: opts.inputs ?? INPUTS, outputs: ['temperature', 'humidity'],
    cell: opts.cell ?? 'lstm', hiddenSizes: [opts.hidden ?? 8], dense: [{ size: 2, activation: 'linear' }],
  }, opts.seed ?? 100 + modelVersion);
}

/**
 * A ReLU RNN with every weight and bias 1e30: for positive inputs h ≈ 6e31 per unit and
 * the dense output ≈ 2.5e62, which is Infinity in float32. Finite weights, so it decodes.
 */
export function exploding(name: string, modelVersion: number, hidden = 8): Model {
  const base = version(name, modelVersion, { cell: 'rnn', hidden });
  const fill = (t: { shape: readonly number[]; data: { length: number } }) => tensorF32([...t.shape], new Float32Array(t.data.length).fill(1e30));
  const layers: Layer[] = base.layers.map((l) =>
    l.type === 'dense'
      ? { ...l, w: fill(l.w), b: fill(l.b) }
      : { ...l, type: 'rnn', activation: 'relu', wIh: fill(l.wIh), wHh: fill(l.wHh), bIh: fill(l.bIh), bHh: fill(l.bHh) } as Layer,
  );
  return { ...base, layers };
}
