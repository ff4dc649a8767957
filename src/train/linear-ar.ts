// PLACEHOLDER for branch `arinit` until branch `baselines` lands its linear-ar.ts (same
// contract, see the session brief): a ridge AR on the last k normalised inputs. Replaced
// wholesale by the `baselines` version at merge.
import { isTrainStep, type Dataset, type Series } from './dataset.js';

export interface LinearAr {
  readonly lags: number;
  readonly ridge: number;
  readonly inputs: number;
  /** [O][k*I]: coef[o][lag*I + i] multiplies x'[t - lag, i]. */
  readonly coef: readonly Float64Array[];
  readonly intercept: Float64Array;
}

function features(s: Series, I: number, k: number, t: number, f: Float64Array): void {
  for (let j = 0; j < k; j++) for (let i = 0; i < I; i++) f[j * I + i] = t - j >= 0 ? s.x[(t - j) * I + i] : 0;
}

function fitOn(ds: Dataset, lags: number, ridge: number, use: (s: Series, t: number) => boolean): LinearAr {
  const I = ds.inputNames.length, O = ds.outputNames.length, P = lags * I + 1;
  const A = new Float64Array(P * P), B = new Float64Array(P * O), f = new Float64Array(P);
  let n = 0;
  for (const s of ds.series) {
    for (let t = 0; t < s.n; t++) {
      if (!use(s, t)) continue;
      n++;
      features(s, I, lags, t, f);
      f[P - 1] = 1;
      for (let a = 0; a < P; a++) {
        for (let b = 0; b <= a; b++) A[a * P + b] += f[a] * f[b];
        for (let o = 0; o < O; o++) B[a * O + o] += f[a] * s.y[t * O + o];
      }
    }
  }
  for (let a = 0; a < P; a++) for (let b = 0; b < a; b++) A[b * P + a] = A[a * P + b];
  for (let a = 0; a < P - 1; a++) A[a * P + a] += ridge * n;
  A[(P - 1) * P + P - 1] += 1e-9 * n;
  // Cholesky A = L Lᵀ, then two triangular solves per output.
  const L = new Float64Array(P * P);
  for (let a = 0; a < P; a++) {
    for (let b = 0; b <= a; b++) {
      let v = A[a * P + b];
      for (let c = 0; c < b; c++) v -= L[a * P + c] * L[b * P + c];
      L[a * P + b] = a === b ? Math.sqrt(Math.max(v, 1e-300)) : v / L[b * P + b];
    }
  }
  const coef: Float64Array[] = [], intercept = new Float64Array(O), z = new Float64Array(P);
  for (let o = 0; o < O; o++) {
    for (let a = 0; a < P; a++) {
      let v = B[a * O + o];
      for (let c = 0; c < a; c++) v -= L[a * P + c] * z[c];
      z[a] = v / L[a * P + a];
    }
    for (let a = P - 1; a >= 0; a--) {
      let v = z[a];
      for (let c = a + 1; c < P; c++) v -= L[c * P + a] * z[c];
      z[a] = v / L[a * P + a];
    }
    coef.push(Float64Array.from(z.subarray(0, P - 1)));
    intercept[o] = z[P - 1];
  }
  return { lags, ridge, inputs: I, coef, intercept };
}

function predictNorm(ar: LinearAr, s: Series, t: number, f: Float64Array, o: number): number {
  let v = ar.intercept[o];
  const c = ar.coef[o];
  for (let p = 0; p < c.length; p++) v += c[p] * f[p];
  return v;
}

export function fitLinearAr(ds: Dataset, lags: number, ridge: number): LinearAr {
  return fitOn(ds, lags, ridge, (s, t) => isTrainStep(s, ds.shift, t));
}

export function chooseLinearAr(ds: Dataset): LinearAr {
  const I = ds.inputNames.length, O = ds.outputNames.length;
  const cut = (s: Series) => Math.floor(s.trainEnd * 0.8);
  let best: { lags: number; ridge: number; err: number } | undefined;
  for (const lags of [1, 2, 3, 6, 12, 24]) {
    for (const ridge of [1e-4, 1e-2, 1]) {
      const ar = fitOn(ds, lags, ridge, (s, t) => t + ds.shift < cut(s));
      const f = new Float64Array(lags * I);
      let err = 0;
      for (const s of ds.series) {
        for (let t = cut(s); t < s.n; t++) {
          if (!isTrainStep(s, ds.shift, t)) continue;
          features(s, I, lags, t, f);
          for (let o = 0; o < O; o++) { const e = predictNorm(ar, s, t, f, o) - s.y[t * O + o]; err += e * e; }
        }
      }
      if (!best || err < best.err) best = { lags, ridge, err };
    }
  }
  return fitLinearAr(ds, best!.lags, best!.ridge);
}

export function linearArOutputs(ar: LinearAr, ds: Dataset, s: Series, out: Float32Array): Float32Array {
  const I = ds.inputNames.length, O = ds.outputNames.length, f = new Float64Array(ar.lags * I);
  for (let t = 0; t < s.n; t++) {
    features(s, I, ar.lags, t, f);
    for (let o = 0; o < O; o++) {
      let v = Math.fround(predictNorm(ar, s, t, f, o) * ds.targetStd![o] + ds.targetMean![o]);
      if (ds.residualInputs) v = Math.fround(s.xRaw[t * I + ds.residualInputs[o]] + v);
      out[t * O + o] = v;
    }
  }
  return out;
}
