// Weight layout for the wasm kernels, done once at load (see kernels.wat).
//
// Rows of a [G*H, cols] gate matrix (PyTorch order: gate g of unit j is row g*H + j) are
// permuted so that one 4-row panel is one gate of 4 consecutive units and a unit group's G
// panels follow each other: panel row (u*G + g)*4 + k holds gate g of unit 4u + k. Hidden
// sizes are padded to a multiple of 4 units and panels to a multiple of 4 (superpanels of
// 16 rows), with zero weights and biases, so padded units stay exactly 0.

export interface GateShape {
  readonly gates: number; // G
  readonly hidden: number; // H
}

export const ceilTo = (n: number, m: number): number => Math.ceil(n / m) * m;

/** Units after padding (a multiple of 4). */
export const paddedUnits = (H: number): number => ceilTo(H, 4);
/** Superpanels (16 rows each) holding G gates of the padded units. */
export const superpanels = (s: GateShape): number => Math.ceil((s.gates * paddedUnits(s.hidden)) / 16);

/** Panel row of source row (gate g, unit j). */
export function panelRow(G: number, g: number, j: number): number {
  return ((j >> 2) * G + g) * 4 + (j & 3);
}

/** f32 weights [G*H, cols] row-major -> [sp][colsOut][16]; columns past `cols` are zero. */
export function layoutF32(dst: Float32Array, src: Float32Array, s: GateShape, cols: number, colsOut: number): void {
  dst.fill(0);
  const { gates: G, hidden: H } = s;
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < H; j++) {
      const pr = panelRow(G, g, j);
      const base = (pr >> 4) * colsOut * 16 + (pr & 15);
      const srow = (g * H + j) * cols;
      for (let c = 0; c < cols; c++) dst[base + c * 16] = src[srow + c];
    }
  }
}

/**
 * int8 weights [G*H, cols] -> [sp][colPairs][16][2], widened to i16 (a row's column pair is
 * one 32-bit word the kernels splat or load without widening); columns past `cols` are zero.
 */
export function layoutQ8(dst: Int16Array, src: Int8Array, s: GateShape, cols: number, colPairs: number): void {
  dst.fill(0);
  const { gates: G, hidden: H } = s;
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < H; j++) {
      const pr = panelRow(G, g, j);
      const base = (pr >> 4) * colPairs * 32 + (pr & 15) * 2;
      const srow = (g * H + j) * cols;
      for (let c = 0; c < cols; c++) dst[base + (c >> 1) * 32 + (c & 1)] = src[srow + c];
    }
  }
}

/** A per-row vector [G*H] (bias, int8 scale) -> panel order [sp*16], zero padded. */
export function layoutRows(dst: Float32Array, src: Float32Array, s: GateShape): void {
  dst.fill(0);
  const { gates: G, hidden: H } = s;
  for (let g = 0; g < G; g++) for (let j = 0; j < H; j++) dst[panelRow(G, g, j)] = src[g * H + j];
}
