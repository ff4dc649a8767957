// The training loop: truncated BPTT over per-device lanes; Adam, global-norm clipping,
// early stopping on validation loss with the best weights kept (epochs.ts). Pure compute: no clock,
// no I/O; progress goes to a callback. Same dataset, options and seed give the same bits.
import type { FloatArray } from '../kernels/cells-backward.js';
import { initModel, seededRandom } from '../model/init.js';
import { tensorF32 } from '../model/tensor.js';
import type { Layer, Model, RecurrentType, RnnActivation } from '../model/types.js';
import { RECIPE_DEFAULTS, runEpochs, type EpochStats, type TrainEvent } from './epochs.js';

export { RECIPE_DEFAULTS, type EpochStats, type TrainEvent };
import { TrainDataError } from './errors.js';
import { denormaliseOutputs, isTrainStep, isValStep, outputWidth, type Dataset, type Series } from './dataset.js';
import { inverseFrequencyWeights, mseLoss, softmaxCrossEntropyLoss } from './loss.js';
import { validationMetrics, type Metrics } from './metrics.js';
import { createNetwork, type Network } from './network.js';
import { persistenceStart } from './start.js';
import { trainingRuns, windowSampler, type Window } from './windows.js';

export interface TrainOptions {
  readonly name: string;
  readonly cell: RecurrentType;
  readonly hidden: number;
  readonly layers: number;
  readonly rnnActivation?: RnnActivation;
  /** Truncated-BPTT window (steps). */
  readonly seqLen: number;
  /** Windows per gradient step. */
  readonly batch: number;
  readonly epochs: number;
  readonly lr: number;
  /** Learning rate multiplier per epoch: epoch e uses lr · lrDecay^(e-1) (default 1). */
  readonly lrDecay?: number;
  /** Global gradient-norm cap; 0 disables. */
  readonly clip: number;
  /** Stop after this many epochs without a better validation loss; 0: never stop early. */
  readonly patience: number;
  readonly seed: number;
  /** Classification: weigh classes by inverse training frequency (default true). */
  readonly classWeights?: boolean;
  /** Start from this model's weights, not a fresh initialisation (same layers, inputs and outputs). */
  readonly initFrom?: Model;
  /**
   * Residual regression: start with a zero output layer whose bias undoes the change
   * normalisation, so the start predicts "no change" (persistence) exactly (default true).
   */
  readonly persistenceStart?: boolean;
  /** Steps run forward (no gradient) from the zero state before each window (default seqLen). */
  readonly burnIn?: number;
  /** Windows per epoch, in passes over the training steps (default 1). */
  readonly passes?: number;
  /** Gradient steps per epoch at least (default 32): a short series still gets enough steps between validations. */
  readonly minSteps?: number;
  /** Learning-rate schedule: constant (default), cosine over all steps, or halve on a plateau. */
  readonly schedule?: 'constant' | 'cosine' | 'plateau';
  /**
   * An epoch replaces the starting weights as the best only if its validation loss is lower
   * by more than this fraction (default 0.01): a start at persistence is kept against a
   * within-noise "improvement".
   */
  readonly startMargin?: number;
  /** Checked between gradient steps and epochs: true ends the run (e.g. a time budget); the best weights so far are kept. */
  readonly shouldStop?: () => boolean;
}



export interface TrainResult {
  /** The model with the best validation weights, normalisation and outputs filled in; no meta. */
  readonly model: Model;
  /** history[0] is epoch 0 (the starting weights, no training loss), then one entry per epoch run. */
  readonly history: readonly EpochStats[];
  /** 0 when no epoch beat the starting weights: the start is returned. */
  readonly bestEpoch: number;
  readonly bestValLoss: number;
  /** Training epochs run (not counting epoch 0). */
  readonly epochsRun: number;
  readonly stoppedEarly: boolean;
  readonly metrics: Metrics;
  /** Classification: the loss weight of each class (all 1 when disabled). */
  readonly classWeights?: readonly number[];
  readonly parameters: number;
}

