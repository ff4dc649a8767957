import type { RecurrentLayer } from '../model/types.js';

/** One stream's recurrent state: h (and c for LSTM) of every recurrent layer. */
export interface StreamState {
  /** All state floats in one array (h and c of each layer in order), for checkpoints. */
  readonly buffer: Float32Array;
  /** h of each recurrent layer: views into `buffer`. */
  readonly h: readonly Float32Array[];
  /** c of each recurrent layer (LSTM only, else null): views into `buffer`. */
  readonly c: readonly (Float32Array | null)[];
}

/** Floats in a StreamState's buffer for these layers. */
export function stateSizeOf(recurrent: readonly RecurrentLayer[]): number {
  let n = 0;
  for (const l of recurrent) n += l.type === 'lstm' ? 2 * l.hiddenSize : l.hiddenSize;
  return n;
}

/** A zero state laid out as h0 [c0] h1 [c1] … in one buffer, shared by every kernel backend. */
export function createStreamState(recurrent: readonly RecurrentLayer[]): StreamState {
  const buffer = new Float32Array(stateSizeOf(recurrent));
  const h: Float32Array[] = [];
  const c: (Float32Array | null)[] = [];
  let off = 0;
  for (const l of recurrent) {
    h.push(buffer.subarray(off, off + l.hiddenSize));
    off += l.hiddenSize;
    if (l.type === 'lstm') {
      c.push(buffer.subarray(off, off + l.hiddenSize));
      off += l.hiddenSize;
    } else c.push(null);
  }
  return { buffer, h, c };
}
