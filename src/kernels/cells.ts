// One time step of each recurrent cell, PyTorch layout and gate order.
//
// Every step reads (x, hPrev[, cPrev]) and writes (hOut[, cOut]); the outputs may alias
// the inputs (the runtime steps in place), or be separate buffers (the trainer keeps every
// step). `gates` is caller-owned scratch; on return it holds the activated gate values
// the backward pass needs, in the layout documented on each step.
import { sigmoid } from './activations.js';
import { matvecBias, matvecBiasAdd, type BiasVector, type WeightMatrix } from './weights.js';

export interface CellWeights {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly wIh: WeightMatrix; // [G*H, I]
  readonly wHh: WeightMatrix; // [G*H, H]
  readonly bIh: BiasVector; // [G*H]
  readonly bHh: BiasVector; // [G*H]
}

export interface RnnWeights extends CellWeights {
  readonly activation: 'tanh' | 'relu';
}

/** Scratch floats each cell needs in `gates`. */
export const GATE_SCRATCH = {
  rnn: (h: number) => h,
  lstm: (h: number) => 4 * h,
  gru: (h: number) => 3 * h, // plus a second [3H] buffer, `gh`
} as const;

/**
 * h' = act(wIh x + bIh + wHh h + bHh).
 * gates [H]: the pre-activation sum (scratch only; h' itself suffices for the backward pass).
 */
export function rnnStep(
  hOut: Float32Array, gates: Float32Array, w: RnnWeights, x: Float32Array, hPrev: Float32Array,
): void {
  const H = w.hiddenSize;
  matvecBias(gates, w.wIh, x, w.bIh.data, H, w.inputSize);
  matvecBiasAdd(gates, w.wHh, hPrev, w.bHh.data, H, H);
  if (w.activation === 'tanh') for (let j = 0; j < H; j++) hOut[j] = Math.tanh(gates[j]);
  else for (let j = 0; j < H; j++) hOut[j] = gates[j] > 0 ? gates[j] : 0;
}

/**
 * Gates i, f, g, o (PyTorch order), each H rows of wIh/wHh:
 *   c' = σ(f) c + σ(i) tanh(g);  h' = σ(o) tanh(c')
 * gates [4H] on return: σ(i), σ(f), tanh(g), σ(o).
 */
export function lstmStep(
  hOut: Float32Array, cOut: Float32Array, gates: Float32Array, w: CellWeights,
  x: Float32Array, hPrev: Float32Array, cPrev: Float32Array,
): void {
  const H = w.hiddenSize;
  matvecBias(gates, w.wIh, x, w.bIh.data, 4 * H, w.inputSize);
  matvecBiasAdd(gates, w.wHh, hPrev, w.bHh.data, 4 * H, H);
  for (let j = 0; j < H; j++) {
    const i = sigmoid(gates[j]);
    const f = sigmoid(gates[H + j]);
    const g = Math.tanh(gates[2 * H + j]);
    const o = sigmoid(gates[3 * H + j]);
    gates[j] = i;
    gates[H + j] = f;
    gates[2 * H + j] = g;
    gates[3 * H + j] = o;
    const c = f * cPrev[j] + i * g;
    cOut[j] = c;
    hOut[j] = o * Math.tanh(c);
  }
}

/**
 * Gates r, z, n (PyTorch order; the reset gate applies after the recurrent product):
 *   r = σ(Wr x + bIr + Ur h + bHr),  z = σ(Wz x + bIz + Uz h + bHz)
 *   n = tanh(Wn x + bIn + r ⊙ (Un h + bHn));  h' = (1 - z) ⊙ n + z ⊙ h
 * On return gates [3H] holds r, z, n and gh [3H] holds wHh h + bHh, whose n part
 * (Un h + bHn, at [2H, 3H)) the backward pass needs.
 */
export function gruStep(
  hOut: Float32Array, gates: Float32Array, gh: Float32Array, w: CellWeights,
  x: Float32Array, hPrev: Float32Array,
): void {
  const H = w.hiddenSize;
  matvecBias(gates, w.wIh, x, w.bIh.data, 3 * H, w.inputSize);
  matvecBias(gh, w.wHh, hPrev, w.bHh.data, 3 * H, H);
  for (let j = 0; j < H; j++) {
    const r = sigmoid(gates[j] + gh[j]);
    const z = sigmoid(gates[H + j] + gh[H + j]);
    const n = Math.tanh(gates[2 * H + j] + r * gh[2 * H + j]);
    gates[j] = r;
    gates[H + j] = z;
    gates[2 * H + j] = n;
    hOut[j] = (1 - z) * n + z * hPrev[j];
  }
}
