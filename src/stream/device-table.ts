// One recurrent state per device, with the sequence rules of ./sequence.ts (duplicates,
// late readings, reboots, untrusted seq jumps, --reset-after gaps), and the least
// recently seen device evicted beyond a cap. A Map keeps insertion order, so delete + set
// on every touch makes its first key the LRU device. Memory per device is bounded: its
// state buffer plus a SeqHistory of ⌈window/32⌉ words, and with `anomaly` a ring of
// `horizon` pending forecasts (src/runtime/anomaly.ts) that lives and dies with the state.
import { ForecastRing } from '../runtime/anomaly.js';
import type { Session, StreamState } from '../runtime/session.js';
import type { StreamCounters } from './counters.js';
import { SeqHistoryPool, StatePool } from './state-pool.js';
import { classifySeq, DEFAULT_MAX_SEQ_JUMP, DEFAULT_SEQ_WINDOW, isStepped, MAX_SEQ_WINDOW, SeqHistory, startsEpoch, type SeqInput, type SeqVerdict, type SequenceRules } from './sequence.js';

export interface DeviceTableOptions {
  /** Most device states held at once; the least recently seen is evicted beyond it. */
  readonly maxDevices?: number;
  /** A gap (ms) longer than this between two readings of a device starts a new epoch. 0: never. */
  readonly resetAfterMs?: number;
  /** Recent seqs remembered per device for duplicate / late detection (default 256). */
  readonly seqWindow?: number;
  /** A seq more than this ahead of the last is not trusted on its own (default 10 000). */
  readonly maxSeqJump?: number;
  /** Score readings against their forecasts (run --anomaly); `threshold` overrides the model's. */
  readonly anomaly?: AnomalyOptions;
}

export interface AnomalyOptions {
  readonly threshold?: number;
}

export interface DeviceEntry {
  /** Replaced when a model swap changes the recurrent shapes. */
  state: StreamState;
  /** The device's recent seqs and reading times. */
  readonly seqs: SeqHistory;
  /** Epochs started so far (first reading, gap, reboot, confirmed seq jump): 1 after the first reading. */
  epoch: number;
  /** Readings stepped into `state` since it was last reset (0: a zero state). */
  steps: number;
  /**
   * With `anomaly`: the forecasts waiting for their readings. Cleared whenever the state is
   * reset, and on a seq gap (the forecasts no longer line up with the readings that come).
   */
  ring: ForecastRing | null;
}

/** One device as a checkpoint holds it (src/io/state-checkpoint.ts writes it to disk). */
export interface DeviceSnapshot {
  readonly device: string;
  /** The StreamState buffer. */
  readonly state: Float32Array;
  readonly epoch: number;
  readonly steps: number;
  /** SeqHistory: highest seq (-1 none), time and own ts of the newest reading (NaN none), seen bits. */
  readonly lastSeq: number;
  readonly lastTime: number;
  readonly lastTs: number;
  readonly seqBits?: Uint32Array;
}

export type Admission =
  | { readonly kind: 'step'; readonly entry: DeviceEntry; readonly fresh: boolean; readonly verdict: SeqVerdict }
  /** Not stepped: `duplicate` (counted here), `late` or `jump-untrusted` (the caller dead-letters them). */
  | { readonly kind: 'skip'; readonly verdict: 'duplicate' | 'late' | 'jump-untrusted'; readonly last: number };

export const DEFAULT_MAX_DEVICES = 10_000;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
const NO_STATE = new Float32Array(0);

/** The sequence rules of these options; a RangeError naming the option when one is invalid. */
export function sequenceRules(options: DeviceTableOptions): SequenceRules {
  const window = options.seqWindow ?? DEFAULT_SEQ_WINDOW;
  const maxJump = options.maxSeqJump ?? DEFAULT_MAX_SEQ_JUMP;
  const resetAfterMs = options.resetAfterMs ?? 0;
  if (!Number.isInteger(window) || window < 1 || window > MAX_SEQ_WINDOW) throw new RangeError(`seqWindow must be a whole number from 1 to ${MAX_SEQ_WINDOW}, got ${window}`);
  if (!Number.isSafeInteger(maxJump) || maxJump < 1) throw new RangeError(`maxSeqJump must be a whole number >= 1, got ${maxJump}`);
  if (!(resetAfterMs >= 0)) throw new RangeError(`resetAfterMs must be >= 0, got ${resetAfterMs}`);
  return { window, maxJump, resetAfterMs };
}

