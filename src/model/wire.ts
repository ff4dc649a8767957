// Model v1 wire object (the msgpack map) ⇄ in-memory model: the model document, its
// inputs, layers and outputs. The parser is the single place a model is validated: every
// check names the field it refers to, and nothing half-built escapes, because the model
// object is only assembled after every part has passed. Field readers: wire-fields.ts;
// tensors: wire-tensor.ts.
import {
  GATES, layerOutputSize, type DenseActivation, type DenseLayer, type Layer, type Model, type ModelOutputs,
  type AnomalyScale, type RecurrentLayer, type RecurrentWeights, type TensorF32,
} from './types.js';
import { checkPlainData, describe, fail, get, obj, oneOf, optional, posInt, str, strList, type Obj } from './wire-fields.js';
import { parseF32, parseWeight, tensorToWire } from './wire-tensor.js';
import { parseDirection, parseFrom, parseReverse, parseWindow } from './wire-window.js';

export const FORMAT_MAGIC = 'edge-rnn';
export const FORMAT_VERSION = 1;

const DENSE_ACTIVATIONS: readonly DenseActivation[] = ['linear', 'relu', 'tanh', 'sigmoid', 'softmax'];
const RNN_ACTIVATIONS = ['tanh', 'relu'] as const;
const LAYER_TYPES = ['rnn', 'lstm', 'gru', 'dense'] as const;
function parseRecurrent(l: Obj, type: 'rnn' | 'lstm' | 'gru', field: string, inputSize: number, windowed: boolean): RecurrentLayer {
  const I = posInt(get(l, 'inputSize', field), `${field}.inputSize`);
  if (I !== inputSize) fail(`${field}.inputSize`, `${I} does not match the ${inputSize} values that reach this layer`);
  const H = posInt(get(l, 'hiddenSize', field), `${field}.hiddenSize`);
  const G = GATES[type] * H;
  const base = {
    inputSize: I,
    hiddenSize: H,
    ...parseDirection(l, field, G, I, H),
    ...parseReverse(l, field, windowed, G, I, H),
  };
  if (type === 'rnn') {
    const activation = oneOf(get(l, 'activation', field), RNN_ACTIVATIONS, `${field}.activation`);
    return { type, activation, ...base };
  }
  return { type, ...base };
}

function parseDense(l: Obj, field: string, inputSize: number): DenseLayer {
  const I = posInt(get(l, 'inputSize', field), `${field}.inputSize`);
  if (I !== inputSize) fail(`${field}.inputSize`, `${I} does not match the ${inputSize} values that reach this layer`);
  const O = posInt(get(l, 'outputSize', field), `${field}.outputSize`);
  const activation = oneOf(get(l, 'activation', field), DENSE_ACTIVATIONS, `${field}.activation`);
  return {
    type: 'dense', inputSize: I, outputSize: O, activation,
    w: parseWeight(get(l, 'w', field), `${field}.w`, [O, I]),
    b: parseF32(get(l, 'b', field), `${field}.b`, [O]),
  };
}

function parseLayers(v: unknown, inputSize: number, windowed: boolean): { layers: Layer[]; width: number } {
  if (!Array.isArray(v) || v.length === 0) fail('layers', `expected a non-empty list, got ${describe(v)}`);
  const layers: Layer[] = [];
  let width = inputSize;
  v.forEach((raw, i) => {
    const field = `layers[${i}]`;
    const l = obj(raw, field);
    const type = oneOf(get(l, 'type', field), LAYER_TYPES, `${field}.type`);
    if (type === 'dense') {
      if (i === 0) fail(`${field}.type`, 'the first layer must be recurrent (rnn, lstm or gru)');
      const d = parseDense(l, field, width);
      layers.push(d);
      width = d.outputSize;
    } else {
      if (i > 0 && layers[i - 1].type === 'dense') fail(`${field}.type`, 'recurrent layers must come before dense layers');
      const r = parseRecurrent(l, type, field, width, windowed);
      layers.push(r);
      width = layerOutputSize(r);
    }
  });
  return { layers, width };
}

