// One recurrent state per device, with the rules of DESIGN.md: drop duplicate or older
// seq, reset after a gap, evict the least recently seen device beyond a cap. A Map keeps
// insertion order, so delete + set on every touch makes its first key the LRU device.
import type { Session, StreamState } from '../runtime/session.js';
import type { StreamCounters } from './counters.js';

export interface DeviceTableOptions {
  /** Most device states held at once; the least recently seen is evicted beyond it. */
  readonly maxDevices?: number;
  /** A gap (ms) longer than this between two readings of a device resets its state. 0: never. */
  readonly resetAfterMs?: number;
}

export interface DeviceEntry {
  /** Replaced when a model swap changes the recurrent shapes. */
  state: StreamState;
  /** Highest seq seen, -1 before any. */
  lastSeq: number;
  /** Time (ms) of the last reading, NaN before any. */
  lastTime: number;
}

export type Admission =
  | { readonly kind: 'step'; readonly entry: DeviceEntry; readonly fresh: boolean }
  | { readonly kind: 'duplicate' };

export const DEFAULT_MAX_DEVICES = 10_000;

export class DeviceTable {
  private readonly entries = new Map<string, DeviceEntry>();
  readonly maxDevices: number;
  readonly resetAfterMs: number;

  constructor(
    private session: Session,
    private readonly counters: StreamCounters,
    options: DeviceTableOptions = {},
  ) {
    this.maxDevices = Math.max(1, options.maxDevices ?? DEFAULT_MAX_DEVICES);
    this.resetAfterMs = options.resetAfterMs ?? 0;
  }

  get size(): number {
    return this.entries.size;
  }

  has(device: string): boolean {
    return this.entries.has(device);
  }

  /**
   * Decide what to do with a reading of `device` at `time` (ms) with optional `seq`, and
   * update the bookkeeping: the caller then steps `entry.state` once.
   */
  admit(device: string, time: number, seq: number | undefined): Admission {
    let entry = this.entries.get(device);
    let fresh = false;
    if (entry) {
      if (seq !== undefined && seq <= entry.lastSeq) {
        this.counters.duplicates++;
        return { kind: 'duplicate' };
      }
      // A jump in seq means readings were lost before they reached us (dropped by the node
      // or the network): count them, so a fleet's losses show in the health line.
      if (seq !== undefined && entry.lastSeq >= 0) this.counters.missedReadings += seq - entry.lastSeq - 1;
      this.entries.delete(device); // re-inserted below: now the most recently seen
      if (this.resetAfterMs > 0 && time - entry.lastTime > this.resetAfterMs) {
        this.session.reset(entry.state);
        entry.lastSeq = -1;
        this.counters.resets++;
        fresh = true;
      }
    } else {
      entry = { state: this.takeState(), lastSeq: -1, lastTime: NaN };
      fresh = true;
    }
    if (seq !== undefined) entry.lastSeq = seq;
    if (!(time < entry.lastTime)) entry.lastTime = time;
    this.entries.set(device, entry);
    this.counters.devices = this.entries.size;
    if (this.entries.size > this.counters.peakDevices) this.counters.peakDevices = this.entries.size;
    return { kind: 'step', entry, fresh };
  }

  /** Forget a device's state (e.g. after its output went non-finite). */
  reset(device: string): void {
    const entry = this.entries.get(device);
    if (!entry) return;
    this.session.reset(entry.state);
    entry.lastTime = NaN;
  }

  /**
   * Serve `session` from now on (a model swap or rollback). `keepStates`: the recurrent
   * shapes are unchanged and each device carries on from its state; else every device
   * starts from a zero state of the new shape (its seq history is kept, so redeliveries
   * are still dropped). Returns the number of states reset.
   */
  swapSession(session: Session, keepStates: boolean): number {
    this.session = session;
    if (keepStates) return 0;
    for (const entry of this.entries.values()) entry.state = session.createState();
    return this.entries.size;
  }

  // A zeroed state: the evicted LRU device's buffer when at the cap, so memory stays bounded.
  private takeState(): StreamState {
    if (this.entries.size < this.maxDevices) return this.session.createState();
    const [lru, entry] = this.entries.entries().next().value as [string, DeviceEntry];
    this.entries.delete(lru);
    this.counters.evictions++;
    this.session.reset(entry.state);
    return entry.state;
  }
}
