import type { ModelPlan } from '../model/plan.js';

/** One stream's recurrent state: h (and c for LSTM) of every recurrent layer. */
export interface StreamState {
  /** All state floats in one array (h and c of each layer in order), for checkpoints. */
  readonly buffer: Float32Array;
  /** h of each recurrent layer: views into `buffer`. */
  readonly h: readonly Float32Array[];
  /** c of each recurrent layer (LSTM only, else null): views into `buffer`. */
  readonly c: readonly (Float32Array | null)[];
}

/** A zero state laid out as the plan says (h0 [c0] h1 [c1] …), shared by every kernel backend. */
export function createStreamState(plan: ModelPlan): StreamState {
  const buffer = new Float32Array(plan.stateSize);
  const view = (off: number, n: number) => buffer.subarray(off, off + n);
  return {
    buffer,
    h: plan.recurrent.map((r) => view(r.hOffset, r.hiddenSize)),
    c: plan.recurrent.map((r) => (r.cOffset >= 0 ? view(r.cOffset, r.hiddenSize) : null)),
  };
}
