// An array of events that arrived together (batchSameTick, a batched `predict`), stepped in
// groups with session.stepBatch, which gives exactly the numbers of single steps. Events
// come out in arrival order; a model offer, a reading that is not stepped, or a model on
// probation ends the group before it. Each message's error is a dead letter for that
// message alone. The batch buffers grow to the largest group and are then reused.
import type { StreamCounters } from './counters.js';
import type { DeviceTable } from './device-table.js';
import type { Emit, StreamEvent } from './events.js';
import type { ModelSlot } from './model-slot.js';
import type { ModelSwaps } from './model-swaps.js';
import type { Pending, ReadingAdmission } from './reading-admission.js';
import { stepError, type ReadingStepper } from './reading-step.js';
import { isWindowSession } from '../runtime/session-window.js';

export interface BatchParts {
  readonly slot: ModelSlot;
  readonly table: DeviceTable;
  readonly admission: ReadingAdmission;
  readonly stepper: ReadingStepper;
  readonly swaps: ModelSwaps;
  readonly counters: StreamCounters;
  readonly clock?: () => number;
  readonly emit: Emit;
}

export class BatchStepper {
  private xs = new Float32Array(0); // inputs of a group [n, inputSize]
  private ys = new Float32Array(0); // outputs of a group [n, outputSize]
  private saved = new Float32Array(0); // states of a group before it is stepped [n, stateSize]

  constructor(private readonly parts: BatchParts) {}

  // One message of an array; returns with every event of it emitted.
  stepMany(events: readonly StreamEvent[]): void {
    const { table, admission, slot, swaps, counters, emit } = this.parts;
    let group: Pending[] = [];
    const inGroup = new Set<string>();
    const flush = () => {
      const g = group;
      group = [];
      inGroup.clear();
      if (g.length) this.stepGroup(g);
    };
    const take = (e: StreamEvent): void => {
      if (e.kind !== 'reading') {
        flush(); // keep the output in arrival order; a swap lands between two groups
        if (e.kind === 'model-offer') swaps.offer(e);
        else emit(e);
        return;
      }
      // A device's second reading must see the state its first one left; and a group
      // never reaches the cap, so no state in it can be evicted and reused meanwhile.
      if (inGroup.has(e.device) || group.length >= table.maxDevices - 1) flush();
      const a = admission.admit(e);
      if (!('entry' in a)) {
        flush();
        emit(a);
        return;
      }
      if (slot.onProbation) {
        flush();
        swaps.stepOnProbation(a);
        return;
      }
      group.push(a);
      inGroup.add(e.device);
    };
    for (const e of events) {
      try {
        take(e);
      } catch (err) {
        // A bug or an unexpected error in one message's bookkeeping: that message alone.
        flush();
        emit(stepError(counters, e, err));
      }
    }
    flush();
  }

  // Steps a group in which each device appears at most once, with one stepBatch. If it
  // throws, some states may already have advanced: all are put back as they were and
  // the group is stepped one reading at a time, so only a reading that fails on its own
  // becomes a dead letter, and the others get exactly the numbers of single steps.
  private stepGroup(group: Pending[]): void {
    const { slot, counters, clock, emit } = this.parts;
    const s = slot.session;
    const I = s.inputSize;
    const O = s.outputSize;
    const n = group.length;
    const S = s.stateSize;
    if (this.xs.length < n * I) this.xs = new Float32Array(n * I * 2);
    if (this.ys.length < n * O) this.ys = new Float32Array(n * O * 2);
    if (this.saved.length < n * S) this.saved = new Float32Array(n * S * 2);
    const { xs, ys, saved } = this;
    for (let k = 0; k < n; k++) saved.set(group[k].entry.state.buffer, k * S);
    if (n === 1) return this.stepAlone(group[0], 0);
    // A windowed model has no batched step: a window's pass is the work, one device at a time.
    if (isWindowSession(s)) {
      for (let k = 0; k < n; k++) this.stepAlone(group[k], k);
      return;
    }
    for (let k = 0; k < n; k++) {
      const values = group[k].event.reading.values;
      for (let i = 0; i < I; i++) xs[k * I + i] = values[i];
    }
    const t0 = clock?.();
    try {
      s.stepBatch(group.map((p) => p.entry.state), xs, ys);
    } catch {
      for (let k = 0; k < n; k++) group[k].entry.state.buffer.set(saved.subarray(k * S, (k + 1) * S));
      for (let k = 0; k < n; k++) this.stepAlone(group[k], k);
      return;
    }
    if (t0 !== undefined) {
      const per = (clock!() - t0) / n;
      for (let k = 0; k < n; k++) counters.stepLatency.add(per);
    }
    counters.batches++;
    counters.batchedReadings += n;
    for (let k = 0; k < n; k++) emit(this.parts.stepper.finish(group[k], ys.slice(k * O, (k + 1) * O)));
  }

  // Reading k of a group on its own; if its step throws, its state goes back to saved[k]
  // (a failed reading does not advance its device) and it becomes a dead letter.
  private stepAlone(p: Pending, k: number): void {
    const { slot, stepper, counters, emit } = this.parts;
    let out: StreamEvent;
    try {
      out = stepper.step(p);
    } catch (err) {
      const S = slot.session.stateSize;
      p.entry.state.buffer.set(this.saved.subarray(k * S, (k + 1) * S));
      out = stepError(counters, p.event, err);
    }
    emit(out);
  }
}
