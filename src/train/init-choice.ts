// Where a run starts (train --init): at the fitted linear AR embedded exactly in a ReLU RNN
// (ar-model.ts), at persistence (the residual forecaster's zero-change head), or at a plain
// seeded initialisation. `auto` measures on the training split only: the AR, fitted on the
// first 80 % of each device's training steps, against persistence on the last 20 %; the AR
// start wins when it removes more than a fifth of persistence's RMSE (the issue's "beats
// persistence by more than 20 %"). Validation is never looked at to choose.
import { arModel, arTrainShape } from './ar-model.js';
import { TrainDataError } from './errors.js';
import { isTrainStep, type Dataset, type Series } from './dataset.js';
import { chooseLinearAr, linearArOutputs, type LinearAr } from './linear-ar.js';
import type { TrainOptions } from './trainer.js';

export const INIT_MODES = ['auto', 'linear-ar', 'persistence', 'random'] as const;
export type InitMode = (typeof INIT_MODES)[number];
export type Start = Exclude<InitMode, 'auto'>;

/** auto picks the AR when its inner-holdout RMSE is below this share of persistence's. */
export const AR_WIN_RATIO = 0.8;
/** Share of each device's training steps (at its end) auto holds out to compare. */
const INNER_HOLDOUT = 0.2;
/**
 * Adam's learning rate when fine-tuning the AR start (unless --lr is given). The trainer's
 * default 5e-3 moves the ReLU shift register far off the AR in the first epoch (Seattle h12:
 * RMSE 0.18 -> 0.36). Measured with the AR start, seeds 1-3, best epoch kept: 3e-4 was never
 * worse than 1e-4 or 1e-3 (Seattle h12 0.130/0.119/0.119 against 0.180/0.128/0.138 at 1e-4
 * and 0.131/0.180/0.180 at 1e-3; CO2 h1 0.462/0.431/0.448 against 0.462 at 1e-4).
 */
export const AR_FINE_TUNE_LR = 3e-4;

export interface InnerHoldout {
  /** √(mean over outputs of MSE_AR / MSE_persistence) on the held-out training steps. */
  readonly ratio: number;
  readonly steps: number;
  readonly lags: number;
}

export interface StartChoice {
  readonly start: Start;
  /** One sentence for the card and the summary. */
  readonly why: string;
  /** linear-ar: the AR fitted on the whole training split, the model's start. */
  readonly ar?: LinearAr;
  /** auto on a regression: what it measured. */
  readonly holdout?: InnerHoldout;
}

/** The dataset with each series cut before its inner holdout: its training steps are the inner fit's. */
function innerDataset(ds: Dataset, cuts: readonly number[]): Dataset {
  return { ...ds, series: ds.series.map((s, si): Series => ({ ...s, n: cuts[si], trainEnd: Math.min(s.trainEnd, cuts[si]) })) };
}

/** The AR (fitted on the inner part) against persistence on the last 20 % of training steps. */
export function innerHoldout(ds: Dataset): InnerHoldout | undefined {
  const O = ds.outputNames.length, k = ds.shift;
  const cuts = ds.series.map((s) => {
    const steps: number[] = [];
    for (let t = 0; t < s.n; t++) if (isTrainStep(s, k, t)) steps.push(t);
    const hold = Math.floor(steps.length * INNER_HOLDOUT);
    return hold > 0 ? steps[steps.length - hold] : s.n;
  });
  const inner = innerDataset(ds, cuts);
  let ar: LinearAr;
  try {
    ar = chooseLinearAr(inner);
  } catch {
    return undefined; // too little data before the holdout for a fit: no AR start
  }
  const se = new Float64Array(O), pse = new Float64Array(O);
  let steps = 0;
  ds.series.forEach((s, si) => {
    const y = linearArOutputs(ar, ds, s, new Float32Array(s.n * O));
    for (let t = cuts[si]; t < s.n; t++) {
      if (!isTrainStep(s, k, t)) continue;
      steps++;
      for (let o = 0; o < O; o++) {
        const truth = s.raw[(t + k) * O + o];
        se[o] += (y[t * O + o] - truth) ** 2;
        pse[o] += (s.raw[t * O + o] - truth) ** 2;
      }
    }
  });
  if (steps === 0) return undefined;
  let sum = 0;
  // A target persistence predicts exactly (constant on the holdout) counts as a tie.
  for (let o = 0; o < O; o++) sum += pse[o] > 0 ? se[o] / pse[o] : 1;
  return { ratio: Math.sqrt(sum / O), steps, lags: ar.lags };
}

