// Device states (and sequence histories, below) carved out of shared blocks. A Float32Array of its own costs every device
// an ArrayBuffer, a backing store and a malloc block besides its floats (about 190 bytes,
// as much as an LSTM-32 state's 256); in blocks of 256 states, 10 000 devices need 40.
// Nothing is given back: the device table reuses an evicted device's state and history,
// so the blocks are bounded by --max-devices. A new session (model swap) gets a new pool.
import type { Session, StreamState } from '../runtime/session.js';
import { SeqHistory } from './sequence.js';

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

/**
 * Sequence histories whose seen-bits share blocks: a Uint32Array of its own is an object,
 * an ArrayBuffer and their elements (184 bytes for the default window's 32 bytes of bits).
 */
export class SeqHistoryPool {
  private block = new Uint32Array(0);
  private used = STATES_PER_BLOCK;

  constructor(readonly window: number) {}

  /** An empty history of the pool's window. */
  take(): SeqHistory {
    const n = Math.ceil(this.window / 32);
    if (this.used === STATES_PER_BLOCK) {
      this.block = new Uint32Array(n * STATES_PER_BLOCK);
      this.used = 0;
    }
    return new SeqHistory(this.window, this.block, n * this.used++);
  }
}
