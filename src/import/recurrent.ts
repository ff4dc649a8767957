// One ONNX LSTM / GRU / RNN node -> a format v1 recurrent layer, or a refusal naming the
// node and the attribute or input the runtime cannot run exactly.
//
// Gate orders (rows of W, R and each half of B, per direction):
//   ONNX LSTM i, o, f, c   -> ours i, f, g, o   (c is PyTorch's g)
//   ONNX GRU  z, r, h      -> ours r, z, n      (linear_before_reset = 1 is PyTorch's GRU)
//   ONNX RNN  one gate
// B [1, 2·G·H] is Wb then Rb: our bIh then bHh. Each value is copied, never recomputed.
// direction = "bidirectional" (issue 19): W, R, B are [2, …]; direction 0 is the forward
// weights, direction 1 the layer's `reverse` (PyTorch's *_reverse), same reordering.
import { GATES, type RecurrentLayer, type RecurrentType, type RecurrentWeights, type TensorF32 } from '../model/types.js';
import { OnnxImportError } from './errors.js';
import { intAttr, nodeLabel, stringAttr, stringsAttr, floatAttr, type OnnxGraph, type Constant } from './onnx-graph.js';
import type { OnnxNode } from './onnx-proto.js';

export const RECURRENT_OPS: Readonly<Record<string, RecurrentType>> = { LSTM: 'lstm', GRU: 'gru', RNN: 'rnn' };

/** Our gate k takes ONNX gate ORDER[type][k]. */
const ORDER: Readonly<Record<RecurrentType, readonly number[]>> = { lstm: [0, 2, 3, 1], gru: [1, 0, 2], rnn: [0] };

const DEFAULT_ACTIVATIONS: Readonly<Record<RecurrentType, readonly string[]>> = {
  lstm: ['Sigmoid', 'Tanh', 'Tanh'], gru: ['Sigmoid', 'Tanh'], rnn: ['Tanh'],
};

