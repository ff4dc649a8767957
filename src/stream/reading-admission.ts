// Bookkeeping for one reading before any state is stepped: its width, the device table's
// sequence rules (duplicate, late, untrusted jump) and the input guard of the model
// serving now. The result is a dead letter / dropped event, or the reading with the device
// state it will step.
import { countDeadLetter, type StreamCounters } from './counters.js';
import type { Admission, DeviceEntry, DeviceTable } from './device-table.js';
import { deadLetter, type ReadingEvent, type StreamEvent } from './events.js';
import { InputGuard, type GuardOptions, type GuardPolicy } from './input-guard.js';
import type { ModelSlot } from './model-slot.js';

/** A reading admitted to be stepped, with its device's entry. */
export interface Pending {
  readonly event: ReadingEvent;
  readonly entry: DeviceEntry;
  /** The state was reset for this reading (new device, gap, reboot, ...). */
  readonly fresh: boolean;
}

export class ReadingAdmission {
  private readonly policy: GuardPolicy;
  private guard: InputGuard | null = null;
  private guarded = false;

  constructor(
    private readonly slot: ModelSlot,
    private readonly table: DeviceTable,
    private readonly counters: StreamCounters,
    private readonly options: GuardOptions,
    /** Values per reading; a swap never changes the inputs (ModelSlot.judge). */
    private readonly inputSize: number,
  ) {
    this.policy = options.guardPolicy ?? 'reject';
  }

  admit(event: ReadingEvent): StreamEvent | Pending {
    const { reading, device, origin } = event;
    const { counters } = this;
    if (reading.values.length !== this.inputSize) {
      countDeadLetter(counters, 'wrong-width');
      return deadLetter(origin, 'wrong-width', `reading has ${reading.values.length} values, the model takes ${this.inputSize}`, device);
    }
    const a = this.table.admit(device, reading.ts ?? origin.receivedAt, reading.seq, reading.ts);
    if (a.kind === 'skip') return this.skipped(event, a);
    const g = this.policy === 'off' ? null : this.guardNow();
    if (g) {
      const bad = g.outOfRange(reading.values);
      if (bad >= 0 && this.policy === 'reject') {
        countDeadLetter(counters, 'out-of-range');
        return deadLetter(origin, 'out-of-range', `${g.describe(reading.values, bad)}: not stepped, the device state is unchanged`, device);
      }
      if (bad >= 0) {
        const values = Float32Array.from(reading.values);
        g.clamp(values);
        counters.clamped++;
        return { event: { ...event, reading: { ...reading, values: Array.from(values) } }, entry: a.entry, fresh: a.fresh };
      }
    }
    return { event, entry: a.entry, fresh: a.fresh };
  }

  // Why a reading the sequence rules skip gets no prediction (a duplicate: its first copy had one outcome already).
  private skipped(event: ReadingEvent, a: Extract<Admission, { kind: 'skip' }>): StreamEvent {
    const { reading, device, origin } = event;
    if (a.verdict === 'duplicate') return { kind: 'dropped', reason: 'duplicate', device, reading, origin };
    const code = a.verdict === 'late' ? 'late' : 'seq-jump';
    countDeadLetter(this.counters, code);
    const message = a.verdict === 'late'
      ? `seq ${reading.seq} arrived after seq ${a.last}: not stepped, the state has moved past it`
      : `seq ${reading.seq} jumps more than ${this.table.rules.maxJump} past the last seq ${a.last}: not trusted unless the next reading follows it`;
    return deadLetter(origin, code, message, device);
  }

  // The input guard of the model serving now (a pushed model brings its own statistics).
  private guardNow(): InputGuard | null {
    if (this.guard?.inputs !== this.slot.model.inputs) {
      this.guard = new InputGuard(this.slot.model.inputs, this.options.guardZ);
      this.guarded = this.guard.active;
    }
    return this.guarded ? this.guard : null;
  }
}
