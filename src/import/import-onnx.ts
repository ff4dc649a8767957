// ONNX model bytes + what the graph does not hold (names, task, labels, normalisation) ->
// a format v1 model and the facts its card states. Pure: the CLI reads and writes files.
import { parseModel, modelToWire } from '../model/wire.js';
import { isBidirectional, layerOutputSize, type Layer, type Model, type ModelInputs, type ModelOutputs, type ModelWindow, type Task, type TensorF32, type WindowReduce } from '../model/types.js';
import { followChain, type Chain } from './chain.js';
import { OnnxImportError } from './errors.js';
import { OnnxGraph } from './onnx-graph.js';
import { decodeOnnx } from './onnx-proto.js';

/** Input normalisation x' = (x − mean) / std and regression de-normalisation y = y' · std + mean. */
export interface Normalisation {
  readonly inputs?: { readonly mean: readonly number[]; readonly std: readonly number[]; readonly min?: readonly number[]; readonly max?: readonly number[] };
  readonly outputs?: { readonly mean: readonly number[]; readonly std: readonly number[] };
}

export interface ImportOptions {
  readonly name: string;
  readonly modelVersion?: number;
  readonly inputs: readonly string[];
  /** Regression: one name per output; classification: the labelled column (default ["label"]). */
  readonly outputs?: readonly string[];
  /** Default: classification when the graph ends in a softmax, else regression. */
  readonly task?: Task;
  readonly labels?: readonly string[];
  readonly horizon?: number;
  readonly normalisation?: Normalisation;
  /** Where the normalisation came from, in words, for the card ("--norm stats.json", "flags"). */
  readonly normalisationSource?: string;
  /** A windowed model (issue 19): the graph reads a sequence of `size` readings, one result every `hop`. */
  readonly window?: ModelWindow;
  readonly source: { readonly file: string; readonly sha256: string };
}

export interface ImportResult {
  readonly model: Model;
  readonly facts: ImportFacts;
}

/** What the card says about the conversion. */
export interface ImportFacts {
  readonly file: string;
  readonly sha256: string;
  readonly producer: string;
  readonly opset: number;
  readonly dataInput: string;
  readonly graphOutput: string;
  /** Graph inputs and outputs not on the step path (initial and final states). */
  readonly ignoredInputs: readonly string[];
  readonly ignoredOutputs: readonly string[];
  readonly lastStep: boolean;
  /** Windowed: how the graph reduces the window (ReduceMean: mean; the last step of a forward-only stack: last). */
  readonly from?: WindowReduce;
  readonly steps: readonly string[];
  readonly normalisation: string;
}

function vector(values: readonly number[] | undefined, n: number, what: string, fill: number): TensorF32 {
  const v = values ?? new Array<number>(n).fill(fill);
  if (v.length !== n || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    throw new OnnxImportError(what, `expected ${n} finite numbers, got ${JSON.stringify(values)}`);
  }
  return { dtype: 'f32', shape: [n], data: Float32Array.from(v) };
}

