// The simple forecasters a regression model must beat, scored by the one rule the model is
// scored by (the same validation steps, per device and overall, in the data's units):
// persistence (the value h steps ahead is the last one), seasonal persistence (the value one
// period before the target time, when the training split shows a period or one is given),
// and the ridge linear autoregression of linear-ar.ts.
import { isTrainStep, isValStep, type Dataset, type Series } from './dataset.js';
import { TrainDataError } from './errors.js';
import { chooseLinearAr, linearArOutputs } from './linear-ar.js';

export interface DeviceScore {
  readonly device: string;
  readonly steps: number;
  /** Per target, in output order. */
  readonly rmse: readonly number[];
  readonly mae: readonly number[];
}

export interface ForecastScore {
  readonly steps: number;
  readonly rmse: readonly number[];
  readonly mae: readonly number[];
  readonly devices: readonly DeviceScore[];
}

export type BaselineKind = 'persistence' | 'seasonal' | 'linear-ar';

export interface BaselineScore extends ForecastScore {
  readonly kind: BaselineKind;
  /** In plain words, e.g. "a linear model on the last 24 readings". */
  readonly description: string;
  /** seasonal: the period (steps); linear-ar: lags and ridge. */
  readonly period?: number;
  readonly lags?: number;
  readonly ridge?: number;
}

export interface Baselines {
  readonly horizon: number;
  /** The seasonal period and where it came from; absent: no clear period, no seasonal baseline. */
  readonly period?: { readonly steps: number; readonly source: 'found' | 'given'; readonly autocorrelation?: number };
  readonly list: readonly BaselineScore[];
}

/**
 * RMSE and MAE of `predict(si)` (forecasts [n, O] of series si, in the data's units) over the
 * validation steps: the error at step t is forecast[t] − target[t + horizon].
 */
export function scoreForecasts(ds: Dataset, predict: (seriesIndex: number) => ArrayLike<number>): ForecastScore {
  const O = ds.outputNames.length, k = ds.shift;
  const se = new Float64Array(O), ae = new Float64Array(O);
  let steps = 0;
  const devices = ds.series.map((s, si): DeviceScore => {
    const y = predict(si);
    const dse = new Float64Array(O), dae = new Float64Array(O);
    let n = 0;
    for (let t = 0; t < s.n; t++) {
      if (!isValStep(s, k, t)) continue;
      n++;
      for (let o = 0; o < O; o++) {
        const e = y[t * O + o] - s.raw[(t + k) * O + o];
        dse[o] += e * e; dae[o] += Math.abs(e);
        se[o] += e * e; ae[o] += Math.abs(e);
      }
    }
    steps += n;
    return { device: s.device, steps: n, rmse: [...dse].map((v) => Math.sqrt(v / n)), mae: [...dae].map((v) => v / n) };
  });
  return { steps, rmse: [...se].map((v) => Math.sqrt(v / steps)), mae: [...ae].map((v) => v / steps), devices };
}

/** Persistence: the forecast of step t is the targets' value at t, into out [n, O]. */
export function persistenceForecasts(ds: Dataset, s: Series, out: Float64Array): Float64Array {
  out.set(s.raw.subarray(0, s.n * ds.outputNames.length));
  return out;
}

/**
 * Seasonal persistence with period P: the forecast of step t is the value at the target time
 * t + h minus as many periods as it takes to reach a reading already seen (t + h − P·⌈h/P⌉);
 * before the series holds one, the last reading.
 */
export function seasonalForecasts(ds: Dataset, s: Series, period: number, out: Float64Array): Float64Array {
  const O = ds.outputNames.length, back = period * Math.ceil(ds.shift / period) - ds.shift;
  for (let t = 0; t < s.n; t++) {
    const r = t - back >= 0 ? t - back : t;
    for (let o = 0; o < O; o++) out[t * O + o] = s.raw[r * O + o];
  }
  return out;
}

/** Smallest autocorrelation that counts as a clear period. */
export const PERIOD_MIN_AUTOCORRELATION = 0.3;

/**
 * The period of the targets on the training split, or undefined when there is none clearly:
 * the autocorrelation of their one-step changes (which removes a trend), pooled over devices
 * and targets over pairs of training rows; past the first lag where it turns negative, the
 * first local maximum within 10 % of the highest one, if that is at least 0.3.
 */
