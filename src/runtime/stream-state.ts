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

/**
 * A state laid out as the plan says (h0 [c0] h1 [c1] …), shared by every kernel backend:
 * over `buffer` (stateSize floats, e.g. a slice of a block many states share) or a new zero one.
 */
export function createStreamState(plan: ModelPlan, buffer: Float32Array = new Float32Array(plan.stateSize)): StreamState {
  if (buffer.length !== plan.stateSize) throw new RangeError(`a state buffer needs ${plan.stateSize} floats, got ${buffer.length}`);
  return new LazyViewsState(plan, buffer);
}

// The h and c views are made on first use: the WebAssembly session moves states by offset
// and never asks, and 10 000 devices' views and their arrays were 3.3 MB of heap.
class LazyViewsState implements StreamState {
  private views: { readonly h: readonly Float32Array[]; readonly c: readonly (Float32Array | null)[] } | null = null;

  constructor(private readonly plan: ModelPlan, readonly buffer: Float32Array) {}

  get h(): readonly Float32Array[] {
    return (this.views ??= this.makeViews()).h;
  }

  get c(): readonly (Float32Array | null)[] {
    return (this.views ??= this.makeViews()).c;
  }

  private makeViews() {
    const view = (off: number, n: number) => this.buffer.subarray(off, off + n);
    return {
      h: this.plan.recurrent.map((r) => view(r.hOffset, r.hiddenSize)),
      c: this.plan.recurrent.map((r) => (r.cOffset >= 0 ? view(r.cOffset, r.hiddenSize) : null)),
    };
  }
}
