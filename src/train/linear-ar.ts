// The linear autoregression a recurrent model has to beat: the Dataset's normalised target
// y[t] as an affine function of the normalised inputs of the last k steps, fitted by ridge-
// regularised least squares (normal equations, Cholesky; the intercept is not penalised).
// Lags before a series' start read as 0, the normalised mean, as a zero RNN state would.
//
// Two forms of the same linear family, both stored as coefficients on the k lags:
// - levels: z[t] = [x'[t], x'[t−1], …, x'[t−k+1]], target y[t];
// - changes (when every target is an input): z[t] = [x'[t−1] − x'[t], …, x'[t−k+1] − x'[t]],
//   target y[t] minus persistence's forecast, so the current levels (which act as calendar
//   cues and overfit) do not enter, and the ridge shrinks towards persistence.
// Objective over the fitted steps (m of them):
//   (1/m) Σ_t ‖target[t] − b − W z[t]‖² + λ ‖W‖²
// so λ is relative to features of unit variance, whatever the number of rows.
import { denormaliseOutputs, isTrainStep, type Dataset, type Series } from './dataset.js';
import { TrainDataError } from './errors.js';

export type ArForm = 'levels' | 'changes';

export interface LinearAr {
  /** k >= 1: uses normalised inputs x'[t], x'[t-1], ..., x'[t-k+1]. */
  readonly lags: number;
  /** λ used (see the objective above). */
  readonly ridge: number;
  /** Which parametrisation was fitted (the coefficients below mean the same either way). */
  readonly form?: ArForm;
  /** I */
  readonly inputs: number;
  /** [O][k*I]: coef[o][lag*I + i] multiplies x'[t - lag, i] (normalised as Series.x). */
  readonly coef: readonly Float64Array[];
  /** [O] */
  readonly intercept: Float64Array;
}

/** The lag grid chooseLinearAr tries (capped by the data), and its ridge grid. */
export const LAG_GRID: readonly number[] = [1, 2, 3, 6, 12, 24, 48];
export const RIDGE_GRID: readonly number[] = [1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1];
/** Share of each device's training steps held out (at its end) to choose k and λ. */
const INNER_HOLDOUT = 0.2;

/** Sufficient statistics of a least-squares fit on D features and O outputs. */
interface Moments {
  m: number;
  readonly zs: Float64Array; // [D] Σ z
  readonly ys: Float64Array; // [O] Σ y
  readonly zz: Float64Array; // [D*D] Σ z zᵀ (upper triangle filled)
  readonly zy: Float64Array; // [D*O] Σ z yᵀ
}

function moments(D: number, O: number): Moments {
  return { m: 0, zs: new Float64Array(D), ys: new Float64Array(O), zz: new Float64Array(D * D), zy: new Float64Array(D * O) };
}

/**
 * The parametrisation: its feature width for k lags, the features of a step (lag-major, so
 * those for k lags are a leading block of those for more), the fitted target, and the way
 * back to coefficients on the lags. Lags before a series' start read as 0.
 */
interface Form {
  readonly form: ArForm;
  width(k: number): number;
  features(z: Float64Array, s: Series, k: number, t: number): Float64Array;
  /** The fitted target of step t [O] into y (levels: s.y; changes: s.y minus persistence). */
  target(y: Float64Array, s: Series, t: number): Float64Array;
  toAr(k: number, ridge: number, w: readonly Float64Array[], b: Float64Array): LinearAr;
}

const lagged = (s: Series, I: number, t: number, i: number) => (t >= 0 ? s.x[t * I + i] : 0);

function levelsForm(I: number, O: number): Form {
  return {
    form: 'levels',
    width: (k) => k * I,
    features(z, s, k, t) {
      for (let lag = 0; lag < k; lag++) for (let i = 0; i < I; i++) z[lag * I + i] = lagged(s, I, t - lag, i);
      return z;
    },
    target(y, s, t) { for (let o = 0; o < O; o++) y[o] = s.y[t * O + o]; return y; },
    toAr: (k, ridge, w, b) => ({ lags: k, ridge, form: 'levels', inputs: I, coef: w.map((v) => Float64Array.from(v)), intercept: b }),
  };
}

