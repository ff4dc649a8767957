// Matrix-vector products on row-major typed arrays. Output argument first; nothing is
// allocated. Each row is accumulated in one float64 sum in column order, so the fast
// kernel and its `Ref` twin agree bit for bit, and so does any batched caller that keeps
// the per-row order.

/** y = W x + b.  W [rows, cols] row-major, x [cols], b [rows] -> y [rows]. */
export function matvecBiasF32(
  y: Float32Array, w: Float32Array, x: Float32Array, b: Float32Array, rows: number, cols: number,
): void {
  let r = 0;
  // Four rows per pass: four independent sums keep the FPU busy and x is read once per pass.
  for (; r + 4 <= rows; r += 4) {
    const o0 = r * cols, o1 = o0 + cols, o2 = o1 + cols, o3 = o2 + cols;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < cols; j++) {
      const xj = x[j];
      s0 += w[o0 + j] * xj;
      s1 += w[o1 + j] * xj;
      s2 += w[o2 + j] * xj;
      s3 += w[o3 + j] * xj;
    }
    y[r] = s0 + b[r];
    y[r + 1] = s1 + b[r + 1];
    y[r + 2] = s2 + b[r + 2];
    y[r + 3] = s3 + b[r + 3];
  }
  for (; r < rows; r++) {
    const o = r * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += w[o + j] * x[j];
    y[r] = s + b[r];
  }
}

/** y += W x + b.  W [rows, cols], x [cols], b [rows] -> y [rows]. */
export function matvecBiasAddF32(
  y: Float32Array, w: Float32Array, x: Float32Array, b: Float32Array, rows: number, cols: number,
): void {
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const o0 = r * cols, o1 = o0 + cols, o2 = o1 + cols, o3 = o2 + cols;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < cols; j++) {
      const xj = x[j];
      s0 += w[o0 + j] * xj;
      s1 += w[o1 + j] * xj;
      s2 += w[o2 + j] * xj;
      s3 += w[o3 + j] * xj;
    }
    y[r] += s0 + b[r];
    y[r + 1] += s1 + b[r + 1];
    y[r + 2] += s2 + b[r + 2];
    y[r + 3] += s3 + b[r + 3];
  }
  for (; r < rows; r++) {
    const o = r * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += w[o + j] * x[j];
    y[r] += s + b[r];
  }
}

/** Reference for `matvecBiasF32`: the plain loop that defines its result. */
export function matvecBiasF32Ref(
  y: Float32Array, w: Float32Array, x: Float32Array, b: Float32Array, rows: number, cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += w[r * cols + j] * x[j];
    y[r] = s + b[r];
  }
}

/**
 * y = (Q x) * scale + b, int8 weights with one scale per output row (w = q * scale[row]).
 * Q [rows, cols] int8, scale [rows], x [cols], b [rows] -> y [rows].
 */
export function matvecBiasQ8Ref(
  y: Float32Array, q: Int8Array, scale: Float32Array, x: Float32Array, b: Float32Array,
  rows: number, cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += q[r * cols + j] * x[j];
    y[r] = s * scale[r] + b[r];
  }
}