export class DeviceTable {
  private readonly entries = new Map<string, DeviceEntry>();
  readonly maxDevices: number;
  readonly rules: SequenceRules;
  private readonly rings: boolean;
  private states: StatePool;
  private readonly histories: SeqHistoryPool;
  /** Told each device evicted beyond maxDevices (src/io/observe removes its Home Assistant sensors); null: none. */
  onEvict: ((device: string) => void) | null = null;

  constructor(
    private session: Session,
    private readonly counters: StreamCounters,
    options: DeviceTableOptions = {},
  ) {
    this.states = new StatePool(session);
    this.maxDevices = Math.max(1, options.maxDevices ?? DEFAULT_MAX_DEVICES);
    this.rules = sequenceRules(options);
    this.histories = new SeqHistoryPool(this.rules.window);
    this.rings = options.anomaly !== undefined;
  }

  get size(): number {
    return this.entries.size;
  }

  has(device: string): boolean {
    return this.entries.has(device);
  }

  /** The entry of `device`, without touching its LRU place (tests, checkpoints). */
  peek(device: string): DeviceEntry | undefined {
    return this.entries.get(device);
  }

  /**
   * Decide what to do with a reading of `device` at `time` (ms: its ts, else its arrival)
   * with optional `seq` and own `ts`, and update the bookkeeping. On `step` the state is
   * already reset when the reading starts a new epoch; the caller steps it once.
   */
  admit(device: string, time: number, seq: number | undefined, ts?: number): Admission {
    let entry = this.entries.get(device);
    if (!entry) entry = this.newEntry();
    else this.entries.delete(device); // re-inserted below: now the most recently seen
    this.entries.set(device, entry);
    this.counters.devices = this.entries.size;
    if (this.entries.size > this.counters.peakDevices) this.counters.peakDevices = this.entries.size;

    const input: SeqInput = { seq, ts, time };
    const verdict = classifySeq(entry.seqs, input, this.rules);
    const last = entry.seqs.last;
    entry.seqs.record(verdict, input);
    if (!isStepped(verdict)) {
      if (verdict === 'duplicate') this.counters.duplicates++;
      return { kind: 'skip', verdict: verdict as 'duplicate' | 'late' | 'jump-untrusted', last };
    }
    // A jump in seq means readings were lost before they reached us (dropped by the node
    // or the network): count them, so a fleet's losses show in the health line.
    if (verdict === 'next' && seq !== undefined && last >= 0 && seq - last > 1) {
      this.counters.missedReadings += seq - last - 1;
      entry.ring?.clear();
    }
    if (startsEpoch(verdict)) {
      this.session.reset(entry.state);
      entry.ring?.clear();
      entry.steps = 0;
      entry.epoch++;
      if (verdict === 'gap-reset') this.counters.resets++;
      else if (verdict === 'reboot') this.counters.reboots++;
      else if (verdict === 'jump-confirmed') this.counters.seqResyncs++;
    }
    return { kind: 'step', entry, fresh: startsEpoch(verdict), verdict };
  }

  /**
   * Copies of every device for a checkpoint that outlives the call (the cluster mode's
   * per-partition checkpoints, src/io/cluster): the states and sequence bits are copied.
   */
  snapshot(): DeviceSnapshot[] {
    const out: DeviceSnapshot[] = [];
    this.forEachSnapshot((d) => out.push({ ...d, state: d.state.slice(), seqBits: d.seqBits?.slice() }));
    return out;
  }

