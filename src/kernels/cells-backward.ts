// Backward passes of the cell steps in cells.ts, one per forward step, over the values that
// forward step left behind (its outputs and the activated gates in `gates`).
//
// Conventions (as llm.c): output arguments first; every gradient is named d… and is
// ACCUMULATED with +=, so the caller zeroes what it wants fresh; `dx` may be null when the
// gradient of the input is not needed (the first layer). `dpre` is caller-owned scratch for
// the pre-activation gradients; nothing is allocated. Arrays may be Float32Array or
// Float64Array so the gradient checks can run the whole chain in float64.

/** The float arrays the backward kernels accept. */
export type FloatArray = Float32Array | Float64Array;

/** Float weights of a cell, as the backward pass reads them (f32 or f64; never int8). */
export interface CellParams {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly wIh: { readonly data: FloatArray }; // [G*H, I]
  readonly wHh: { readonly data: FloatArray }; // [G*H, H]
}

export interface RnnParams extends CellParams {
  readonly activation: 'tanh' | 'relu';
}

/** Gradient buffers of one cell's parameters, shaped like them. */
export interface CellGrads {
  readonly dWIh: FloatArray; // [G*H, I]
  readonly dWHh: FloatArray; // [G*H, H]
  readonly dBIh: FloatArray; // [G*H]
  readonly dBHh: FloatArray; // [G*H]
}

/**
 * For pre-activation gradients dpre [rows]: dW += dpre ⊗ v, db += dpre, and when dv is
 * given dv += Wᵀ dpre.  W, dW [rows, cols], v, dv [cols].
 */
export function linearBackward(
  dv: FloatArray | null, dW: FloatArray, db: FloatArray, w: FloatArray, dpre: FloatArray,
  v: FloatArray, rows: number, cols: number,
): void {
  for (let r = 0; r < rows; r++) {
    const d = dpre[r];
    db[r] += d;
    if (d === 0) continue; // relu / masked steps: common, and the row contributes nothing
    const o = r * cols;
    if (dv) {
      for (let j = 0; j < cols; j++) {
        dW[o + j] += d * v[j];
        dv[j] += w[o + j] * d;
      }
    } else {
      for (let j = 0; j < cols; j++) dW[o + j] += d * v[j];
    }
  }
}

/**
 * Backward of rnnStep.  dh [H]: gradient of the loss w.r.t. h' (its output); h [H]: h'.
 * Accumulates dx [I], dhPrev [H] and the parameter gradients.  dpre: scratch [H].
 */
export function rnnStepBackward(
  dx: FloatArray | null, dhPrev: FloatArray, g: CellGrads, dpre: FloatArray, w: RnnParams,
  dh: FloatArray, x: FloatArray, hPrev: FloatArray, h: FloatArray,
): void {
  const H = w.hiddenSize;
  if (w.activation === 'tanh') for (let j = 0; j < H; j++) dpre[j] = dh[j] * (1 - h[j] * h[j]);
  else for (let j = 0; j < H; j++) dpre[j] = h[j] > 0 ? dh[j] : 0;
  linearBackward(dx, g.dWIh, g.dBIh, w.wIh.data, dpre, x, H, w.inputSize);
  linearBackward(dhPrev, g.dWHh, g.dBHh, w.wHh.data, dpre, hPrev, H, H);
}

/**
 * Backward of lstmStep.  gates [4H]: σ(i), σ(f), tanh(g), σ(o) as lstmStep left them;
 * c [H]: c'; dh, dc [H]: gradients w.r.t. h' and c' (dc: from the next step only).
 * Accumulates dx [I], dhPrev [H], dcPrev [H] and the parameter gradients.  dpre: scratch [4H].
 */
export function lstmStepBackward(
  dx: FloatArray | null, dhPrev: FloatArray, dcPrev: FloatArray, g: CellGrads, dpre: FloatArray,
  w: CellParams, dh: FloatArray, dc: FloatArray, x: FloatArray, hPrev: FloatArray,
  cPrev: FloatArray, c: FloatArray, gates: FloatArray,
): void {
  const H = w.hiddenSize;
  for (let j = 0; j < H; j++) {
    const i = gates[j], f = gates[H + j], gg = gates[2 * H + j], o = gates[3 * H + j];
    const tc = Math.tanh(c[j]);
    const dcj = dc[j] + dh[j] * o * (1 - tc * tc); // h' = o tanh(c')
    dpre[j] = dcj * gg * i * (1 - i);
    dpre[H + j] = dcj * cPrev[j] * f * (1 - f);
    dpre[2 * H + j] = dcj * i * (1 - gg * gg);
    dpre[3 * H + j] = dh[j] * tc * o * (1 - o);
    dcPrev[j] += dcj * f;
  }
  linearBackward(dx, g.dWIh, g.dBIh, w.wIh.data, dpre, x, 4 * H, w.inputSize);
  linearBackward(dhPrev, g.dWHh, g.dBHh, w.wHh.data, dpre, hPrev, 4 * H, H);
}

/**
 * Backward of gruStep.  gates [3H]: r, z, n as gruStep left them; gh [3H]: wHh h + bHh.
 * dh [H]: gradient w.r.t. h'.  Accumulates dx [I], dhPrev [H] and the parameter gradients.
 * Scratch: dpre [3H] for the input side, dpreH [3H] for the recurrent side (they differ in
 * the n rows, where the reset gate scales the recurrent product).
 */
export function gruStepBackward(
  dx: FloatArray | null, dhPrev: FloatArray, g: CellGrads, dpre: FloatArray, dpreH: FloatArray,
  w: CellParams,
  dh: FloatArray, x: FloatArray, hPrev: FloatArray, gates: FloatArray, gh: FloatArray,
): void {
  const H = w.hiddenSize, H3 = 3 * H;
  for (let j = 0; j < H; j++) {
    const r = gates[j], z = gates[H + j], n = gates[2 * H + j];
    const d = dh[j];
    const dan = d * (1 - z) * (1 - n * n); // through n = tanh(a_n)
    const daz = d * (hPrev[j] - n) * z * (1 - z);
    const dar = dan * gh[2 * H + j] * r * (1 - r); // a_n = … + r (Un h + bHn)
    dpre[j] = dar;
    dpre[H + j] = daz;
    dpre[2 * H + j] = dan;
    dpreH[j] = dar;
    dpreH[H + j] = daz;
    dpreH[2 * H + j] = dan * r;
    dhPrev[j] += d * z; // h' = (1 - z) n + z h
  }
  linearBackward(dx, g.dWIh, g.dBIh, w.wIh.data, dpre, x, H3, w.inputSize);
  linearBackward(dhPrev, g.dWHh, g.dBHh, w.wHh.data, dpreH, hPrev, H3, H);
}
