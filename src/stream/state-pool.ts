// Device states carved out of shared blocks. A Float32Array of its own costs every device
// an ArrayBuffer, a backing store and a malloc block besides its floats (about 190 bytes,
// as much as an LSTM-32 state's 256); in blocks of 256 states, 10 000 devices need 40.
// States are never given back: the device table reuses an evicted device's state, so the
// blocks are bounded by --max-devices. A new session (model swap) gets a new pool.
import type { Session, StreamState } from '../runtime/session.js';

export const STATES_PER_BLOCK = 256;

export class StatePool {
  private block = new Float32Array(0);
  private used = STATES_PER_BLOCK;

  constructor(readonly session: Session) {}

  /** A zero state of the session's shape. */
  take(): StreamState {
    const n = this.session.stateSize;
    if (this.used === STATES_PER_BLOCK) {
      this.block = new Float32Array(n * STATES_PER_BLOCK);
      this.used = 0;
    }
    const buffer = this.block.subarray(this.used * n, (this.used + 1) * n);
    this.used++;
    return this.session.createState(buffer);
  }
}