/**
 * Persistence in normalised units is an intercept plus p[o][i] · x'[t, i]: p = std of the
 * target's input / std of the target (levels), 0 (residual targets: a change of 0).
 * Undefined when a target is not an input.
 */
function persistenceSlopes(ds: Dataset): Float64Array[] | undefined {
  const I = ds.inputNames.length;
  const from = ds.outputNames.map((n, o) => (ds.residualInputs ? ds.residualInputs[o] : ds.inputNames.indexOf(n)));
  if (from.some((i) => i < 0)) return undefined;
  return from.map((i, o) => {
    const p = new Float64Array(I);
    if (!ds.residualInputs) p[i] = ds.inputStd[i] / ds.targetStd![o];
    return p;
  });
}

function changesForm(I: number, O: number, p: readonly Float64Array[]): Form {
  return {
    form: 'changes',
    width: (k) => (k - 1) * I,
    features(z, s, k, t) {
      for (let lag = 1; lag < k; lag++) for (let i = 0; i < I; i++) z[(lag - 1) * I + i] = lagged(s, I, t - lag, i) - s.x[t * I + i];
      return z;
    },
    target(y, s, t) {
      for (let o = 0; o < O; o++) {
        let v = s.y[t * O + o];
        for (let i = 0; i < I; i++) v -= p[o][i] * s.x[t * I + i];
        y[o] = v;
      }
      return y;
    },
    toAr(k, ridge, w, b) {
      const coef = w.map((v, o) => {
        const c = new Float64Array(k * I);
        for (let i = 0; i < I; i++) {
          let sum = 0;
          for (let lag = 1; lag < k; lag++) { c[lag * I + i] = v[(lag - 1) * I + i]; sum += v[(lag - 1) * I + i]; }
          c[i] = p[o][i] - sum;
        }
        return c;
      });
      return { lags: k, ridge, form: 'changes', inputs: I, coef, intercept: b };
    },
  };
}

function accumulate(M: Moments, z: Float64Array, y: Float64Array, D: number, O: number): void {
  M.m++;
  for (let a = 0; a < D; a++) {
    const za = z[a];
    M.zs[a] += za;
    const row = a * D;
    for (let b = a; b < D; b++) M.zz[row + b] += za * z[b];
    for (let o = 0; o < O; o++) M.zy[a * O + o] += za * y[o];
  }
  for (let o = 0; o < O; o++) M.ys[o] += y[o];
}

function addMoments(a: Moments, b: Moments): Moments {
  const sum = (p: Float64Array, q: Float64Array) => Float64Array.from(p, (v, i) => v + q[i]);
  return { m: a.m + b.m, zs: sum(a.zs, b.zs), ys: sum(a.ys, b.ys), zz: sum(a.zz, b.zz), zy: sum(a.zy, b.zy) };
}

/**
 * In place: the lower-triangular Cholesky factor L of the symmetric positive-definite n×n
 * matrix A (lower triangle read), A = L Lᵀ. False when A is not positive definite.
 */
export function cholesky(A: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j];
    for (let p = 0; p < j; p++) d -= A[j * n + p] * A[j * n + p];
    if (!(d > 1e-12 * Math.max(1, Math.abs(A[j * n + j])))) return false;
    const l = Math.sqrt(d);
    A[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let v = A[i * n + j];
      for (let p = 0; p < j; p++) v -= A[i * n + p] * A[j * n + p];
      A[i * n + j] = v / l;
    }
  }
  return true;
}

