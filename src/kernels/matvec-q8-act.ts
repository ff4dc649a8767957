// int8 activations: the reference that defines the wasm int8 path's result bit for bit.
//
// Per call, the input vector is quantized symmetrically with one scale (dynamic, no
// calibration): m = max|x|, q = clamp(roundHalfEven(x * (127 / m)), -127, 127), sx = m / 127
// (m = 0 gives q = 0 and sx = 0). The product is then an exact integer dot product against
// the int8 weights, scaled once per row: y[r] = f32(Σ q_w q_x) * f32(scale[r] * sx).
// Every float operation is one IEEE f32 operation (Math.fround after each), in the order the
// kernel performs it, so the wasm kernel equals this reference exactly.

const f = Math.fround;

/** Round to nearest, ties to even (WebAssembly's f32.nearest). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v); // ties toward +inf
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** q[0..n) = quantized x[0..n); returns the scale sx (x ≈ q * sx). */
export function quantizeActRef(q: Int16Array | Int8Array, x: Float32Array, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(x[i]);
    if (a > m) m = a;
  }
  if (m === 0) {
    q.fill(0, 0, n);
    return 0;
  }
  const inv = f(127 / m);
  for (let i = 0; i < n; i++) {
    const v = roundHalfEven(f(x[i] * inv));
    q[i] = v > 127 ? 127 : v < -127 ? -127 : v;
  }
  return f(m / 127);
}

/**
 * y[r] = f32(Σ_j Q[r, j] xq[j]) * f32(scale[r] * sx).
 * Q [rows, cols] int8 row-major, xq [cols] quantized activations, scale [rows] -> y [rows].
 */
export function matvecQ8ActRef(
  y: Float32Array, q: Int8Array, scale: Float32Array, xq: Int16Array | Int8Array, sx: number,
  rows: number, cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    let dot = 0; // exact: |dot| <= 127 * 127 * cols < 2^53
    for (let j = 0; j < cols; j++) dot += q[r * cols + j] * xq[j];
    y[r] = f(f(dot) * f(scale[r] * sx));
  }
}
