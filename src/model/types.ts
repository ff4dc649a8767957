// The model contract: what a decoded model file v1 holds (see docs/model-format.md).
import type { Activation } from '../kernels/activations.js';

export interface TensorF32 {
  readonly dtype: 'f32';
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Symmetric per-output-row int8: w[r, c] = data[r, c] * scale[r], data in -127..127. */
export interface TensorI8 {
  readonly dtype: 'i8';
  readonly shape: readonly number[];
  readonly data: Int8Array;
  readonly scale: Float32Array;
}

export type Tensor = TensorF32 | TensorI8;

export type RecurrentType = 'rnn' | 'lstm' | 'gru';
export type DenseActivation = Activation;
export type RnnActivation = 'tanh' | 'relu';

/** One direction's weights of a recurrent layer (PyTorch layout and gate order). */
export interface RecurrentWeights {
  readonly wIh: Tensor; // [G*H, I]
  readonly wHh: Tensor; // [G*H, H]
  readonly bIh: TensorF32; // [G*H]
  readonly bHh: TensorF32; // [G*H]
}

/** "forward" (the default, absent in files): left to right only. */
export type Direction = 'forward' | 'bidirectional';

interface RecurrentBase extends RecurrentWeights {
  readonly inputSize: number;
  readonly hiddenSize: number;
  /**
   * Absent or "forward": one direction. "bidirectional" (windowed models only, issue 19): a
   * second set of weights, `reverse`, reads the window right to left, and the layer's output
   * at each position is concat(h_forward, h_reverse) [2H] (PyTorch's `bidirectional=True`).
   */
  readonly direction?: Direction;
  /** The reverse direction's weights (PyTorch's `*_reverse`); present iff direction is "bidirectional". */
  readonly reverse?: RecurrentWeights;
}

export interface RnnLayer extends RecurrentBase {
  readonly type: 'rnn';
  readonly activation: RnnActivation;
}
export interface LstmLayer extends RecurrentBase {
  readonly type: 'lstm';
}
export interface GruLayer extends RecurrentBase {
  readonly type: 'gru';
}
export type RecurrentLayer = RnnLayer | LstmLayer | GruLayer;

export interface DenseLayer {
  readonly type: 'dense';
  readonly inputSize: number;
  readonly outputSize: number;
  readonly activation: DenseActivation;
  readonly w: Tensor; // [O, I]
  readonly b: TensorF32; // [O]
}

export type Layer = RecurrentLayer | DenseLayer;

export type Task = 'regression' | 'classification';

export interface ModelInputs {
  readonly names: readonly string[];
  readonly mean: TensorF32; // [I]
  readonly std: TensorF32; // [I], every entry > 0
  /** Optional, together: the training split's smallest and largest value per input (the runtime's input guard). */
  readonly min?: TensorF32; // [I]
  readonly max?: TensorF32; // [I], max[i] >= min[i]
}

export interface ModelOutputs {
  /** Regression: one name per output. Classification: the labelled column, e.g. ["label"]. */
  readonly names: readonly string[];
  readonly mean?: TensorF32; // [O], regression only, with std
  readonly std?: TensorF32;
  /** Classification: one label per output unit (class probabilities). */
  readonly labels?: readonly string[];
  /** Regression forecasters: the outputs are the inputs' values this many steps ahead. */
  readonly horizon?: number;
  /**
   * Regression only: the network predicts the change of each output from the current reading,
   * so y[o] = x[input named names[o]] + (y'[o] · std[o] + mean[o]); every output name is an input.
   */
  readonly residual?: boolean;
  /** Regression forecasters: how `run --anomaly` scores a reading against its forecast (docs/model-format.md). */
  readonly anomaly?: AnomalyScale;
  /** Windowed models only (required there): how the window's outputs become one vector. */
  readonly from?: WindowReduce;
}

/**
 * What scores a reading against the forecast made for it `horizon` steps earlier:
 * score = max over outputs o of |reading[o] − forecast[o]| / rmse[o]; flagged when > threshold.
 * Every output name is an input name (the reading holds the value that was forecast).
 */
export interface AnomalyScale {
  /** [O] the forecast's RMSE per output on the training run's validation readings, in the output's units, > 0. */
  readonly rmse: TensorF32;
  /** Default threshold on the score (> 0, finite); `run --anomaly-threshold` overrides it. */
  readonly threshold: number;
}

/**
 * A windowed model (issue 19): it reads the last `size` readings of a device as one sequence,
 * from a zero state, and gives one result every `hop` readings (1 ≤ hop ≤ size).
 */
export interface ModelWindow {
  readonly size: number;
  readonly hop: number;
}

/**
 * How a windowed model reduces the last recurrent layer's outputs over the window to the one
 * vector its dense head reads: "last" = the forward direction's h after the window's last
 * reading (and, for a bidirectional layer, the reverse direction's h after reading back to the
 * window's first, i.e. its final state); "mean" = the mean over the window's positions.
 */
export type WindowReduce = 'last' | 'mean';

export interface Model {
  readonly format: 'edge-rnn';
  readonly version: 1;
  readonly name: string;
  readonly modelVersion: number;
  readonly task: Task;
  readonly inputs: ModelInputs;
  readonly outputs: ModelOutputs;
  readonly layers: readonly Layer[];
  /** Absent: a causal model, one prediction per reading (the default). */
  readonly window?: ModelWindow;
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** Rows of wIh per hidden unit: one per gate. */
export const GATES: Readonly<Record<RecurrentType, number>> = { rnn: 1, lstm: 4, gru: 3 };

export function isRecurrent(layer: Layer): layer is RecurrentLayer {
  return layer.type !== 'dense';
}

export function isBidirectional(layer: Layer): boolean {
  return layer.type !== 'dense' && layer.direction === 'bidirectional';
}

/** Floats a layer outputs per position: O for dense, H for a recurrent layer, 2H bidirectional. */
export function layerOutputSize(layer: Layer): number {
  if (layer.type === 'dense') return layer.outputSize;
  return isBidirectional(layer) ? 2 * layer.hiddenSize : layer.hiddenSize;
}

/** Width of the model's output vector. */
export function outputSize(model: Model): number {
  return layerOutputSize(model.layers[model.layers.length - 1]);
}

/** Each direction's weights of a recurrent layer: [forward] or [forward, reverse]. */
export function directionWeights(layer: RecurrentLayer): RecurrentWeights[] {
  return layer.reverse ? [layer, layer.reverse] : [layer];
}

export function parameterCount(model: Model): number {
  let n = 0;
  for (const l of model.layers) {
    if (l.type === 'dense') n += l.w.data.length + l.b.data.length;
    else for (const w of directionWeights(l)) n += w.wIh.data.length + w.wHh.data.length + w.bIh.data.length + w.bHh.data.length;
  }
  return n;
}