/**
 * The start of a run. `architectureGiven`: the user chose --cell, --hidden, --layers or
 * --rnn-activation, so `auto` keeps that architecture rather than the AR's.
 */
export function chooseStart(ds: Dataset, mode: InitMode, architectureGiven: boolean): StartChoice {
  const regression = ds.task === 'regression';
  const fallback: Start = ds.residualInputs ? 'persistence' : 'random';
  const fallbackWhat = fallback === 'persistence' ? 'the default cell starts at persistence (zero change)' : 'the default cell starts from a seeded random initialisation';
  if (mode === 'linear-ar') {
    if (!regression) throw new TrainDataError('--init linear-ar is for regression (--target): an autoregression forecasts numbers, not classes');
    const ar = chooseLinearAr(ds);
    return { start: 'linear-ar', ar, why: `--init linear-ar: the linear AR on the last ${ar.lags} readings as a ReLU RNN (${arTrainShape(ar).hidden} units), fine-tuned` };
  }
  if (mode === 'persistence') {
    if (!ds.residualInputs) throw new TrainDataError('--init persistence needs residual outputs (--residual): the start predicts "no change" from the current reading');
    return { start: 'persistence', why: '--init persistence: the output layer starts at "no change"' };
  }
  if (mode === 'random') return { start: 'random', why: '--init random: a seeded random initialisation' };
  if (!regression) return { start: 'random', why: 'auto: classification, a seeded random initialisation' };
  if (architectureGiven) return { start: fallback, why: `auto: the architecture was given (--cell/--hidden/--layers/--rnn-activation), so ${fallbackWhat.replace('the default cell', 'it')}` };
  const holdout = innerHoldout(ds);
  if (!holdout) return { start: fallback, why: `auto: too few training steps to compare the linear AR with persistence, so ${fallbackWhat}` };
  const pct = (100 * (1 - holdout.ratio)).toFixed(1);
  if (holdout.ratio < AR_WIN_RATIO) {
    const ar = chooseLinearAr(ds);
    return {
      start: 'linear-ar', ar, holdout,
      why: `auto: on the last 20 % of the training split a linear AR had ${pct} % lower RMSE than persistence (more than ${Math.round(100 * (1 - AR_WIN_RATIO))} %), so the model starts as the AR on the last ${ar.lags} readings, a ReLU RNN of ${arTrainShape(ar).hidden} units, fine-tuned`,
    };
  }
  return {
    start: fallback, holdout,
    why: `auto: on the last 20 % of the training split a linear AR was ${holdout.ratio < 1 ? `only ${pct} % better than` : `${(-Number(pct)).toFixed(1)} % worse than`} persistence (needs more than ${Math.round(100 * (1 - AR_WIN_RATIO))} % better), so ${fallbackWhat}`,
  };
}

/**
 * TrainOptions for the chosen start: the AR's shape and weights (and the fine-tuning
 * learning rate unless `lrGiven`), or the default start with or without persistence.
 */
export function startOptions(ds: Dataset, o: TrainOptions, choice: StartChoice, lrGiven: boolean): TrainOptions {
  if (choice.start === 'linear-ar') {
    return { ...o, ...arTrainShape(choice.ar!), initFrom: arModel(choice.ar!, ds, o.name), ...(lrGiven ? {} : { lr: AR_FINE_TUNE_LR }) };
  }
  return choice.start === 'random' ? { ...o, persistenceStart: false } : o;
}