/** The untrained model a run starts from: initModel, seeded. */
export function initialModel(ds: Dataset, o: TrainOptions): Model {
  const O = outputWidth(ds);
  return initModel({
    name: o.name, task: ds.task, inputs: ds.inputNames, outputs: ds.outputNames,
    ...(ds.labels ? { labels: ds.labels } : {}),
    ...(ds.task === 'regression' ? { horizon: ds.shift } : {}),
    cell: o.cell, hiddenSizes: new Array<number>(o.layers).fill(o.hidden),
    ...(o.rnnActivation ? { rnnActivation: o.rnnActivation } : {}),
    dense: [{ size: O, activation: ds.task === 'regression' ? 'linear' : 'softmax' }],
  }, o.seed);
}

/**
 * `fresh` with the weights of `from`, the model a run continues (train --init-from): every
 * layer must have the same type, activation and sizes, and the inputs and outputs the same
 * names, else the weights would mean something else.
 */
export function continueFrom(fresh: Model, from: Model, residual = false): Model {
  const names = (m: Model) => `inputs [${m.inputs.names.join(', ')}], outputs [${m.outputs.names.join(', ')}]`;
  if (names(from) !== names(fresh)) throw new TrainDataError(`the model to continue has ${names(from)}; this run has ${names(fresh)}`);
  const fromResidual = 'residual' in from.outputs && from.outputs.residual === true;
  if (fresh.task === 'regression' && fromResidual !== residual) {
    throw new TrainDataError(`the model to continue predicts ${fromResidual ? 'changes (residual)' : 'levels'}; this run trains ${residual ? 'residual outputs (pass --no-residual)' : 'levels (pass --residual)'}`);
  }
  const shape = (l: Layer) => (l.type === 'dense' ? `dense ${l.activation} ${l.inputSize}->${l.outputSize}` : `${l.type}${l.type === 'rnn' ? ` ${l.activation}` : ''} ${l.inputSize}->${l.hiddenSize}`);
  const want = fresh.layers.map(shape).join(', ');
  const got = from.layers.map(shape).join(', ');
  if (want !== got) throw new TrainDataError(`the model to continue has layers [${got}]; this run builds [${want}] (give the same cell, hidden size and layer count)`);
  const quantized = from.layers.some((l) => (l.type === 'dense' ? [l.w] : [l.wIh, l.wHh]).some((t) => t.dtype !== 'f32'));
  if (quantized) throw new TrainDataError('the model to continue is quantized (int8); continue from its float model');
  return { ...fresh, layers: from.layers };
}

/** The trained network's weights as a model, with the dataset's normalisation and outputs. */
export function exportModel(net: Network, ds: Dataset, base: Model): Model {
  const copy = (t: { readonly shape: readonly number[]; readonly data: ArrayLike<number> }) => tensorF32(t.shape, t.data);
  const layers = net.layers.map((l): Layer => {
    if (l.type === 'dense') return { ...l, w: copy(l.w), b: copy(l.b) };
    return { ...l, wIh: copy(l.wIh), wHh: copy(l.wHh), bIh: copy(l.bIh), bHh: copy(l.bHh) };
  });
  const I = ds.inputNames.length, O = ds.outputNames.length;
  return {
    ...base,
    inputs: {
      names: [...ds.inputNames], mean: tensorF32([I], ds.inputMean), std: tensorF32([I], ds.inputStd),
      min: tensorF32([I], ds.inputMin), max: tensorF32([I], ds.inputMax),
    },
    outputs: ds.task === 'regression'
      ? {
        names: [...ds.outputNames], mean: tensorF32([O], ds.targetMean!), std: tensorF32([O], ds.targetStd!), horizon: ds.shift,
        ...(ds.residualInputs ? { residual: true } : {}),
      }
      : { names: [...ds.outputNames], labels: [...ds.labels!] },
    layers,
  };
}

/**
 * Model outputs for every step of series `s` from the zero state, de-normalised exactly as
 * the runtime session does (regression: f32(y' · std + mean), residual: plus the current
 * reading, f32(f32(x) + that); classification: probabilities).
 */
export function seriesOutputs(net: Network, ds: Dataset, s: Series, out: Float32Array): Float32Array {
  net.runSeries(out, s.x, s.n);
  return denormaliseOutputs(ds, s, out);
}

