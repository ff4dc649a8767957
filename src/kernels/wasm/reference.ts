// TypeScript mirrors of the wasm kernels (kernels.wat), one IEEE f32 operation at a time
// (Math.fround after each), so the tests can hold every kernel to them bit for bit. The
// float64 kernels in ../matvec.ts and ../cells.ts stay the numerical reference the mirrors
// are themselves checked against (to 1e-6 relative).
import { roundHalfEven } from '../matvec-q8-act.js';

const f = Math.fround;
const LOG2E = f(1.44269504088896341);
const LN2_HI = f(0.693359375);
const LN2_LO = f(-2.12194440e-4);
// e^r ~ 1 + r + r^2 (c2 + c3 r + c4 r^2 + c5 r^3) on |r| <= ln2/2: a minimax fit of relative error
// (1.05e-7; Cephes' degree-7 form costs 5 more instructions an exp in the gate loops). [c5, c4, c3, c2]
const C = [8.3125038072e-03, 4.1890338063e-02, 1.6667115688e-01, 4.9999231100e-01].map(f);
// tanh: numerator a1, a3, ..., a13 and denominator b0, b2, b4, b6 (Eigen's float tanh).
const TA = [4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05, 5.12229709037114e-08,
  -8.60467152213735e-11, 2.00018790482477e-13, -2.76076847742355e-16].map(f);
const TB = [4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04, 1.19825839466702e-06].map(f);

/** exp(x) as the EXP macro computes it (Cephes expf's range reduction by ln2, a degree-5 polynomial, 2^k). */
export function expF32(x: number): number {
  x = Math.max(Math.min(f(x), 88), -87);
  const k = roundHalfEven(f(x * LOG2E));
  const r = f(f(x - f(k * LN2_HI)) - f(k * LN2_LO));
  // Estrin's form, as the macro: q = (c5 r + c4) r^2 + (c3 r + c2); p = q r^2 + r + 1
  const r2 = f(r * r);
  const q = f(f(f(f(C[0] * r) + C[1]) * r2) + f(f(C[2] * r) + C[3]));
  const p = f(f(f(q * r2) + r) + 1);
  return f(p * 2 ** k);
}

export function sigmoidF32(x: number): number {
  return f(1 / f(1 + expF32(-x)));
}

/**
 * tanh(x) as the TANH macro: x clamped to ±9, x p(x²) / q(x²) (odd degree 13 over even degree 6,
 * Eigen's float tanh; within 4e-7 relative for |x| >= 1e-36, tiny x included: there it is
 * x (1 - 1.3e-7), so the macro skips Eigen's x-below-0.0004 select; below 1e-36 the numerator is
 * subnormal, absolute error < 2e-43). (It replaced Cephes' two-branch tanhf, exp and all,
 * which cost twice as much in the gate loops.)
 */
export function tanhF32(x: number): number {
  x = f(x);
  const a = Math.max(Math.min(x, 9), -9);
  const z = f(a * a), z2 = f(z * z), z4 = f(z2 * z2);
  // Estrin's form, as the macro: p = a ((a13 z^2 + (a11 z + a9)) z^4 + ((a7 z + a5) z^2 + (a3 z + a1)))
  const e0 = f(f(TA[1] * z) + TA[0]), e1 = f(f(TA[3] * z) + TA[2]), e2 = f(f(TA[5] * z) + TA[4]);
  let p = f(f(TA[6] * z2) + e2);
  p = f(f(p * z4) + f(f(e1 * z2) + e0));
  p = f(p * a);
  // q = (b6 z + b4) z^2 + (b2 z + b0)
  const q = f(f(f(f(TB[3] * z) + TB[2]) * z2) + f(f(TB[1] * z) + TB[0]));
  return f(p / q);
}

/** y = W x accumulated in f32, column order (mv_f32 / mm_f32).  W [rows, cols] row-major. */
export function matvecF32Seq(y: Float32Array, w: Float32Array, x: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s = f(s + f(w[r * cols + j] * x[j]));
    y[r] = s;
  }
}

const bits = new Float32Array(1);
const bitsI = new Int32Array(bits.buffer);
/** The f32 next to r (an f32, finite) away from zero (up: toward +inf) or toward it. */
function nextF32(r: number, up: boolean): number {
  if (r === 0) return up ? 2 ** -149 : -(2 ** -149);
  bits[0] = r;
  bitsI[0] += (r > 0) === up ? 1 : -1;
  return bits[0];
}

/**
 * a b + c rounded once to f32 (a fused multiply-add; a, b, c f32): what f32x4.relaxed_madd
 * computes on a CPU with FMA. a b is exact in float64 (24 + 24 bits); the sum's rounding error
 * e is exact by TwoSum, and it breaks the tie when the float64 sum falls exactly halfway
 * between two f32 (the only case where rounding twice differs from rounding once).
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b, s = p + c;
  const bb = s - p, e = (p - (s - bb)) + (c - bb);
  const r = f(s);
  if (e === 0 || r === s || !Number.isFinite(r)) return r;
  const other = nextF32(r, s > r);
  if (s !== (r + other) / 2) return r;
  return (e > 0) === (other > r) ? other : r;
}

/** y = W x with fused multiply-adds in column order (the relaxed module's mv_f32 / mm_f32 on an FMA CPU). */
export function matvecF32SeqFused(y: Float32Array, w: Float32Array, x: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s = fmaF32(w[r * cols + j], x[j], s);
    y[r] = s;
  }
}

/** Gate pre-activation: (Wx + bI) + (Uh + bH). */
export function preF32(gx: number, bi: number, gh: number, bh: number): number {
  return f(f(gx + bi) + f(gh + bh));
}

/** LSTM cell on pre-activations: returns c' and writes h' to out[0]. */
export function lstmCellF32(pi: number, pf: number, pg: number, po: number, c: number, out: Float32Array): number {
  const cn = f(f(sigmoidF32(pf) * c) + f(sigmoidF32(pi) * tanhF32(pg)));
  out[0] = f(sigmoidF32(po) * tanhF32(cn));
  return cn;
}

/** GRU cell: pr, pz pre-activations; xn = Wn x + bIn, hn = Un h + bHn. Returns h'. */
export function gruCellF32(pr: number, pz: number, xn: number, hn: number, h: number): number {
  const z = sigmoidF32(pz);
  const n = tanhF32(f(xn + f(sigmoidF32(pr) * hn)));
  return f(f(f(1 - z) * n) + f(z * h));
}

export function rnnCellF32(p: number, relu: boolean): number {
  return relu ? (p > 0 ? p : 0) : tanhF32(p);
}

/** affine_out, one output: std · y + mean in float64, rounded once to f32 (runtime/output-stage.ts's arithmetic). */
export function affineOutF32(y: number, std: number, mean: number): number {
  return f(y * std + mean);
}