function parseOutputs(
  v: unknown, task: Model['task'], width: number, last: Layer, lastIndex: number, inputNames: readonly string[], windowed: boolean,
): ModelOutputs {
  const o = obj(v, 'outputs');
  const from = parseFrom(o, windowed);
  const names = strList(get(o, 'names', 'outputs'), 'outputs.names');
  const rawMean = optional(o, 'mean');
  const rawStd = optional(o, 'std');
  const rawLabels = optional(o, 'labels');
  const rawHorizon = optional(o, 'horizon');
  const horizon = rawHorizon === undefined ? undefined : posInt(rawHorizon, 'outputs.horizon');
  const rawResidual = optional(o, 'residual');
  const rawAnomaly = optional(o, 'anomaly');
  if (rawResidual !== undefined && typeof rawResidual !== 'boolean') {
    fail('outputs.residual', `expected true or false, got ${describe(rawResidual)}`);
  }
  if (task === 'classification') {
    if (rawResidual !== undefined) fail('outputs.residual', 'only regression models have residual outputs');
    if (rawAnomaly !== undefined) fail('outputs.anomaly', 'only regression forecasters have an anomaly scale');
    if (rawLabels === undefined) fail('outputs.labels', 'missing (classification needs one label per output unit)');
    const labels = strList(rawLabels, 'outputs.labels');
    if (labels.length !== width) fail('outputs.labels', `${labels.length} labels for ${width} output units`);
    if (last.type !== 'dense' || last.activation !== 'softmax') {
      const at = `layers[${lastIndex}].${last.type === 'dense' ? 'activation' : 'type'}`;
      fail(at, 'a classification model must end in a dense layer with softmax activation');
    }
    if (rawMean !== undefined || rawStd !== undefined) fail('outputs.mean', 'classification outputs are not de-normalised');
    return { names, labels, ...(horizon ? { horizon } : {}), ...from };
  }
  if (rawLabels !== undefined) fail('outputs.labels', 'only classification models have labels');
  if (names.length !== width) fail('outputs.names', `${names.length} names for ${width} outputs`);
  if (rawMean === undefined && rawStd !== undefined) fail('outputs.mean', 'missing (outputs.std is given; mean and std go together)');
  if (rawStd === undefined && rawMean !== undefined) fail('outputs.std', 'missing (outputs.mean is given; mean and std go together)');
  const out: { -readonly [K in keyof ModelOutputs]: ModelOutputs[K] } = { names };
  if (rawMean !== undefined) {
    out.mean = parseF32(rawMean, 'outputs.mean', [width]);
    out.std = parseF32(rawStd, 'outputs.std', [width]);
    checkPositive(out.std, 'outputs.std');
  }
  if (horizon) out.horizon = horizon;
  if (rawResidual !== undefined) {
    // The runtime adds each output's own input back, so that input must exist.
    const missing = rawResidual ? names.find((n) => !inputNames.includes(n)) : undefined;
    if (missing !== undefined) {
      fail('outputs.residual', `output ${JSON.stringify(missing)} is not an input (a residual output adds its input's current value back; inputs: ${inputNames.join(', ')})`);
    }
    out.residual = rawResidual;
  }
  if (rawAnomaly !== undefined) out.anomaly = parseAnomaly(rawAnomaly, names, width, horizon, inputNames);
  return { ...out, ...from };
}

// Optional outputs.anomaly (issue 15; older files have none): what `run --anomaly` scores with.
function parseAnomaly(v: unknown, names: readonly string[], width: number, horizon: number | undefined, inputNames: readonly string[]): AnomalyScale {
  const a = obj(v, 'outputs.anomaly');
  if (horizon === undefined) fail('outputs.anomaly', 'needs outputs.horizon (a reading is scored against the forecast made horizon steps earlier)');
  const missing = names.find((n) => !inputNames.includes(n));
  if (missing !== undefined) fail('outputs.anomaly', `output ${JSON.stringify(missing)} is not an input, so no reading holds its actual value (inputs: ${inputNames.join(', ')})`);
  const rmse = parseF32(get(a, 'rmse', 'outputs.anomaly'), 'outputs.anomaly.rmse', [width]);
  for (let k = 0; k < width; k++) {
    if (!(rmse.data[k] > 0)) fail('outputs.anomaly.rmse.data', `rmse[${k}] is ${rmse.data[k]}, must be > 0`);
  }
  const threshold = get(a, 'threshold', 'outputs.anomaly');
  if (typeof threshold !== 'number' || !(Number.isFinite(threshold) && threshold > 0)) {
    fail('outputs.anomaly.threshold', `expected a finite number > 0, got ${describe(threshold)}`);
  }
  return { rmse, threshold };
}

// Optional inputs.min / inputs.max (added after format v1 shipped: older files have neither).
function parseInputRange(i: Obj, width: number): { min?: TensorF32; max?: TensorF32 } {
  const rawMin = optional(i, 'min');
  const rawMax = optional(i, 'max');
  if (rawMin === undefined && rawMax === undefined) return {};
  if (rawMin === undefined) fail('inputs.min', 'missing (inputs.max is given; min and max go together)');
  if (rawMax === undefined) fail('inputs.max', 'missing (inputs.min is given; min and max go together)');
  const min = parseF32(rawMin, 'inputs.min', [width]);
  const max = parseF32(rawMax, 'inputs.max', [width]);
  for (let k = 0; k < width; k++) {
    if (!(max.data[k] >= min.data[k])) fail('inputs.max.data', `max[${k}] is ${max.data[k]}, below min[${k}] ${min.data[k]}`);
  }
  return { min, max };
}