export function train(ds: Dataset, o: TrainOptions, onEvent: (e: TrainEvent) => void = () => {}): TrainResult {
  const fresh = initialModel(ds, o);
  const base = o.initFrom ? continueFrom(fresh, o.initFrom, ds.residualInputs !== undefined) : (o.persistenceStart ?? true) ? persistenceStart(fresh, ds) : fresh;
  const T = o.seqLen;
  const net = createNetwork(base, T, 'f32');
  const O = net.outputSize, I = net.inputSize;
  const classification = ds.task === 'classification';
  const weights = classification
    ? (o.classWeights ?? true) ? inverseFrequencyWeights(ds.classCounts!) : ds.labels!.map(() => 1)
    : [];
  const shift = ds.shift;

  // Each epoch: stepsPerEpoch gradient steps of `batch` windows drawn at random offsets.
  const sampler = windowSampler(trainingRuns(ds), T, o.burnIn ?? T);
  const stepsPerEpoch = Math.max(o.minSteps ?? RECIPE_DEFAULTS.minSteps, Math.ceil((o.passes ?? RECIPE_DEFAULTS.passes) * sampler.trainSteps / T / o.batch));
  const wins: Window[] = Array.from({ length: o.batch }, () => ({ series: 0, burnStart: 0, start: 0, steps: 0 }));
  const state = new Float32Array(net.stateSize);

  const rand = seededRandom((o.seed ^ 0x5bd1e995) >>> 0);
  const dOut = new Float64Array(T * O);
  const maxN = Math.max(...ds.series.map((s) => s.n));
  const evalOut = new Float32Array(maxN * O);

  /** Weighted loss averaged over the validation steps, with the same weights as training. */
  function validationLoss(): number {
    let sum = 0, count = 0;
    for (const s of ds.series) {
      net.runSeries(evalOut, s.x, s.n);
      for (let t = 0; t < s.n; t++) {
        if (!isValStep(s, shift, t)) continue;
        count++;
        sum += classification
          ? softmaxCrossEntropyLoss(dOut, 0, evalOut, t * O, s.cls[t], O, weights[s.cls[t]], 1)
          : mseLoss(dOut, 0, evalOut, t * O, s.y, t * O, O, 1);
      }
    }
    return sum / count;
  }

  /** Loss and ∂loss/∂outputs of one forward window of series s from step a (targets of non-training steps skipped). */
  function windowLoss(s: Series, a: number, steps: number, y: FloatArray, scale: number): number {
    let sum = 0;
    for (let t = 0; t < steps; t++) {
      const st = a + t;
      if (!isTrainStep(s, shift, st)) {
        for (let k = 0; k < O; k++) dOut[t * O + k] = 0;
        continue;
      }
      sum += classification
        ? softmaxCrossEntropyLoss(dOut, t * O, y, t * O, s.cls[st], O, weights[s.cls[st]], scale)
        : mseLoss(dOut, t * O, y, t * O, s.y, st * O, O, scale);
    }
    return sum;
  }

  /** One gradient step: `batch` windows, every step of a window a training step; the loss is a mean over all of the batch's. */
  function batch(): { loss: number; count: number } {
    let count = 0;
    for (let b = 0; b < o.batch; b++) { sampler.sample(wins[b], rand); count += wins[b].steps; }
    let batchSum = 0;
    for (let b = 0; b < o.batch; b++) {
      const win = wins[b];
      const s = ds.series[win.series];
      // Burn-in: from the zero state, forward only, so the window starts from a warm state.
      state.fill(0);
      for (let a = win.burnStart; a < win.start; a += T) net.forwardWindow(state, s.x, a * I, Math.min(T, win.start - a));
      const y = net.forwardWindow(state, s.x, win.start * I, win.steps);
      batchSum += windowLoss(s, win.start, win.steps, y, 1 / count);
      net.backwardWindow(dOut, win.steps, classification);
    }
    return { loss: batchSum, count };
  }

  const { history, bestEpoch, bestLoss, stoppedEarly } = runEpochs(o, { params: net.params, grads: net.grads, stepsPerEpoch, batch, validationLoss }, onEvent);
  const metrics = validationMetrics(ds, (si) => seriesOutputs(net, ds, ds.series[si], evalOut));
  return {
    model: exportModel(net, ds, base),
    history, bestEpoch, bestValLoss: bestLoss, epochsRun: history.length - 1, stoppedEarly, metrics,
    ...(classification ? { classWeights: weights } : {}),
    parameters: net.params.length,
  };
}
