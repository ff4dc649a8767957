// createWindowSession(model): the Session of a windowed model (issue 19). A device's
// StreamState holds a ring of its last W readings instead of a recurrent state: each
// reading is pushed into the ring, and when it ends a window (the ring has just filled,
// then every `hop` readings) one forward pass over the window (window-forward.ts) gives the
// result. The ring holds raw readings, normalised at each pass, so a model swap that keeps
// the states (same window and inputs) needs no re-normalising. Per reading a push copies I
// floats; a pass allocates nothing.
//
// State buffer (float32): ring [W, I] | seq high [W] | seq low [W] | next row, filled, since.
// A reading's seq is kept as two float32-exact parts (seq = high · 2^24 + low; a seq at or
// past 2^48, or none, is kept as unknown), so the window's first seq survives checkpoints.
import type { ModelPlan, WindowPlan } from '../model/plan.js';
import type { Model } from '../model/types.js';
import { outputStage } from './output-stage.js';
import type { Session } from './session.js';
import type { StreamState } from './stream-state.js';
import { createJsWindowForward, type WindowForward } from './window-forward.js';
import { createWasmWindowForward } from './window-forward-wasm.js';
import { instantiateKernels, type WasmKernels } from '../kernels/wasm/kernels.js';

const SEQ_SPLIT = 2 ** 24;
const SEQ_LIMIT = 2 ** 48;

/** What a windowed session does per reading, besides the Session contract. */
export interface WindowStepping {
  readonly size: number;
  readonly hop: number;
  /**
   * Push reading x (raw, in the model's input order) with its seq into the state's ring.
   * Returns true when it ends a window; the window's result y [O] is then written to `out`.
   */
  push(state: StreamState, x: ArrayLike<number>, seq: number | undefined, out: Float32Array): boolean;
  /** The seq of the oldest reading in the ring (the first of the window just ended); undefined if unknown. */
  firstSeq(state: StreamState): number | undefined;
  /** Readings in the ring (0..W). */
  filled(state: StreamState): number;
}

export interface WindowSession extends Session {
  readonly window: WindowStepping;
}

export function isWindowSession(s: Session): s is WindowSession {
  return (s as Partial<WindowSession>).window !== undefined;
}

/** `wasm`: the kernels instance for the wasm path (the session's chosen module variant). */
export function createWindowSession(model: Model, plan: ModelPlan, kernels: 'js' | 'wasm', wasm: () => WasmKernels = () => instantiateKernels()): WindowSession {
  const win: WindowPlan | null = plan.window;
  if (!win) throw new Error(`model ${model.name} has no window`);
  const { size: W, hop } = win;
  const I = plan.inputSize, O = plan.outputSize;
  const pass: WindowForward = kernels === 'wasm' ? createWasmWindowForward(plan, wasm()) : createJsWindowForward(plan);
  const writeOutput = outputStage(model, plan);
  const mean = model.inputs.mean.data, std = model.inputs.std.data;
  const HI = W * I, LO = HI + W, META = LO + W; // offsets in the state buffer
  const stateSize = META + 3;
  const none = new Float32Array(0);
  const xs = pass.xs;

  function push(state: StreamState, x: ArrayLike<number>, seq: number | undefined, out: Float32Array): boolean {
    const b = state.buffer;
    const row = b[META], filled = b[META + 1];
    for (let i = 0; i < I; i++) b[row * I + i] = x[i];
    const known = seq !== undefined && seq < SEQ_LIMIT;
    b[HI + row] = known ? Math.floor(seq / SEQ_SPLIT) : -1;
    b[LO + row] = known ? seq % SEQ_SPLIT : 0;
    b[META] = (row + 1) % W;
    if (filled + 1 < W) {
      b[META + 1] = filled + 1;
      return false;
    }
    let due = filled < W; // the ring has just filled: the first window
    if (!due) due = ++b[META + 2] >= hop;
    if (!due) return false;
    b[META + 1] = W;
    b[META + 2] = 0;
    // Oldest first: the next row to be written is the oldest reading.
    const start = b[META];
    for (let t = 0; t < W; t++) {
      const r = ((start + t) % W) * I;
      for (let i = 0; i < I; i++) xs[t * I + i] = (b[r + i] - mean[i]) / std[i];
    }
    writeOutput(pass.forward(), out, 0, x, 0);
    return true;
  }

  function firstSeq(state: StreamState): number | undefined {
    const b = state.buffer, row = b[META];
    return b[HI + row] < 0 ? undefined : b[HI + row] * SEQ_SPLIT + b[LO + row];
  }

  const perReading = (): never => {
    throw new Error(`model ${model.name} is windowed: readings go through session.window.push, not step`);
  };
  return {
    model, plan, inputSize: I, outputSize: O, stateSize,
    createState: () => ({ buffer: new Float32Array(stateSize), h: [none], c: [null] }),
    reset: (state) => state.buffer.fill(0),
    step: perReading,
    stepBatch: perReading,
    window: { size: W, hop, push, firstSeq, filled: (state) => state.buffer[META + 1] },
  };
}