export function findPeriod(ds: Dataset): { steps: number; autocorrelation: number } | undefined {
  const O = ds.outputNames.length;
  const train = ds.series.map((s) => {
    const ok = new Uint8Array(s.n);
    // Training rows: inputs of a training step, or its target row.
    for (let t = 0; t < s.n; t++) if (isTrainStep(s, ds.shift, t)) { ok[t] = 1; ok[t + ds.shift] = 1; }
    return ok;
  });
  const rows = Math.min(...train.map((ok) => ok.reduce((a, b) => a + b, 0)));
  const maxLag = Math.min(1000, Math.floor(rows / 3));
  if (maxLag < 4) return undefined;
  // One-step changes d[t] = v[t] − v[t−1] where both rows are training rows, centred per target.
  const diffs = ds.series.map((s, si) => {
    const d = new Float64Array(s.n * O).fill(NaN);
    for (let t = 1; t < s.n; t++) if (train[si][t] && train[si][t - 1]) for (let o = 0; o < O; o++) d[t * O + o] = s.raw[t * O + o] - s.raw[(t - 1) * O + o];
    return d;
  });
  for (let o = 0; o < O; o++) {
    let sum = 0, n = 0;
    for (const d of diffs) for (let i = o; i < d.length; i += O) if (!Number.isNaN(d[i])) { sum += d[i]; n++; }
    const m = sum / n;
    for (const d of diffs) for (let i = o; i < d.length; i += O) d[i] -= m;
  }
  let var0 = 0;
  for (const d of diffs) for (const v of d) if (!Number.isNaN(v)) var0 += v * v;
  if (!(var0 > 0)) return undefined;
  const acf = new Float64Array(maxLag + 1);
  for (let lag = 1; lag <= maxLag; lag++) {
    let c = 0;
    for (const d of diffs) {
      for (let i = lag * O; i < d.length; i++) {
        const p = d[i] * d[i - lag * O];
        if (!Number.isNaN(p)) c += p;
      }
    }
    acf[lag] = c / var0;
  }
  let start = 1;
  while (start <= maxLag && acf[start] >= 0) start++;
  if (start > maxLag) return undefined;
  let top = -Infinity;
  for (let lag = start; lag < maxLag; lag++) top = Math.max(top, acf[lag]);
  if (!(top >= PERIOD_MIN_AUTOCORRELATION)) return undefined;
  for (let lag = Math.max(2, start); lag < maxLag; lag++) {
    if (acf[lag] >= 0.9 * top && acf[lag] >= acf[lag - 1] && acf[lag] >= acf[lag + 1]) return { steps: lag, autocorrelation: acf[lag] };
  }
  return undefined;
}

/** A plain-words name of a linear AR with k lags. */
function arDescription(lags: number): string {
  return lags === 1 ? 'a linear model on the last reading' : `a linear model on the last ${lags} readings`;
}

/**
 * Every baseline scored on the validation steps of a regression dataset. `period`: the
 * seasonal period to use (train --period); otherwise one is looked for on the training split.
 */
export function scoreBaselines(ds: Dataset, opts: { period?: number } = {}): Baselines {
  if (ds.task !== 'regression') throw new TrainDataError('baselines are for regression (forecasts); this dataset is a classification');
  if (opts.period !== undefined && !(Number.isInteger(opts.period) && opts.period >= 2)) {
    throw new TrainDataError(`--period must be an integer >= 2 (steps), got ${opts.period}`);
  }
  const O = ds.outputNames.length;
  const buf = new Float64Array(Math.max(...ds.series.map((s) => s.n)) * O);
  const list: BaselineScore[] = [];
  list.push({
    kind: 'persistence', description: 'persistence (repeating the last reading)',
    ...scoreForecasts(ds, (si) => persistenceForecasts(ds, ds.series[si], buf)),
  });
  const found = opts.period === undefined ? findPeriod(ds) : undefined;
  const period = opts.period !== undefined
    ? { steps: opts.period, source: 'given' as const }
    : found ? { steps: found.steps, source: 'found' as const, autocorrelation: found.autocorrelation } : undefined;
  if (period) {
    list.push({
      kind: 'seasonal', description: `seasonal persistence (the reading one period of ${period.steps} steps earlier)`, period: period.steps,
      ...scoreForecasts(ds, (si) => seasonalForecasts(ds, ds.series[si], period.steps, buf)),
    });
  }
  const ar = chooseLinearAr(ds);
  const f32 = new Float32Array(buf.length);
  list.push({
    kind: 'linear-ar', description: arDescription(ar.lags), lags: ar.lags, ridge: ar.ridge,
    ...scoreForecasts(ds, (si) => linearArOutputs(ar, ds, ds.series[si], f32)),
  });
  return { horizon: ds.shift, ...(period ? { period } : {}), list };
}

/**
 * One number to rank forecasters across targets of different units: the mean over targets
 * of RMSE / the target's training std (a single target ranks by its RMSE).
 */
export function rankScore(ds: Dataset, rmse: readonly number[]): number {
  if (rmse.length === 1) return rmse[0];
  return rmse.reduce((a, v, o) => a + v / ds.targetStd![o], 0) / rmse.length;
}

/** The baseline with the lowest rank score (the first on ties). */
export function bestBaseline(ds: Dataset, b: Baselines): BaselineScore {
  return b.list.reduce((best, x) => (rankScore(ds, x.rmse) < rankScore(ds, best.rmse) ? x : best));
}
