// A model's shape facts, worked out once (llama2.c's Config): which layers are recurrent
// and which dense, the gates and sizes of each, where each layer's h and c sit in a stream's
// state buffer, the scratch a step needs, and how the output is formed. Both sessions, the
// trainer's network and the swap rules read this instead of re-deriving it (issue 14), and
// the window forward pass (issue 19) its sequence widths.
import {
  GATES, layerOutputSize, outputSize, type DenseLayer, type Model, type RecurrentLayer, type WindowReduce,
} from './types.js';

export interface RecurrentPlan {
  readonly layer: RecurrentLayer;
  /** Position in model.layers. */
  readonly index: number;
  /** Gate blocks per unit (lstm 4, gru 3, rnn 1): wIh is [gates · hiddenSize, inputSize]. */
  readonly gates: number;
  readonly inputSize: number;
  readonly hiddenSize: number;
  /** h in a state buffer: floats [hOffset, hOffset + hiddenSize). */
  readonly hOffset: number;
  /** c (LSTM only) at [cOffset, cOffset + hiddenSize); -1 for a cell without c. */
  readonly cOffset: number;
  /** Floats out per position: hiddenSize, or 2 · hiddenSize for a bidirectional layer (h_fwd then h_rev). */
  readonly outputSize: number;
  /**
   * A bidirectional layer's reverse direction as a cell the kernels step (the layer's sizes and
   * activation with the reverse weights); null for a forward-only layer.
   */
  readonly reverse: RecurrentLayer | null;
}

/** A windowed model's facts (issue 19): what the window forward pass and the ring need. */
export interface WindowPlan {
  /** W: readings per window. */
  readonly size: number;
  /** One result every `hop` readings. */
  readonly hop: number;
  readonly from: WindowReduce;
  /** Widest per-position vector in the window (the input I or a layer's output): the sequence buffers' stride. */
  readonly seqWidth: number;
  /** Width of the reduced vector the dense head reads: the last recurrent layer's outputSize. */
  readonly reducedSize: number;
  /** Largest hiddenSize: the per-direction h and c scratch. */
  readonly maxHidden: number;
}

export interface ModelPlan {
  /** The recurrent layers in order: the state buffer holds h0 [c0] h1 [c1] … */
  readonly recurrent: readonly RecurrentPlan[];
  /** The dense head, in order, after the last recurrent layer. */
  readonly dense: readonly DenseLayer[];
  /** Position in model.layers of each dense layer. */
  readonly denseIndex: readonly number[];
  /** I: floats in a reading. */
  readonly inputSize: number;
  /** O: floats in a prediction. */
  readonly outputSize: number;
  /** Floats in one stream's state buffer. */
  readonly stateSize: number;
  /** Largest gates · hiddenSize of a recurrent layer: the gate scratch one step needs. */
  readonly maxGateRows: number;
  /** The network's output is the last recurrent layer's h (no dense head). */
  readonly outputIsHidden: boolean;
  /** The output is de-normalised (outputs.mean and outputs.std given). */
  readonly outputNormalised: boolean;
  /** Residual outputs: the input index whose reading each output adds back; null otherwise. */
  readonly residualFrom: Int32Array | null;
  /** Windowed models: the window; null for a causal model (one prediction per reading). */
  readonly window: WindowPlan | null;
  /**
   * The recurrent layers' types and hidden sizes, e.g. "lstm:16,lstm:8" ("lstm:16x2" for a
   * bidirectional layer, ",window:W" appended for a windowed model): a device's state may
   * carry over a model swap only when the two keys are equal.
   */
  readonly shapeKey: string;
}

function reverseCell(l: RecurrentLayer): RecurrentLayer | null {
  if (!l.reverse) return null;
  const { direction: _d, reverse, ...rest } = l;
  return { ...rest, ...reverse };
}

export function planModel(model: Model): ModelPlan {
  const recurrent: RecurrentPlan[] = [];
  const dense: DenseLayer[] = [], denseIndex: number[] = [];
  let off = 0, maxGateRows = 0;
  model.layers.forEach((l, index) => {
    if (l.type === 'dense') {
      dense.push(l);
      denseIndex.push(index);
      return;
    }
    const gates = GATES[l.type], H = l.hiddenSize;
    const hOffset = off;
    off += H;
    const cOffset = l.type === 'lstm' ? off : -1;
    if (l.type === 'lstm') off += H;
    maxGateRows = Math.max(maxGateRows, gates * H);
    recurrent.push({
      layer: l, index, gates, inputSize: l.inputSize, hiddenSize: H, hOffset, cOffset,
      outputSize: layerOutputSize(l), reverse: reverseCell(l),
    });
  });
  const { outputs, inputs } = model;
  const window = model.window && recurrent.length > 0 ? {
    size: model.window.size,
    hop: model.window.hop,
    from: outputs.from ?? 'last',
    seqWidth: Math.max(inputs.names.length, ...recurrent.map((r) => r.outputSize)),
    reducedSize: recurrent[recurrent.length - 1].outputSize,
    maxHidden: Math.max(...recurrent.map((r) => r.hiddenSize)),
  } : null;
  const layerKey = recurrent.map((r) => `${r.layer.type}:${r.hiddenSize}${r.reverse ? 'x2' : ''}`).join(',');
  return {
    recurrent, dense, denseIndex,
    inputSize: inputs.names.length,
    outputSize: outputSize(model),
    stateSize: off,
    maxGateRows,
    outputIsHidden: dense.length === 0 && recurrent.length > 0,
    outputNormalised: outputs.mean !== undefined && outputs.std !== undefined,
    residualFrom: outputs.residual ? Int32Array.from(outputs.names, (n) => inputs.names.indexOf(n)) : null,
    window,
    shapeKey: window ? `${layerKey},window:${window.size}` : layerKey,
  };
}
