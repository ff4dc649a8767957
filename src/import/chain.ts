// The step path of an ONNX graph: from the readings input, through the recurrent nodes and
// the head (MatMul + Add or Gemm, Relu / Tanh / Sigmoid / Softmax), to one graph output,
// as format v1 layers. Each tensor on the path carries the roles of its axes (T steps,
// B batch, D directions, F features), so transposes and squeezes are followed exactly and
// a head is known to act on the features. Any node on the path that is not understood is
// refused by name; nothing half-converted comes out.
import type { DenseActivation, DenseLayer, Layer } from '../model/types.js';
import { OnnxImportError } from './errors.js';
import { intAttr, intsAttr, nodeLabel, type OnnxGraph } from './onnx-graph.js';
import type { OnnxNode } from './onnx-proto.js';
import { RECURRENT_OPS, recurrentLayer } from './recurrent.js';

type Role = 'T' | 'B' | 'D' | 'F';

export interface Chain {
  readonly layers: Layer[];
  readonly dataInput: string;
  readonly output: string;
  /** The graph predicts from the last step of a sequence (PyTorch `out[:, -1]`): per step, the same. */
  readonly lastStep: boolean;
  /** The graph averages the steps (ReduceMean over the steps axis, PyTorch `out.mean(dim=1)`): a windowed model's "mean". */
  readonly meanOverSteps: boolean;
  /** What each node on the path became, for the card. */
  readonly steps: string[];
}

const ACTIVATIONS: Readonly<Record<string, DenseActivation>> = { Relu: 'relu', Tanh: 'tanh', Sigmoid: 'sigmoid', Softmax: 'softmax' };
const SUPPORTED = 'LSTM, GRU, RNN, MatMul, Add, Gemm, Relu, Tanh, Sigmoid, Softmax, Transpose, Squeeze, Gather (last step), ReduceMean (over the steps), Reshape (joining the two directions), Identity';

interface PendingDense { w: Float32Array; b: Float32Array | null; inputSize: number; outputSize: number; activation: DenseActivation }

/** The graph input the first recurrent node reads, and the roles of its axes (found back through transposes). */
function findStart(g: OnnxGraph): { input: string; roles: Role[] } {
  const starts = new Map<string, Role[]>();
  for (const node of g.proto.node) {
    if (!(node.opType in RECURRENT_OPS)) continue;
    let roles: Role[] = ['T', 'B', 'F'];
    let t = node.input[0];
    const seen = new Set<string>();
    while (!seen.has(t)) {
      seen.add(t);
      if (g.graphInputs.includes(t)) { starts.set(t, roles); break; }
      const p = g.producer.get(t);
      if (p?.opType === 'Transpose') {
        const perm = intsAttr(p, 'perm') ?? [...roles.keys()].reverse();
        const before: Role[] = new Array(roles.length);
        perm.forEach((src, i) => { before[src] = roles[i]; });
        roles = before;
        t = p.input[0];
      } else if (p?.opType === 'Identity') {
        t = p.input[0];
      } else break;
    }
  }
  if (starts.size === 0) {
    const any = g.proto.node.some((n) => n.opType in RECURRENT_OPS);
    throw new OnnxImportError('', any ? 'no LSTM, GRU or RNN node reads a graph input directly (through transposes only)' : 'no LSTM, GRU or RNN node: edge-rnn imports recurrent models');
  }
  if (starts.size > 1) throw new OnnxImportError('', `recurrent nodes read several graph inputs (${[...starts.keys()].join(', ')}); edge-rnn runs one chain`);
  const [input, roles] = [...starts][0];
  return { input, roles };
}

function axisOf(node: OnnxNode, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new OnnxImportError(`${nodeLabel(node)}, attribute axis`, `${axis} is outside a rank-${rank} tensor`);
  return a;
}

