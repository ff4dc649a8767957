// The epoch loop both trainers run (trainer.ts per reading, window-trainer.ts per window):
// gradient steps of Adam with global-norm clipping and the learning-rate schedule, a
// validation loss after every epoch, early stopping with the best weights kept, the stop
// callback. What one gradient step's batch is, and how validation is scored, are the
// caller's. Pure compute; no clock.
import type { FloatArray } from '../kernels/cells-backward.js';
import { createAdam } from './adam.js';
import { clipGlobalNorm } from './clip.js';
import type { TrainOptions } from './trainer.js';

/** Defaults of the recipe's options, chosen by measurement (docs/training.md). */
export const RECIPE_DEFAULTS = { minSteps: 32, passes: 1, startMargin: 0.01 } as const;

export interface EpochStats {
  /** 0: the starting weights, before any update (trainLoss NaN); then 1, 2, … */
  readonly epoch: number;
  readonly trainLoss: number;
  readonly valLoss: number;
}

export type TrainEvent =
  | { readonly type: 'start'; readonly epochs: number; readonly stepsPerEpoch: number; readonly parameters: number }
  | { readonly type: 'batch'; readonly epoch: number; readonly step: number; readonly steps: number; readonly loss: number }
  | { readonly type: 'epoch'; readonly stats: EpochStats; readonly bestEpoch: number; readonly improved: boolean }
  | { readonly type: 'stop'; readonly epoch: number; readonly reason: 'epochs' | 'patience' | 'budget' };

export interface EpochWork {
  readonly params: FloatArray;
  /** ∂loss/∂params; batch() accumulates into it, the loop clips, steps and zeroes it. */
  readonly grads: Float64Array;
  readonly stepsPerEpoch: number;
  /** One gradient step's forward and backward: its mean loss and the samples it averaged over. */
  batch(): { readonly loss: number; readonly count: number };
  validationLoss(): number;
}

export interface EpochsRun {
  readonly history: EpochStats[];
  readonly bestEpoch: number;
  readonly bestLoss: number;
  readonly stoppedEarly: boolean;
}

/** Runs the epochs; on return `work.params` hold the best weights (the start when no epoch beat it). */
export function runEpochs(o: TrainOptions, work: EpochWork, onEvent: (e: TrainEvent) => void): EpochsRun {
  const { params, grads, stepsPerEpoch } = work;
  const shouldStop = o.shouldStop ?? (() => false);
  const adam = createAdam(params.length, { lr: o.lr });
  const best = new Float32Array(params.length);
  best.set(params);

  onEvent({ type: 'start', epochs: o.epochs, stepsPerEpoch, parameters: params.length });
  // Epoch 0: the starting weights are a candidate like any epoch's (a good start can win).
  const start: EpochStats = { epoch: 0, trainLoss: NaN, valLoss: work.validationLoss() };
  const history: EpochStats[] = [start];
  let bestLoss = start.valLoss, bestEpoch = 0, since = 0, stoppedEarly = false, lrScale = 1;
  const startBar = start.valLoss * (1 - (o.startMargin ?? RECIPE_DEFAULTS.startMargin));
  onEvent({ type: 'epoch', stats: start, bestEpoch, improved: true });
  const totalSteps = o.epochs * stepsPerEpoch;
  const plateauWait = Math.max(1, Math.floor(o.patience / 2));
  let globalStep = 0, budgetHit = false;
  for (let epoch = 1; epoch <= o.epochs && !budgetHit; epoch++) {
    if (shouldStop()) { budgetHit = true; break; }
    let epochSum = 0, epochCount = 0, step = 0;
    const epochLr = o.lr * lrScale * Math.pow(o.lrDecay ?? 1, epoch - 1);
    const lrAt = (): number => (o.schedule === 'cosine'
      ? epochLr * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * globalStep / totalSteps)))
      : epochLr);
    for (let g = 0; g < stepsPerEpoch; g++) {
      if (g > 0 && shouldStop()) { budgetHit = true; break; }
      step++;
      const { loss, count } = work.batch();
      clipGlobalNorm(grads, o.clip);
      adam.step(params, grads, lrAt());
      grads.fill(0);
      globalStep++;
      epochSum += loss * count;
      epochCount += count;
      onEvent({ type: 'batch', epoch, step, steps: stepsPerEpoch, loss });
    }
    const stats: EpochStats = { epoch, trainLoss: epochSum / epochCount, valLoss: work.validationLoss() };
    history.push(stats);
    const improved = stats.valLoss < (bestEpoch === 0 ? startBar : bestLoss);
    if (improved) {
      bestLoss = stats.valLoss;
      bestEpoch = epoch;
      best.set(params);
      since = 0;
    } else {
      since++;
      if (o.schedule === 'plateau' && since % plateauWait === 0) lrScale *= 0.5;
    }
    onEvent({ type: 'epoch', stats, bestEpoch, improved });
    if (budgetHit) break;
    if (o.patience > 0 && since >= o.patience && epoch < o.epochs) {
      stoppedEarly = true;
      onEvent({ type: 'stop', epoch, reason: 'patience' });
      break;
    }
    if (epoch === o.epochs) onEvent({ type: 'stop', epoch, reason: 'epochs' });
  }
  if (budgetHit) {
    stoppedEarly = true;
    onEvent({ type: 'stop', epoch: history.length - 1, reason: 'budget' });
  }
  params.set(best);
  return { history, bestEpoch, bestLoss, stoppedEarly };
}