function checkPositive(t: TensorF32, field: string): void {
  for (let i = 0; i < t.data.length; i++) {
    if (!(t.data[i] > 0)) fail(`${field}.data`, `std[${i}] is ${t.data[i]}, must be > 0`);
  }
}

/** Wire object (decoded msgpack) → model. Throws ModelFormatError naming the field. */
export function parseModel(raw: unknown): Model {
  const m = obj(raw, '');
  const format = get(m, 'format', '');
  if (format !== FORMAT_MAGIC) fail('format', `not an edge-rnn model (expected "${FORMAT_MAGIC}", got ${describe(format)})`);
  const version = get(m, 'version', '');
  if (version !== FORMAT_VERSION) fail('version', `unknown format version ${describe(version)} (this build reads version ${FORMAT_VERSION})`);
  const name = str(get(m, 'name', ''), 'name');
  const modelVersion = posInt(get(m, 'modelVersion', ''), 'modelVersion');
  const task = oneOf(get(m, 'task', ''), ['regression', 'classification'] as const, 'task');

  const i = obj(get(m, 'inputs', ''), 'inputs');
  const names = strList(get(i, 'names', 'inputs'), 'inputs.names');
  const inputs = {
    names,
    mean: parseF32(get(i, 'mean', 'inputs'), 'inputs.mean', [names.length]),
    std: parseF32(get(i, 'std', 'inputs'), 'inputs.std', [names.length]),
    ...parseInputRange(i, names.length),
  };
  checkPositive(inputs.std, 'inputs.std');

  const rawWindow = optional(m, 'window');
  const window = rawWindow === undefined ? undefined : parseWindow(rawWindow);
  const { layers, width } = parseLayers(get(m, 'layers', ''), names.length, window !== undefined);
  const outputs = parseOutputs(get(m, 'outputs', ''), task, width, layers[layers.length - 1], layers.length - 1, names, window !== undefined);
  const rawMeta = optional(m, 'meta');
  const meta = rawMeta === undefined ? undefined : obj(rawMeta, 'meta');
  if (meta) checkPlainData(meta, 'meta', 0);
  return {
    format: FORMAT_MAGIC, version: FORMAT_VERSION, name, modelVersion, task, inputs, outputs, layers,
    ...(window ? { window } : {}),
    ...(meta ? { meta } : {}),
  };
}

function weightsToWire(w: RecurrentWeights): Obj {
  return { wIh: tensorToWire(w.wIh), wHh: tensorToWire(w.wHh), bIh: tensorToWire(w.bIh), bHh: tensorToWire(w.bHh) };
}

function layerToWire(l: Layer): Obj {
  if (l.type === 'dense') {
    return { type: 'dense', inputSize: l.inputSize, outputSize: l.outputSize, activation: l.activation, w: tensorToWire(l.w), b: tensorToWire(l.b) };
  }
  return {
    type: l.type, inputSize: l.inputSize, hiddenSize: l.hiddenSize,
    ...(l.type === 'rnn' ? { activation: l.activation } : {}),
    ...weightsToWire(l),
    ...(l.direction !== undefined ? { direction: l.direction } : {}),
    ...(l.reverse !== undefined ? { reverse: weightsToWire(l.reverse) } : {}),
  };
}

/** Model → wire object, ready for msgpack. Fields in a fixed order, so equal models give equal bytes. */
export function modelToWire(m: Model): Obj {
  const o = m.outputs;
  return {
    format: FORMAT_MAGIC, version: FORMAT_VERSION, name: m.name, modelVersion: m.modelVersion, task: m.task,
    inputs: {
      names: [...m.inputs.names], mean: tensorToWire(m.inputs.mean), std: tensorToWire(m.inputs.std),
      ...(m.inputs.min ? { min: tensorToWire(m.inputs.min) } : {}),
      ...(m.inputs.max ? { max: tensorToWire(m.inputs.max) } : {}),
    },
    outputs: {
      names: [...o.names],
      ...(o.mean ? { mean: tensorToWire(o.mean) } : {}),
      ...(o.std ? { std: tensorToWire(o.std) } : {}),
      ...(o.labels ? { labels: [...o.labels] } : {}),
      // `!== undefined`, not truthiness: an invalid horizon (0, NaN) must reach the validator, not vanish.
      ...(o.horizon !== undefined ? { horizon: o.horizon } : {}),
      ...(o.residual !== undefined ? { residual: o.residual } : {}),
      ...(o.anomaly !== undefined ? { anomaly: { rmse: tensorToWire(o.anomaly.rmse), threshold: o.anomaly.threshold } } : {}),
      ...(o.from !== undefined ? { from: o.from } : {}),
    },
    layers: m.layers.map(layerToWire),
    ...(m.window ? { window: { size: m.window.size, hop: m.window.hop } } : {}),
    ...(m.meta ? { meta: m.meta } : {}),
  };
}