/** In place: solve L Lᵀ x = b for x (b overwritten), L from cholesky. */
export function choleskySolve(L: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    let v = b[i];
    for (let p = 0; p < i; p++) v -= L[i * n + p] * b[p];
    b[i] = v / L[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let v = b[i];
    for (let p = i + 1; p < n; p++) v -= L[p * n + i] * b[p];
    b[i] = v / L[i * n + i];
  }
  return b;
}

/**
 * Ridge solution on the first D features of M (Dall of them accumulated), as a LinearAr with
 * k lags; undefined when singular.
 */
function solve(M: Moments, Dall: number, f: Form, O: number, k: number, ridge: number): LinearAr | undefined {
  const D = f.width(k), m = M.m;
  // Centred second moments over m (the intercept absorbs the means), plus λ on the diagonal.
  const A = new Float64Array(D * D);
  for (let a = 0; a < D; a++) {
    for (let b = 0; b <= a; b++) {
      A[a * D + b] = (M.zz[b * Dall + a] - M.zs[a] * M.zs[b] / m) / m + (a === b ? ridge : 0);
    }
  }
  if (!cholesky(A, D)) return undefined;
  const w: Float64Array[] = [];
  const intercept = new Float64Array(O);
  for (let o = 0; o < O; o++) {
    const rhs = new Float64Array(D);
    for (let a = 0; a < D; a++) rhs[a] = (M.zy[a * O + o] - M.zs[a] * M.ys[o] / m) / m;
    const wo = choleskySolve(A, D, rhs);
    let b = M.ys[o] / m;
    for (let a = 0; a < D; a++) b -= wo[a] * M.zs[a] / m;
    w.push(wo);
    intercept[o] = b;
  }
  return f.toAr(k, ridge, w, intercept);
}

/** Normalised prediction of output o from the level features z of a step (k lags). */
function predictOne(ar: LinearAr, z: Float64Array, o: number): number {
  const w = ar.coef[o];
  let v = ar.intercept[o];
  for (let a = 0; a < w.length; a++) v += w[a] * z[a];
  return v;
}

function regressionOnly(ds: Dataset): void {
  if (ds.task !== 'regression') throw new TrainDataError('a linear autoregression forecasts regression targets; this dataset is a classification');
}

/** Fit on every training step (isTrainStep) of every device with k lags and ridge λ (the levels form). */
export function fitLinearAr(ds: Dataset, lags: number, ridge: number, form: ArForm = 'levels'): LinearAr {
  regressionOnly(ds);
  if (!(Number.isInteger(lags) && lags >= 1)) throw new TrainDataError(`linear AR: lags must be a positive integer, got ${lags}`);
  if (!(ridge >= 0)) throw new TrainDataError(`linear AR: ridge must be >= 0, got ${ridge}`);
  const I = ds.inputNames.length, O = ds.outputNames.length;
  const p = form === 'changes' ? persistenceSlopes(ds) : undefined;
  if (form === 'changes' && !p) throw new TrainDataError('linear AR: the changes form needs every target to be an input');
  const f = p ? changesForm(I, O, p) : levelsForm(I, O);
  const D = f.width(lags);
  const M = moments(D, O), z = new Float64Array(D), y = new Float64Array(O);
  for (const s of ds.series) {
    for (let t = 0; t < s.n; t++) if (isTrainStep(s, ds.shift, t)) accumulate(M, f.features(z, s, lags, t), f.target(y, s, t), D, O);
  }
  if (M.m === 0) throw new TrainDataError('linear AR: no training steps');
  const ar = solve(M, D, f, O, lags, ridge);
  if (!ar) throw new TrainDataError(`linear AR: the normal equations with ${lags} lag(s) and ridge ${ridge} are singular (collinear inputs); use a ridge > 0`);
  return ar;
}

/**
 * k, λ and the form chosen on the training split only: fitted on the first 80 % of each
 * device's training steps (targets before the holdout starts), scored by the normalised
 * squared error summed over outputs on the last 20 %, then refitted with the winner on every
 * training step. Levels before changes, smaller k and larger λ win ties. k is capped so that
 * the fit has at least 5 rows per coefficient.
 */
