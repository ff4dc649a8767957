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

/** `model` with training-target statistics (outputs.mean / std), as `train` writes them. */
export function withTargetStats(model: Model, mean: readonly number[], std: readonly number[]): Model {
  return { ...model, outputs: { ...model.outputs, mean: tensorF32([mean.length], Float32Array.from(mean)), std: tensorF32([std.length], Float32Array.from(std)) } };
}

/** Training targets of the probation test models: temperature 20 ± 2, humidity 40 ± 3. */
export const TARGET_MEAN = [20, 40] as const;
export const TARGET_STD = [2, 3] as const;

/**
 * A ReLU RNN whose hidden state grows 1.6× per step of a device (diagonal wHh = 1.6): the
 * first few outputs are ordinary, the 4th of a device is > 10 std off the training targets
 * for readings around (20, 40), and after ~190 steps it overflows. Validly shaped, finite.
 */
export function diverging(name: string, modelVersion: number): Model {
  const base = version(name, modelVersion, { cell: 'rnn' });
  const layers: Layer[] = base.layers.map((l) => {
    if (l.type === 'dense') return { ...l, w: tensorF32([...l.w.shape], new Float32Array(l.w.data.length).fill(0.1)), b: tensorF32([...l.b.shape], new Float32Array(l.b.data.length)) };
    const H = l.hiddenSize;
    const wHh = new Float32Array(H * H);
    for (let i = 0; i < H; i++) wHh[i * H + i] = 1.6;
    return {
      ...l, type: 'rnn', activation: 'relu',
      wIh: tensorF32([...l.wIh.shape], new Float32Array(l.wIh.data.length).fill(0.02)),
      wHh: tensorF32([H, H], wHh),
      bIh: tensorF32([H], new Float32Array(H).fill(0.1)), bHh: tensorF32([H], new Float32Array(H).fill(0.1)),
    } as Layer;
  });
  return withTargetStats({ ...base, layers }, TARGET_MEAN, TARGET_STD);
}

/** Outputs stuck at about 1e10 (°C and %) for any reading: finite, but absurd. */
export function saturating(name: string, modelVersion: number): Model {
  const base = version(name, modelVersion);
  const layers: Layer[] = base.layers.map((l) =>
    l.type === 'dense' ? { ...l, w: tensorF32([...l.w.shape], new Float32Array(l.w.data.length)), b: tensorF32([...l.b.shape], new Float32Array(l.b.data.length).fill(5e9)) } : l,
  );
  return withTargetStats({ ...base, layers }, TARGET_MEAN, TARGET_STD);
}