export function followChain(g: OnnxGraph, opset: number): Chain {
  const { input: dataInput, roles: startRoles } = findStart(g);
  const layers: Layer[] = [];
  const steps: string[] = [];
  let roles = startRoles;
  let width = -1; // features per step (per direction while the D axis is apart); known after the first recurrent node
  let directions = 1; // of the last recurrent node, until a Reshape joins them into the features
  let pending: PendingDense | null = null;
  let lastStep = false, meanOverSteps = false;
  const flush = () => {
    if (!pending) return;
    const p = pending;
    const dense: DenseLayer = {
      type: 'dense', inputSize: p.inputSize, outputSize: p.outputSize, activation: p.activation,
      w: { dtype: 'f32', shape: [p.outputSize, p.inputSize], data: p.w },
      b: { dtype: 'f32', shape: [p.outputSize], data: p.b ?? new Float32Array(p.outputSize) },
    };
    layers.push(dense);
    pending = null;
  };
  const needFeatures = (node: OnnxNode) => {
    if (width < 0) throw new OnnxImportError(nodeLabel(node), 'comes before any recurrent node; edge-rnn models start with an LSTM, GRU or RNN');
    if (roles[roles.length - 1] !== 'F') throw new OnnxImportError(nodeLabel(node), `acts on axis ${roles.length - 1}, which is not the feature axis (axes: ${roles.join(', ')})`);
    if (directions > 1) throw new OnnxImportError(nodeLabel(node), 'acts on each direction of a bidirectional layer apart; edge-rnn joins them (concat of h_fwd and h_rev, PyTorch\'s output layout) before anything else');
  };

  let t = dataInput;
  const visited = new Set<string>();
  for (;;) {
    if (visited.has(t)) throw new OnnxImportError('', `the graph has a cycle through tensor ${JSON.stringify(t)}`);
    visited.add(t);
    // Shape reads only the shape (torch sizes a zero initial state from it), never the values.
    const readers = g.readers(t).filter((n) => n.opType !== 'Shape');
    if (readers.length === 0) break;
    if (g.graphOutputs.includes(t)) {
      throw new OnnxImportError('', `tensor ${JSON.stringify(t)} is a graph output and also read by ${readers.map(nodeLabel).join(', ')}; edge-rnn needs one step path ending in one output`);
    }
    if (readers.length > 1) throw new OnnxImportError('', `tensor ${JSON.stringify(t)} is read by ${readers.length} nodes (${readers.map(nodeLabel).join(', ')}); edge-rnn runs one chain without branches`);
    const node = readers[0];
    const label = nodeLabel(node);
    const slot = node.input.indexOf(t);
    const op = node.opType;
    if (node.domain && node.domain !== 'ai.onnx') throw new OnnxImportError(label, `operator domain ${JSON.stringify(node.domain)} is not supported (supported: ${SUPPORTED})`);
    if (op in RECURRENT_OPS) {
      if (slot !== 0) throw new OnnxImportError(label, `reads the step path as input ${slot}, not as X`);
      if (roles.join('') !== 'TBF' || directions > 1) throw new OnnxImportError(`${label}, input X`, `axes ${roles.join(', ')}${directions > 1 ? ` (${directions} directions not joined)` : ''}; expected steps, batch, features`);
      if (lastStep || meanOverSteps) throw new OnnxImportError(label, 'a recurrent node after the steps were reduced; edge-rnn reduces the last recurrent layer\'s outputs only');
      flush();
      if (layers.some((l) => l.type === 'dense')) throw new OnnxImportError(label, 'a recurrent node after a dense head; edge-rnn models put every recurrent layer first');
      const layer = recurrentLayer(g, node, width < 0 ? inputWidth(g, node) : width, dataInput);
      layers.push(layer);
      width = layer.hiddenSize;
      directions = layer.direction === 'bidirectional' ? 2 : 1;
      roles = ['T', 'D', 'B', 'F'];
      steps.push(`${label} -> layers[${layers.length - 1}] ${layer.type} ${layer.hiddenSize}`);
      t = node.output[0];
      if (!t) throw new OnnxImportError(`${label}, output Y`, 'the per-step output Y is not used; edge-rnn predicts from it at every step');
      continue;
    }
    switch (op) {
      case 'Identity':
        break;
      case 'Transpose': {
        const perm = intsAttr(node, 'perm') ?? [...roles.keys()].reverse();
        roles = perm.map((src) => roles[src]);
        break;
      }
      case 'Squeeze': {
        const axes = opset >= 13 ? (node.input[1] ? g.requireConstant(node.input[1], `${label}, input axes`, 'axes') : undefined)?.values : intsAttr(node, 'axes');
        if (!axes) throw new OnnxImportError(`${label}, ${opset >= 13 ? 'input' : 'attribute'} axes`, 'missing: which axes a Squeeze removes must be known');
        const drop = [...axes].map((a) => axisOf(node, Number(a), roles.length));
        const bad = drop.find((a) => roles[a] !== 'D' && roles[a] !== 'B');
        if (bad !== undefined) throw new OnnxImportError(`${label}, axes`, `removes axis ${bad} (${roles[bad] === 'T' ? 'steps' : 'features'}); only the direction or batch axis may go`);
        if (directions > 1 && drop.some((a) => roles[a] === 'D')) throw new OnnxImportError(`${label}, axes`, `removes the direction axis of a bidirectional layer (${directions} directions)`);
        roles = roles.filter((_, i) => !drop.includes(i));
        break;
      }
      case 'Gather': {
        const axis = axisOf(node, intAttr(node, 'axis') ?? 0, roles.length);
        const idx = slot === 0 && node.input[1] ? g.constant(node.input[1], `${label}, input indices`) : undefined;
        if (roles[axis] !== 'T' || !idx || idx.dims.length !== 0 || (idx.values[0] !== -1)) {
          throw new OnnxImportError(label, 'only taking the last step (PyTorch out[:, -1]: a scalar index -1 on the steps axis) is supported');
        }
        roles = roles.filter((_, i) => i !== axis);
        lastStep = true;
        break;
      }
      case 'Reshape': {
        // torch's [T, B, D, H] -> [T, B, D·H] after a bidirectional layer (shape [0, 0, -1]): h_fwd then h_rev.
        const shape = node.input[1] ? g.constant(node.input[1], `${label}, input shape`) : undefined;
        const n = roles.length;
        const keeps = shape && shape.values.length === n - 1 && [...shape.values].slice(0, n - 2).every((v) => v === 0);
        const joins = keeps && (shape.values[n - 2] === -1 || shape.values[n - 2] === directions * width);
        if (!joins || roles[n - 2] !== 'D' || roles[n - 1] !== 'F' || (intAttr(node, 'allowzero') ?? 0) !== 0) {
          throw new OnnxImportError(label, `only joining the direction and feature axes (a constant shape [${new Array(Math.max(0, n - 2)).fill(0).join(', ')}${n > 2 ? ', ' : ''}-1] on axes …, D, F) is supported (axes: ${roles.join(', ')})`);
        }
        roles = [...roles.slice(0, n - 2), 'F'];
        width *= directions;
        directions = 1;
        break;
      }
      case 'ReduceMean': {
        const axes = opset >= 18 ? (node.input[1] ? g.requireConstant(node.input[1], `${label}, input axes`, 'axes').values : undefined) : intsAttr(node, 'axes');
        const a = axes && axes.length === 1 ? axisOf(node, Number(axes[0]), roles.length) : -1;
        if (a < 0 || roles[a] !== 'T' || (intAttr(node, 'keepdims') ?? 1) !== 0) {
          throw new OnnxImportError(label, 'only the mean over the steps axis without keeping it (PyTorch out.mean(dim=…) on the steps) is supported');
        }
        if (lastStep) throw new OnnxImportError(label, 'a mean after the last step was taken');
        roles = roles.filter((_, i) => i !== a);
        meanOverSteps = true;
        break;
      }
      case 'MatMul':
      case 'Gemm': {
        needFeatures(node);
        if (slot !== 0) throw new OnnxImportError(label, 'the step path must be the first operand');
        flush();
        const where = `${label}, input B`;
        const W = g.weights(node.input[1], where, 'the weight');
        let transB = 0;
        if (op === 'Gemm') {
          if (roles.length !== 2) throw new OnnxImportError(label, `Gemm on a rank-${roles.length} tensor`);
          if ((intAttr(node, 'transA') ?? 0) !== 0) throw new OnnxImportError(`${label}, attribute transA`, 'must be 0 (the step path is A)');
          for (const a of ['alpha', 'beta'] as const) {
            const v = node.attribute.find((x) => x.name === a)?.f;
            if (v !== undefined && v !== 1) throw new OnnxImportError(`${label}, attribute ${a}`, `${v}: only 1 is exact (scale the weights in the export)`);
          }
          transB = intAttr(node, 'transB') ?? 0;
        }
        const [K, N] = transB ? [W.dims[1], W.dims[0]] : [W.dims[0], W.dims[1]];
        if (W.dims.length !== 2 || K !== width) throw new OnnxImportError(where, `shape [${W.dims.join(', ')}], expected ${transB ? `[outputs, ${width}]` : `[${width}, outputs]`}`);
        const w = new Float32Array(N * K); // ours [O, I]
        for (let o = 0; o < N; o++) for (let k = 0; k < K; k++) w[o * K + k] = transB ? W.values[o * K + k] : W.values[k * N + o];
        pending = { w, b: null, inputSize: K, outputSize: N, activation: 'linear' };
        if (op === 'Gemm' && node.input[2]) pending.b = biasOf(g, node, node.input[2], N, `${label}, input C`);
        width = N;
        steps.push(`${label} -> layers[${layers.length}] dense ${N}`);
        break;
      }
      case 'Add': {
        const other = node.input[1 - slot];
        if (!pending || pending.b || pending.activation !== 'linear') throw new OnnxImportError(label, 'only a bias added right after a MatMul is supported');
        pending.b = biasOf(g, node, other, pending.outputSize, `${label}, input ${1 - slot}`);
        break;
      }
      case 'Relu': case 'Tanh': case 'Sigmoid': case 'Softmax': {
        needFeatures(node);
        if (op === 'Softmax') {
          const axis = axisOf(node, intAttr(node, 'axis') ?? (opset >= 13 ? -1 : 1), roles.length);
          if (axis !== roles.length - 1) throw new OnnxImportError(`${label}, attribute axis`, 'a softmax over anything but the features of one step is not supported');
        }
        const activation = ACTIVATIONS[op];
        if (!pending || pending.activation !== 'linear') {
          // An activation straight after a recurrent layer or another activation: an identity
          // dense layer with it (1·x + 0 is x exactly in float32).
          flush();
          const w = new Float32Array(width * width);
          for (let i = 0; i < width; i++) w[i * width + i] = 1;
          pending = { w, b: null, inputSize: width, outputSize: width, activation };
          steps.push(`${label} -> layers[${layers.length}] dense ${width} (identity weights)`);
        } else {
          pending.activation = activation;
        }
        break;
      }
      default:
        throw new OnnxImportError(label, `operator ${op} on the step path is not supported (supported: ${SUPPORTED})`);
    }
    t = node.output[0];
  }
  flush();
  if (!g.graphOutputs.includes(t)) throw new OnnxImportError('', `the step path ends at tensor ${JSON.stringify(t)}, which is not a graph output`);
  if (width < 0) throw new OnnxImportError('', 'no recurrent node on the path from the input to the output');
  return { layers, dataInput, output: t, lastStep, meanOverSteps, steps };
}

function inputWidth(g: OnnxGraph, node: OnnxNode): number {
  const W = g.weights(node.input[1], `${nodeLabel(node)}, input W`, 'W');
  if (W.dims.length !== 3) throw new OnnxImportError(`${nodeLabel(node)}, input W`, `rank ${W.dims.length}, expected [directions, gates·hidden, inputs]`);
  return W.dims[2];
}

function biasOf(g: OnnxGraph, node: OnnxNode, name: string, O: number, where: string): Float32Array {
  const b = g.weights(name, where, 'the bias');
  if (b.values.length !== O || b.dims.some((d, i) => d !== 1 && i !== b.dims.length - 1)) {
    throw new OnnxImportError(where, `shape [${b.dims.join(', ')}], expected [${O}]`);
  }
  return Float32Array.from(b.values);
}