const KNOWN_ATTRIBUTES: Readonly<Record<RecurrentType, readonly string[]>> = {
  lstm: ['activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'input_forget', 'layout'],
  gru: ['activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'linear_before_reset', 'layout'],
  rnn: ['activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'layout'],
};

function f32(shape: number[], values: ArrayLike<number>): TensorF32 {
  return { dtype: 'f32', shape, data: Float32Array.from(values) };
}

/** Rows [G·H, cols] of one direction of an ONNX weight, regrouped into our gate order. */
function reorder(c: Constant, offset: number, type: RecurrentType, H: number, cols: number): Float64Array {
  const order = ORDER[type];
  const out = new Float64Array(order.length * H * cols);
  order.forEach((src, k) => out.set(c.values.subarray(offset + src * H * cols, offset + (src + 1) * H * cols), k * H * cols));
  return out;
}

function checkAttributes(g: OnnxGraph, node: OnnxNode, type: RecurrentType, at: (a: string) => string): void {
  for (const a of node.attribute) {
    if (!KNOWN_ATTRIBUTES[type].includes(a.name)) throw new OnnxImportError(at(a.name), `unknown ${node.opType} attribute`);
  }
  const direction = stringAttr(node, 'direction') ?? 'forward';
  if (direction !== 'forward' && direction !== 'bidirectional') {
    throw new OnnxImportError(at('direction'), `${JSON.stringify(direction)}: edge-rnn runs "forward" layers, and "bidirectional" ones in a windowed model (a reverse-only layer has no format)`);
  }
  const layout = intAttr(node, 'layout') ?? 0;
  if (layout !== 0) throw new OnnxImportError(at('layout'), `${layout}: only layout 0 ([steps, batch, features]) is read`);
  const clip = floatAttr(node, 'clip');
  if (clip !== undefined) throw new OnnxImportError(at('clip'), `cell clipping (clip = ${clip}) is not in the edge-rnn cells, so the outputs would differ`);
  if ((intAttr(node, 'input_forget') ?? 0) !== 0) throw new OnnxImportError(at('input_forget'), 'coupled input and forget gates are not in the edge-rnn LSTM');
  for (const a of ['activation_alpha', 'activation_beta']) {
    if (node.attribute.some((x) => x.name === a)) throw new OnnxImportError(at(a), 'parametrised activations are not in the edge-rnn cells');
  }
  if (type === 'gru' && (intAttr(node, 'linear_before_reset') ?? 0) !== 1) {
    throw new OnnxImportError(at('linear_before_reset'), `${intAttr(node, 'linear_before_reset') ?? 0}${node.attribute.some((x) => x.name === 'linear_before_reset') ? '' : ' (the ONNX default)'}: edge-rnn's GRU applies the reset gate after the recurrent product (PyTorch's GRU, linear_before_reset = 1); the other variant gives different outputs`);
  }
  const acts = stringsAttr(node, 'activations');
  if (acts !== undefined) {
    const ok = type === 'rnn' ? acts.length === 1 && ['Tanh', 'Relu'].includes(acts[0]) : acts.join() === DEFAULT_ACTIVATIONS[type].join();
    if (!ok) {
      throw new OnnxImportError(at('activations'), `[${acts.join(', ')}] is not supported (edge-rnn runs ${type === 'rnn' ? '[Tanh] or [Relu]' : `[${DEFAULT_ACTIVATIONS[type].join(', ')}]`})`);
    }
  }
}

/** Ops whose output holds only values of their first input (rearranged, selected or repeated). */
const VALUE_PRESERVING = ['Expand', 'Slice', 'Gather', 'Squeeze', 'Unsqueeze', 'Reshape', 'Identity'];

/**
 * A state torch builds when none is passed: ConstantOfShape(zero) over a shape computed
 * from Shape(x), for a stack sliced per layer (or Expand of a zero constant). Only the shape
 * depends on the readings, so it is the zero state.
 */
function isZeroFill(g: OnnxGraph, name: string, depth = 0): boolean {
  const node = g.producer.get(name);
  if (!node || depth > 16) return false;
  if (VALUE_PRESERVING.includes(node.opType)) {
    const c = g.constant(node.input[0], nodeLabel(node));
    return c ? c.values.every((v) => v === 0) : isZeroFill(g, node.input[0], depth + 1);
  }
  if (node.opType !== 'ConstantOfShape') return false;
  const value = node.attribute.find((a) => a.name === 'value')?.t;
  if (!value) return true; // the ONNX default is a float 0
  return g.constantOf(value, nodeLabel(node)).values.every((v) => v === 0);
}

/** Refuses an initial state that is a non-zero constant or is computed from the readings. */
function checkInitialState(g: OnnxGraph, node: OnnxNode, slot: number, what: string, dataInput: string, at: (i: string) => string): void {
  const name = node.input[slot];
  if (!name) return;
  const c = g.constant(name, at(what));
  if (c) {
    if (c.values.some((v) => v !== 0)) throw new OnnxImportError(at(what), 'a constant non-zero initial state; edge-rnn starts every device from the zero state');
    return;
  }
  if (isZeroFill(g, name)) return;
  if (g.sourceInputs(name).has(dataInput)) throw new OnnxImportError(at(what), 'the initial state is computed from the readings, which edge-rnn cannot run step by step');
}

/** The layer for `node`, whose X carries `inputSize` features per step. */
export function recurrentLayer(g: OnnxGraph, node: OnnxNode, inputSize: number, dataInput: string): RecurrentLayer {
  const type = RECURRENT_OPS[node.opType];
  const label = nodeLabel(node);
  const attrAt = (a: string) => `${label}, attribute ${a}`;
  const inputAt = (i: string) => `${label}, input ${i}`;
  if (node.domain) throw new OnnxImportError(label, `operator domain ${JSON.stringify(node.domain)}; edge-rnn reads the standard ONNX ${node.opType}`);
  checkAttributes(g, node, type, attrAt);
  if (node.input[4]) throw new OnnxImportError(inputAt('sequence_lens'), 'per-sequence lengths are not supported: edge-rnn steps one reading at a time and never pads');
  if (type === 'lstm' && node.input[7]) throw new OnnxImportError(inputAt('P (peepholes)'), 'peephole connections are not in the edge-rnn LSTM');
  checkInitialState(g, node, 5, 'initial_h', dataInput, inputAt);
  if (type === 'lstm') checkInitialState(g, node, 6, 'initial_c', dataInput, inputAt);

  const G = GATES[type];
  const D = stringAttr(node, 'direction') === 'bidirectional' ? 2 : 1;
  const W = g.weights(node.input[1], inputAt('W'), 'W');
  const R = g.weights(node.input[2], inputAt('R'), 'R');
  const H = intAttr(node, 'hidden_size') ?? R.dims[2];
  const expect = (c: Constant, dims: number[], what: string) => {
    if (c.dims.join() !== dims.join()) throw new OnnxImportError(inputAt(what), `shape [${c.dims.join(', ')}], expected [${dims.join(', ')}] (hidden_size ${H}, ${inputSize} input features, ${D} direction${D > 1 ? 's' : ''})`);
  };
  expect(W, [D, G * H, inputSize], 'W');
  expect(R, [D, G * H, H], 'R');
  const B = node.input[3] ? g.weights(node.input[3], inputAt('B'), 'B') : undefined;
  if (B) expect(B, [D, 2 * G * H], 'B');
  const weights = (d: number): RecurrentWeights => {
    const bias = (half: number) => (B ? reorder(B, (2 * d + half) * G * H, type, H, 1) : new Float64Array(G * H));
    return {
      wIh: f32([G * H, inputSize], reorder(W, d * G * H * inputSize, type, H, inputSize)),
      wHh: f32([G * H, H], reorder(R, d * G * H * H, type, H, H)),
      bIh: f32([G * H], bias(0)),
      bHh: f32([G * H], bias(1)),
    };
  };
  const base = {
    inputSize, hiddenSize: H, ...weights(0),
    ...(D === 2 ? { direction: 'bidirectional' as const, reverse: weights(1) } : {}),
  };
  if (type === 'rnn') return { type, activation: stringsAttr(node, 'activations')?.[0] === 'Relu' ? 'relu' : 'tanh', ...base };
  return { type, ...base };
}
