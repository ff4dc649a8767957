// Training a windowed model (issue 19): one sample per window of W readings (window-samples.ts),
// drawn uniformly among the training windows; the window network's forward and BPTT
// (window-network.ts) through both directions; the trainers' epoch loop (epochs.ts: Adam,
// global-norm clipping, early stopping on validation loss with the best weights kept), seeded.
// Pure compute.
import { seededRandom } from '../model/init.js';
import { tensorF32 } from '../model/tensor.js';
import type { Layer, Model, ModelOutputs, RecurrentLayer, RecurrentWeights, WindowReduce } from '../model/types.js';
import type { Dataset } from './dataset.js';
import { TrainDataError } from './errors.js';
import { inverseFrequencyWeights, mseLoss, softmaxCrossEntropyLoss } from './loss.js';
import type { Metrics } from './metrics.js';
import { classificationMetrics, regressionMetrics } from './window-metrics.js';
import { RECIPE_DEFAULTS, runEpochs, type TrainEvent } from './epochs.js';
import { initialModel, type TrainOptions, type TrainResult } from './trainer.js';
import { createWindowNetwork, type WindowNetwork } from './window-network.js';
import { validationEnds, windowClass, windowEndSampler, type WindowLabel } from './window-samples.js';
import { trainingRuns } from './windows.js';

export interface WindowOptions {
  /** W: readings per window. */
  readonly size: number;
  /** One result every `hop` readings (1 ≤ hop ≤ size); training and validation use every window. */
  readonly hop: number;
  readonly bidirectional: boolean;
  readonly from: WindowReduce;
  /** Classification: what labels a window (window-samples.ts). */
  readonly label: WindowLabel;
}

/** The untrained windowed model: PyTorch-style U(-1/√H, 1/√H), seeded; a bidirectional layer reads 2H from the one below. */
export function initialWindowModel(ds: Dataset, o: TrainOptions, w: WindowOptions): Model {
  const D = w.bidirectional ? 2 : 1;
  const base = initialModel(ds, o);
  if (D === 1) return { ...base, window: { size: w.size, hop: w.hop }, outputs: { ...base.outputs, from: w.from } };
  const rand = seededRandom((o.seed ^ 0x2545f491) >>> 0);
  const u = (n: number, k: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * k);
  let width = ds.inputNames.length;
  const layers = base.layers.map((l): Layer => {
    if (l.type === 'dense') {
      const k = 1 / Math.sqrt(width);
      return { ...l, inputSize: width, w: tensorF32([l.outputSize, width], u(l.outputSize * width, k)), b: tensorF32([l.outputSize], u(l.outputSize, k)) };
    }
    const G = l.wIh.shape[0], H = l.hiddenSize, k = 1 / Math.sqrt(H);
    const cell = (): RecurrentWeights => ({
      wIh: tensorF32([G, width], u(G * width, k)), wHh: tensorF32([G, H], u(G * H, k)), bIh: tensorF32([G], u(G, k)), bHh: tensorF32([G], u(G, k)),
    });
    const out: RecurrentLayer = { ...l, inputSize: width, ...cell(), direction: 'bidirectional', reverse: cell() };
    width = D * H;
    return out;
  });
  return { ...base, layers, window: { size: w.size, hop: w.hop }, outputs: { ...base.outputs, from: w.from } };
}

/** The trained weights as a model, with the dataset's normalisation and outputs. */
export function exportWindowModel(net: WindowNetwork, ds: Dataset, base: Model): Model {
  const copy = (t: { readonly shape: readonly number[]; readonly data: ArrayLike<number> }) => tensorF32(t.shape, t.data);
  const cell = (c: RecurrentWeights): RecurrentWeights => ({ wIh: copy(c.wIh), wHh: copy(c.wHh), bIh: copy(c.bIh), bHh: copy(c.bHh) });
  const layers = net.layers.map((l): Layer => {
    if (l.type === 'dense') return { ...l, w: copy(l.w), b: copy(l.b) };
    return { ...l, ...cell(l), ...(l.reverse ? { reverse: cell(l.reverse) } : {}) };
  });
  const I = ds.inputNames.length, O = ds.outputNames.length;
  const from = base.outputs.from;
  const outputs: ModelOutputs = ds.task === 'regression'
    ? { names: [...ds.outputNames], mean: tensorF32([O], ds.targetMean!), std: tensorF32([O], ds.targetStd!), horizon: ds.shift, ...(from ? { from } : {}) }
    : { names: [...ds.outputNames], labels: [...ds.labels!], ...(from ? { from } : {}) };
  return {
    ...base,
    inputs: {
      names: [...ds.inputNames], mean: tensorF32([I], ds.inputMean), std: tensorF32([I], ds.inputStd),
      min: tensorF32([I], ds.inputMin), max: tensorF32([I], ds.inputMax),
    },
    outputs,
    layers,
  };
}

export interface WindowTrainResult extends TrainResult {
  /** Classification: training windows per class (the class weights are computed from these). */
  readonly windowClassCounts?: readonly number[];
  /** Training windows. */
  readonly trainWindows: number;
  readonly valWindows: number;
}