export function chooseLinearAr(ds: Dataset): LinearAr {
  regressionOnly(ds);
  const I = ds.inputNames.length, O = ds.outputNames.length, shift = ds.shift;
  // Per device: the time where its holdout starts (its last 20 % of training steps).
  const cuts = ds.series.map((s) => {
    const steps: number[] = [];
    for (let t = 0; t < s.n; t++) if (isTrainStep(s, shift, t)) steps.push(t);
    const hold = Math.floor(steps.length * INNER_HOLDOUT);
    return hold > 0 ? steps[steps.length - hold] : s.n;
  });
  let fitSteps = 0;
  ds.series.forEach((s, si) => { for (let t = 0; t + shift < cuts[si]; t++) if (isTrainStep(s, shift, t)) fitSteps++; });
  const grid = LAG_GRID.filter((k) => k === 1 || k * I * 5 <= fitSteps);
  const kmax = grid[grid.length - 1];
  const p = persistenceSlopes(ds);
  const forms = p ? [levelsForm(I, O), changesForm(I, O, p)] : [levelsForm(I, O)];
  const zl = new Float64Array(kmax * I), y = new Float64Array(O);
  let best: { ar: LinearAr; err: number; f: Form; whole: Moments; D: number } | undefined;
  for (const f of forms) {
    // Moments of the inner fit, and of the remaining training steps (together: all of them).
    const D = f.width(kmax);
    const inner = moments(D, O), rest = moments(D, O), z = new Float64Array(D);
    const held: { s: Series; t: number }[] = [];
    ds.series.forEach((s, si) => {
      for (let t = 0; t < s.n; t++) {
        if (!isTrainStep(s, shift, t)) continue;
        f.features(z, s, kmax, t);
        f.target(y, s, t);
        if (t + shift < cuts[si]) accumulate(inner, z, y, D, O);
        else {
          accumulate(rest, z, y, D, O);
          if (t >= cuts[si]) held.push({ s, t });
        }
      }
    });
    const whole = addMoments(inner, rest);
    if (inner.m > 0 && held.length > 0) {
      for (const k of grid) {
        for (let r = RIDGE_GRID.length - 1; r >= 0; r--) {
          const ar = solve(inner, D, f, O, k, RIDGE_GRID[r]);
          if (!ar) continue;
          let err = 0;
          for (const { s, t } of held) {
            levelsForm(I, O).features(zl, s, k, t);
            for (let o = 0; o < O; o++) { const e = predictOne(ar, zl, o) - s.y[t * O + o]; err += e * e; }
          }
          if (!best || err < best.err) best = { ar, err, f, whole, D };
        }
      }
    } else if (!best) best = { ar: { lags: 1, ridge: RIDGE_GRID[RIDGE_GRID.length - 1] } as LinearAr, err: Infinity, f, whole, D };
  }
  const { ar: choice, f, whole, D } = best!;
  const ar = solve(whole, D, f, O, choice.lags, choice.ridge);
  if (!ar) throw new TrainDataError(`linear AR: the normal equations with ${choice.lags} lag(s) are singular`);
  return ar;
}

/**
 * Forecasts for every step of s, de-normalised exactly as the trainer's seriesOutputs does
 * (f32(y' · std + mean); residual: plus the current reading), into out [n, O].
 */
export function linearArOutputs(ar: LinearAr, ds: Dataset, s: Series, out: Float32Array): Float32Array {
  const O = ar.coef.length, z = new Float64Array(ar.lags * ar.inputs), f = levelsForm(ar.inputs, O);
  for (let t = 0; t < s.n; t++) {
    f.features(z, s, ar.lags, t);
    for (let o = 0; o < O; o++) out[t * O + o] = predictOne(ar, z, o);
  }
  return denormaliseOutputs(ds, s, out);
}