export function importOnnx(bytes: Uint8Array, opts: ImportOptions): ImportResult {
  const proto = decodeOnnx(bytes);
  const opset = proto.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0;
  if (opset < 7) throw new OnnxImportError('opset_import', `opset ${opset}; edge-rnn reads opset 7 or later`);
  const g = new OnnxGraph(proto.graph!);
  const chain = followChain(g, opset);
  const { layers } = chain;
  const from = windowReduce(chain, layers, opts.window);
  const last = layers[layers.length - 1];
  const width = layerOutputSize(last);
  const I = layers[0].inputSize;
  if (opts.inputs.length !== I) throw new OnnxImportError('--inputs', `${opts.inputs.length} names for the ${I} input features of the graph`);
  const softmax = last.type === 'dense' && last.activation === 'softmax';
  const task = opts.task ?? (softmax ? 'classification' : 'regression');
  const n = opts.normalisation;
  const inputs: ModelInputs = {
    names: [...opts.inputs],
    mean: vector(n?.inputs?.mean, I, 'inputs.mean', 0),
    std: vector(n?.inputs?.std, I, 'inputs.std', 1),
    ...(n?.inputs?.min || n?.inputs?.max
      ? { min: vector(n.inputs.min, I, 'inputs.min', 0), max: vector(n.inputs.max, I, 'inputs.max', 0) }
      : {}),
  };
  let outputs: ModelOutputs;
  if (task === 'classification') {
    if (!opts.labels) throw new OnnxImportError('--labels', `a classification model needs one label per output unit (${width})`);
    if (n?.outputs) throw new OnnxImportError('outputs', 'classification outputs are class probabilities, not de-normalised');
    outputs = { names: opts.outputs ? [...opts.outputs] : ['label'], labels: [...opts.labels], ...(opts.horizon ? { horizon: opts.horizon } : {}), ...(from ? { from } : {}) };
  } else {
    if (!opts.outputs) throw new OnnxImportError('--outputs', `a regression model needs one name per output (${width})`);
    if (opts.outputs.length !== width) throw new OnnxImportError('--outputs', `${opts.outputs.length} names for the ${width} outputs of the graph`);
    outputs = {
      names: [...opts.outputs],
      ...(n?.outputs ? { mean: vector(n.outputs.mean, width, 'outputs.mean', 0), std: vector(n.outputs.std, width, 'outputs.std', 1) } : {}),
      ...(opts.horizon ? { horizon: opts.horizon } : {}),
      ...(from ? { from } : {}),
    };
  }
  const producer = [proto.producerName, proto.producerVersion].filter(Boolean).join(' ') || 'unknown';
  const normalisation = n ? (opts.normalisationSource ?? 'given') : 'none: the graph reads raw readings (mean 0, std 1)';
  const facts: ImportFacts = {
    file: opts.source.file, sha256: opts.source.sha256, producer, opset,
    dataInput: chain.dataInput, graphOutput: chain.output,
    ignoredInputs: g.graphInputs.filter((i) => i !== chain.dataInput),
    ignoredOutputs: g.graphOutputs.filter((o) => o !== chain.output),
    lastStep: chain.lastStep, ...(from ? { from } : {}), steps: chain.steps, normalisation,
  };
  const draft: Model = {
    format: 'edge-rnn', version: 1, name: opts.name, modelVersion: opts.modelVersion ?? 1, task, inputs, outputs, layers,
    ...(opts.window ? { window: { size: opts.window.size, hop: opts.window.hop } } : {}),
    meta: {
      trainedWith: `${producer} (imported from ONNX by edge-rnn import)`,
      importedFrom: { file: facts.file, sha256: facts.sha256, producer, opset, graphOutput: facts.graphOutput, lastStep: facts.lastStep },
      normalisation,
    },
  };
  // The one validator of format v1 checks the assembled model (names, labels, softmax, std > 0).
  return { model: parseModel(modelToWire(draft)), facts };
}

/**
 * How a windowed import reduces its window, or undefined for a per-reading model; refuses
 * what the runtime cannot run: a bidirectional layer or a mean over the steps without a
 * window (per reading there are no later readings to read back from), a window over a graph
 * that predicts at every step, and the last step of a bidirectional layer.
 */
function windowReduce(chain: Chain, layers: readonly Layer[], window: ModelWindow | undefined): WindowReduce | undefined {
  const bidi = layers.findIndex(isBidirectional);
  if (!window) {
    if (bidi >= 0) throw new OnnxImportError('--window', `layers[${bidi}] is bidirectional: the runtime reads it over a window of readings (one reading at a time there are no later readings to read back from); give --window W (the sequence length the model was trained on) and --hop K`);
    if (chain.meanOverSteps) throw new OnnxImportError('--window', 'the graph averages its steps (ReduceMean): it classifies a whole sequence; give --window W and --hop K');
    return undefined;
  }
  if (chain.meanOverSteps) return 'mean';
  if (chain.lastStep) {
    if (bidi >= 0) {
      throw new OnnxImportError('--window', `the graph takes the last step of bidirectional layers[${bidi}] (out[:, -1]), whose reverse half has read one reading only; edge-rnn's windows reduce to the mean (out.mean(dim=1)) or to both directions' final states, which this importer does not read from ONNX yet`);
    }
    return 'last';
  }
  throw new OnnxImportError('--window', 'the graph predicts at every step: a windowed model reduces its window to one result (export out.mean(dim=1), or out[:, -1] of a forward-only stack)');
}