/**
 * Model outputs of every window ending at `ends` of series si (probabilities, or de-normalised
 * regression outputs), [ends.length, O] into out.
 */
export function windowOutputs(net: WindowNetwork, ds: Dataset, si: number, ends: Int32Array, out: Float32Array): Float32Array {
  const s = ds.series[si], I = net.inputSize, O = net.outputSize, W = net.windowSize;
  for (let k = 0; k < ends.length; k++) {
    const y = net.forward(s.x, (ends[k] - W + 1) * I);
    for (let o = 0; o < O; o++) out[k * O + o] = ds.task === 'regression' ? y[o] * ds.targetStd![o] + ds.targetMean![o] : y[o];
  }
  return out;
}

export function trainWindowed(ds: Dataset, o: TrainOptions, w: WindowOptions, onEvent: (e: TrainEvent) => void = () => {}): WindowTrainResult {
  if (ds.residualInputs) throw new TrainDataError('a windowed model predicts levels: residual outputs are for per-reading forecasters (pass --no-residual)');
  const base = initialWindowModel(ds, o, w);
  const W = w.size;
  const net = createWindowNetwork(base, 'f32');
  const O = net.outputSize, I = net.inputSize;
  const classification = ds.task === 'classification';
  const runs = trainingRuns(ds);
  const longest = Math.max(0, ...runs.map((r) => r.end - r.start));
  if (longest < W) throw new TrainDataError(`no ${W} consecutive training readings for a training window (the longest run of them is ${longest}): use a smaller --window, or fewer --val-blocks or a smaller --val-gap`);
  const sampler = windowEndSampler(runs, W);
  const valEnds = ds.series.map((s) => validationEnds(ds, s, W));
  const valWindows = valEnds.reduce((a, e) => a + e.length, 0);
  if (valWindows === 0) throw new TrainDataError(`no validation window of ${W} readings: use a smaller --window or a larger --val`);

  // Class weights from the windows' own labels (with --window-label any, windows touching an event outnumber event readings).
  const cls = ds.series.map((s) => {
    const c = new Int32Array(classification ? s.n : 0).fill(-1);
    if (classification) for (let e = W - 1; e < s.n; e++) c[e] = windowClass(s, W, e, w.label);
    return c;
  });
  let windowClassCounts: number[] | undefined;
  if (classification) {
    windowClassCounts = ds.labels!.map(() => 0);
    for (const r of runs) for (let e = r.start + W - 1; e < r.end; e++) windowClassCounts[cls[r.series][e]]++;
  }
  const weights = classification
    ? (o.classWeights ?? true) ? inverseFrequencyWeights(windowClassCounts!) : ds.labels!.map(() => 1)
    : [];
  const stepsPerEpoch = Math.max(o.minSteps ?? RECIPE_DEFAULTS.minSteps, Math.ceil((o.passes ?? RECIPE_DEFAULTS.passes) * sampler.count / o.batch));
  const rand = seededRandom((o.seed ^ 0x5bd1e995) >>> 0);
  const dOut = new Float64Array(O);

  const lossAt = (y: ArrayLike<number>, si: number, e: number, scale: number): number => (classification
    ? softmaxCrossEntropyLoss(dOut, 0, y as Float32Array, 0, cls[si][e], O, weights[cls[si][e]], scale)
    : mseLoss(dOut, 0, y as Float32Array, 0, ds.series[si].y, e * O, O, scale));

  function validationLoss(): number {
    let sum = 0;
    ds.series.forEach((s, si) => {
      const ends = valEnds[si];
      for (let k = 0; k < ends.length; k++) sum += lossAt(net.forward(s.x, (ends[k] - W + 1) * I), si, ends[k], 1);
    });
    return sum / valWindows;
  }

  /** One gradient step: `batch` windows drawn uniformly among the training windows; the loss is their mean. */
  function batch(): { loss: number; count: number } {
    let loss = 0;
    for (let b = 0; b < o.batch; b++) {
      const { series: si, end: e } = sampler.sample(rand);
      const y = net.forward(ds.series[si].x, (e - W + 1) * I);
      loss += lossAt(y, si, e, 1 / o.batch);
      net.backward(dOut, classification);
    }
    return { loss, count: o.batch };
  }

  const { history, bestEpoch, bestLoss, stoppedEarly } = runEpochs(o, { params: net.params, grads: net.grads, stepsPerEpoch, batch, validationLoss }, onEvent);
  const buf = new Float32Array(Math.max(...valEnds.map((e) => e.length)) * O);
  const predict = (si: number) => windowOutputs(net, ds, si, valEnds[si], buf);
  const metrics: Metrics = classification
    ? classificationMetrics(ds.labels!, valEnds, (si) => predict(si), (si, e) => cls[si][e])
    : regressionMetrics(ds, valEnds, predict);
  return {
    model: exportWindowModel(net, ds, base),
    history, bestEpoch, bestValLoss: bestLoss, epochsRun: history.length - 1, stoppedEarly, metrics,
    ...(classification ? { classWeights: weights, windowClassCounts } : {}),
    parameters: net.params.length, trainWindows: sampler.count, valWindows,
  };
}
