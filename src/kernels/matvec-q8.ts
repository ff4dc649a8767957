// int8 matrix-vector products, symmetric per output row: W[r, c] = q[r, c] * scale[r].
// Output argument first. x stays float: the weights are what a small device pays for in
// memory and flash, and reading 1 byte per weight instead of 4 is where the JS int8 path
// wins. The fast kernel reads the weights four at a time as little-endian int32 words and
// splits them with shifts: a quarter of the typed-array loads (each with its bounds
// check) of a float32 row, and a 4x smaller working set in cache.
//
// Every row is one float64 sum of q[r, j] * x[j] in column order, scaled once at the end.
// The fast kernels keep that order per row, so they equal their `Ref` twins bit for bit
// (test/quantize/matvec-q8.test.ts holds them together).

// The reference for y = (Q x) * scale + b lives beside the float kernels (matvec.ts).
export { matvecBiasQ8Ref } from './matvec.js';

/** Reference: y += (Q x) * scale + b. */
export function matvecBiasAddQ8Ref(
  y: Float32Array, q: Int8Array, scale: Float32Array, x: Float32Array, b: Float32Array,
  rows: number, cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += q[r * cols + j] * x[j];
    y[r] += s * scale[r] + b[r];
  }
}

/** y = (Q x) * scale + b, through the fastest kernel that fits Q. */
export function matvecBiasQ8(
  y: Float32Array, q: Int8Array, scale: Float32Array, x: Float32Array, b: Float32Array,
  rows: number, cols: number,
): void {
  const words = q8Words(q, cols);
  if (words) q8WordsKernel(y, words, scale, x, b, rows, cols, false);
  else q8BytesKernel(y, q, scale, x, b, rows, cols, false);
}

/** y += (Q x) * scale + b, through the fastest kernel that fits Q. */
export function matvecBiasAddQ8(
  y: Float32Array, q: Int8Array, scale: Float32Array, x: Float32Array, b: Float32Array,
  rows: number, cols: number,
): void {
  const words = q8Words(q, cols);
  if (words) q8WordsKernel(y, words, scale, x, b, rows, cols, true);
  else q8BytesKernel(y, q, scale, x, b, rows, cols, true);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
// One int32 view per weight matrix, made on its first product and kept as long as the
// matrix lives, so stepping allocates nothing after the first step.
const wordViews = new WeakMap<Int8Array, Int32Array>();

/**
 * Q as int32 words (4 weights each, little-endian), or null when the word kernel cannot
 * read it: rows must start on a word (cols % 4 == 0) and so must the data.
 */
export function q8Words(q: Int8Array, cols: number): Int32Array | null {
  if (!LITTLE_ENDIAN || (cols & 3) !== 0 || (q.byteOffset & 3) !== 0 || (q.length & 3) !== 0) return null;
  let w = wordViews.get(q);
  if (!w) wordViews.set(q, (w = new Int32Array(q.buffer, q.byteOffset, q.length >> 2)));
  return w;
}

/**
 * Four rows per pass over int32 words, four columns per word:  y (=|+=) (Q x) * scale + b.
 * words [rows, cols / 4] (cols % 4 == 0), scale [rows], x [cols], b [rows] -> y [rows].
 * `(w << 24) >> 24` sign-extends byte 0 (column j), `w >> 24` is byte 3 (column j + 3).
 */
export function q8WordsKernel(
  y: Float32Array, words: Int32Array, scale: Float32Array, x: Float32Array, b: Float32Array,
  rows: number, cols: number, add: boolean,
): void {
  const wpr = cols >> 2;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const o0 = r * wpr, o1 = o0 + wpr, o2 = o1 + wpr, o3 = o2 + wpr;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let k = 0, j = 0; k < wpr; k++, j += 4) {
      const x0 = x[j], x1 = x[j + 1], x2 = x[j + 2], x3 = x[j + 3];
      const a = words[o0 + k], c = words[o1 + k], d = words[o2 + k], e = words[o3 + k];
      s0 += ((a << 24) >> 24) * x0; s0 += ((a << 16) >> 24) * x1; s0 += ((a << 8) >> 24) * x2; s0 += (a >> 24) * x3;
      s1 += ((c << 24) >> 24) * x0; s1 += ((c << 16) >> 24) * x1; s1 += ((c << 8) >> 24) * x2; s1 += (c >> 24) * x3;
      s2 += ((d << 24) >> 24) * x0; s2 += ((d << 16) >> 24) * x1; s2 += ((d << 8) >> 24) * x2; s2 += (d >> 24) * x3;
      s3 += ((e << 24) >> 24) * x0; s3 += ((e << 16) >> 24) * x1; s3 += ((e << 8) >> 24) * x2; s3 += (e >> 24) * x3;
    }
    if (add) {
      y[r] += s0 * scale[r] + b[r];
      y[r + 1] += s1 * scale[r + 1] + b[r + 1];
      y[r + 2] += s2 * scale[r + 2] + b[r + 2];
      y[r + 3] += s3 * scale[r + 3] + b[r + 3];
    } else {
      y[r] = s0 * scale[r] + b[r];
      y[r + 1] = s1 * scale[r + 1] + b[r + 1];
      y[r + 2] = s2 * scale[r + 2] + b[r + 2];
      y[r + 3] = s3 * scale[r + 3] + b[r + 3];
    }
  }
  for (; r < rows; r++) {
    const o = r * wpr;
    let s = 0;
    for (let k = 0, j = 0; k < wpr; k++, j += 4) {
      const a = words[o + k];
      s += ((a << 24) >> 24) * x[j]; s += ((a << 16) >> 24) * x[j + 1]; s += ((a << 8) >> 24) * x[j + 2]; s += (a >> 24) * x[j + 3];
    }
    if (add) y[r] += s * scale[r] + b[r];
    else y[r] = s * scale[r] + b[r];
  }
}

/**
 * Four rows per pass over single bytes, for any cols:  y (=|+=) (Q x) * scale + b.
 * Q [rows, cols] int8, scale [rows], x [cols], b [rows] -> y [rows].
 */
export function q8BytesKernel(
  y: Float32Array, q: Int8Array, scale: Float32Array, x: Float32Array, b: Float32Array,
  rows: number, cols: number, add: boolean,
): void {
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const o0 = r * cols, o1 = o0 + cols, o2 = o1 + cols, o3 = o2 + cols;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let j = 0; j < cols; j++) {
      const xj = x[j];
      s0 += q[o0 + j] * xj;
      s1 += q[o1 + j] * xj;
      s2 += q[o2 + j] * xj;
      s3 += q[o3 + j] * xj;
    }
    if (add) {
      y[r] += s0 * scale[r] + b[r];
      y[r + 1] += s1 * scale[r + 1] + b[r + 1];
      y[r + 2] += s2 * scale[r + 2] + b[r + 2];
      y[r + 3] += s3 * scale[r + 3] + b[r + 3];
    } else {
      y[r] = s0 * scale[r] + b[r];
      y[r + 1] = s1 * scale[r + 1] + b[r + 1];
      y[r + 2] = s2 * scale[r + 2] + b[r + 2];
      y[r + 3] = s3 * scale[r + 3] + b[r + 3];
    }
  }
  for (; r < rows; r++) {
    const o = r * cols;
    let s = 0;
    for (let j = 0; j < cols; j++) s += q[o + j] * x[j];
    if (add) y[r] += s * scale[r] + b[r];
    else y[r] = s * scale[r] + b[r];
  }
}