  /**
   * Every device for a checkpoint, least recently seen first, as views of the live table:
   * one object, refilled per device, valid only inside `visit` (nothing is copied: a
   * checkpoint of 10 000 devices makes one small view per device, no copy of its floats).
   */
  forEachSnapshot(visit: (d: DeviceSnapshot) => void): void {
    const d: Mutable<DeviceSnapshot> = { device: '', state: NO_STATE, epoch: 0, steps: 0, lastSeq: -1, lastTime: NaN, lastTs: NaN };
    this.entries.forEach((e, device) => {
      d.device = device;
      d.state = e.state.buffer;
      d.epoch = e.epoch;
      d.steps = e.steps;
      d.lastSeq = e.seqs.last;
      d.lastTime = e.seqs.lastTime;
      d.lastTs = e.seqs.lastTs;
      d.seqBits = e.seqs.words;
      visit(d);
    });
  }

  /**
   * Put devices back from a checkpoint (least recently seen first), before any reading;
   * states of the wrong size are skipped. At most maxDevices are kept (the most recent).
   * Returns how many were restored.
   */
  restore(devices: readonly DeviceSnapshot[]): number {
    let n = 0;
    for (const d of devices.slice(-this.maxDevices)) {
      if (d.state.length !== this.session.stateSize || this.entries.has(d.device)) continue;
      const state = this.states.take();
      state.buffer.set(d.state);
      const seqs = this.histories.take();
      seqs.restore({ last: d.lastSeq, lastTime: d.lastTime, lastTs: d.lastTs, bits: d.seqBits });
      // Pending forecasts are not checkpointed: a restored device is scored again after `horizon` readings.
      this.entries.set(d.device, { state, seqs, epoch: d.epoch, steps: d.steps, ring: this.newRing() });
      n++;
    }
    this.counters.devices = this.entries.size;
    if (this.entries.size > this.counters.peakDevices) this.counters.peakDevices = this.entries.size;
    return n;
  }

  get stateSize(): number {
    return this.session.stateSize;
  }

  /**
   * Drop a device altogether, state and seq history (cluster mode: its partition moved to
   * another instance, which restores it from the partition's checkpoint). True if it was held.
   */
  forget(device: string): boolean {
    const had = this.entries.delete(device);
    this.counters.devices = this.entries.size;
    return had;
  }

  /** Forget a device's state (e.g. after it went non-finite); its seq history is kept. */
  reset(device: string): void {
    const entry = this.entries.get(device);
    if (!entry) return;
    this.session.reset(entry.state);
    entry.steps = 0;
    entry.ring?.clear();
  }

  /**
   * Serve `session` from now on (a model swap or rollback). `keepStates`: the recurrent
   * shapes are unchanged and each device carries on from its state; else every device
   * starts from a zero state of the new shape (its seq history is kept, so redeliveries
   * are still dropped). Returns the number of states reset.
   */
  swapSession(session: Session, keepStates: boolean): number {
    this.session = session;
    this.states = new StatePool(session);
    // Forecast rings follow the states; a new horizon or output count needs new rings.
    const probe = this.newRing();
    const reshaped = probe !== null && [...this.entries.values()].some((e) => e.ring?.horizon !== probe.horizon || e.ring?.width !== probe.width);
    if (reshaped) for (const entry of this.entries.values()) entry.ring = this.newRing();
    if (keepStates) return 0;
    for (const entry of this.entries.values()) {
      entry.state = this.states.take();
      entry.steps = 0;
      entry.ring?.clear();
    }
    return this.entries.size;
  }

  // A forecast ring of the serving model's shape (null without `anomaly`).
  private newRing(): ForecastRing | null {
    if (!this.rings) return null;
    return new ForecastRing(this.session.model.outputs.horizon ?? 1, this.session.outputSize);
  }

  // A zeroed state, an empty history and ring: the evicted LRU device's when at the cap, so memory stays bounded.
  private newEntry(): DeviceEntry {
    if (this.entries.size < this.maxDevices) return { state: this.states.take(), seqs: this.histories.take(), epoch: 0, steps: 0, ring: this.newRing() };
    const [lru, entry] = this.entries.entries().next().value as [string, DeviceEntry];
    this.entries.delete(lru);
    this.counters.evictions++;
    this.onEvict?.(lru);
    this.session.reset(entry.state);
    entry.seqs.clear();
    entry.ring?.clear();
    return { state: entry.state, seqs: entry.seqs, epoch: 0, steps: 0, ring: entry.ring };
  }
}
