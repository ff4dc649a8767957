// Reading events -> prediction events: one recurrent state per device, kept in this
// subscription's closure (two subscribers never share state). Accepts single events or
// arrays of events that arrived together; an array is stepped with session.stepBatch,
// which gives exactly the numbers of single steps.
//
// Hot swap: a model offer in the same flow replaces the model between two readings, so
// every reading is predicted by exactly one model. After a swap the new model is on
// probation (src/stream/probation.ts); a throw, a non-finite or an implausible output then
// rolls back to the last committed model, and the reading that failed is predicted again by it.
import { Observable, type OperatorFunction } from 'rxjs';
import type { Session } from '../runtime/session.js';
import { countDeadLetter, type StreamCounters } from './counters.js';
import { DeviceTable, sequenceRules, type Admission, type DeviceEntry, type DeviceTableOptions } from './device-table.js';
import { deadLetter, type ModelOfferEvent, type ModelStatusEvent, type Origin, type PredictionEvent, type ReadingEvent, type StreamEvent } from './events.js';
import { checkGuardOptions, InputGuard, type GuardOptions } from './input-guard.js';
import { ModelSlot, type Accepted, type SwapOptions } from './model-slot.js';

export interface InferOptions extends DeviceTableOptions, GuardOptions {
  readonly counters: StreamCounters;
  /** Milliseconds, for step latency; latency is not measured without it. */
  readonly clock?: () => number;
  /** Hook for tests: the table this subscription created. */
  readonly onTable?: (table: DeviceTable) => void;
  /** How pushed models (model-offer events) are judged and swapped in. */
  readonly swap?: SwapOptions;
}

interface Pending {
  readonly event: ReadingEvent;
  readonly entry: DeviceEntry;
  readonly fresh: boolean;
}

function allFinite(y: Float32Array): boolean {
  for (let o = 0; o < y.length; o++) if (!Number.isFinite(y[o])) return false;
  return true;
}

export function inferPerDevice(session: Session, options: InferOptions): OperatorFunction<StreamEvent | readonly StreamEvent[], StreamEvent> {
  const { counters, clock } = options;
  sequenceRules(options); // invalid options throw here, when the line is built, not per reading
  checkGuardOptions(options);
  const I = session.inputSize; // a swap never changes the inputs (ModelSlot.judge)
  return (source) =>
    new Observable<StreamEvent>((subscriber) => {
      const slot = new ModelSlot(session, options.swap);
      const table = new DeviceTable(session, counters, options);
      options.onTable?.(table);
      const x = new Float32Array(I);
      let xs = new Float32Array(0);
      let ys = new Float32Array(0);
      let saved = new Float32Array(0); // states of a batch before it is stepped [n, stateSize]
      const running = () => ({ name: slot.model.name, version: slot.model.modelVersion });
      const emitStatus = (e: Omit<ModelStatusEvent, 'kind' | 'running'>) => subscriber.next({ kind: 'model-status', running: running(), ...e });

      // The input guard of the model serving now (a pushed model brings its own statistics).
      const policy = options.guardPolicy ?? 'reject';
      let guard: InputGuard | null = null;
      let guarded = false;
      const guardNow = (): InputGuard | null => {
        if (guard?.inputs !== slot.model.inputs) {
          guard = new InputGuard(slot.model.inputs, options.guardZ);
          guarded = guard.active;
        }
        return guarded ? guard : null;
      };

      // Why a reading the sequence rules skip gets no prediction (a duplicate: its first copy had one outcome already).
      function skipped(event: ReadingEvent, a: Extract<Admission, { kind: 'skip' }>): StreamEvent {
        const { reading, device, origin } = event;
        if (a.verdict === 'duplicate') return { kind: 'dropped', reason: 'duplicate', device, reading, origin };
        const code = a.verdict === 'late' ? 'late' : 'seq-jump';
        countDeadLetter(counters, code);
        const message = a.verdict === 'late'
          ? `seq ${reading.seq} arrived after seq ${a.last}: not stepped, the state has moved past it`
          : `seq ${reading.seq} jumps more than ${table.rules.maxJump} past the last seq ${a.last}: not trusted unless the next reading follows it`;
        return deadLetter(origin, code, message, device);
      }

      // Bookkeeping for one reading: a dead letter / dropped event, or a state to step.
      function admit(event: ReadingEvent): StreamEvent | Pending {
        const { reading, device, origin } = event;
        if (reading.values.length !== I) {
          countDeadLetter(counters, 'wrong-width');
          return deadLetter(origin, 'wrong-width', `reading has ${reading.values.length} values, the model takes ${I}`, device);
        }
        const a = table.admit(device, reading.ts ?? origin.receivedAt, reading.seq, reading.ts);
        if (a.kind === 'skip') return skipped(event, a);
        const g = policy === 'off' ? null : guardNow();
        if (g) {
          const bad = g.outOfRange(reading.values);
          if (bad >= 0 && policy === 'reject') {
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

      // A prediction for a stepped reading, or a dead letter if the output or the state is
      // not finite (the state is then reset, else that device would give NaN forever).
      function finish(p: Pending, y: Float32Array): StreamEvent {
        const badOutput = !allFinite(y);
        if (badOutput || !allFinite(p.entry.state.buffer)) {
          table.reset(p.event.device);
          counters.nonFiniteResets++;
          const code = badOutput ? 'non-finite-output' : 'non-finite-state';
          countDeadLetter(counters, code);
          return deadLetter(p.event.origin, code, `the model ${badOutput ? 'output' : 'state'} is not finite for this reading; the device state was reset`, p.event.device);
        }
        counters.predictions++;
        const steps = ++p.entry.steps;
        const e: PredictionEvent = { kind: 'prediction', device: p.event.device, reading: p.event.reading, y, fresh: p.fresh || steps === 1, steps, model: slot.model, origin: p.event.origin };
        return e;
      }

      function load(p: Pending): void {
        const values = p.event.reading.values;
        for (let i = 0; i < I; i++) x[i] = values[i]; // f32, as `predict` feeds it
      }

      function stepOne(p: Pending): StreamEvent {
        load(p);
        const s = slot.session;
        const t0 = clock?.();
        const y = s.step(p.entry.state, x, new Float32Array(s.outputSize));
        if (t0 !== undefined) counters.stepLatency.add(clock!() - t0);
        return finish(p, y);
      }

      // A model on probation steps one reading at a time, so a failure is caught before
      // anything is emitted for it: a throw, a non-finite output or one implausible for the
      // model's training targets rolls back, and the restored model predicts the reading.
      // So no implausible prediction of a model on probation is ever published.
      function stepOnProbation(p: Pending): void {
        load(p);
        const s = slot.session;
        let why: { code: string; reason: string } | null = null;
        let y: Float32Array | null = null;
        try {
          y = s.step(p.entry.state, x, new Float32Array(s.outputSize));
          const bad = slot.implausible(y, x);
          if (bad) why = { code: bad.code, reason: `${bad.reason}, for a reading of device ${p.event.device}` };
        } catch (err) {
          why = { code: 'step-error', reason: `step threw for a reading of device ${p.event.device}: ${String((err as Error)?.message ?? err)}` };
        }
        if (!why) {
          subscriber.next(finish(p, y!));
          if (slot.passed(p.event.device)) emitStatus({ status: 'committed', name: slot.model.name, version: slot.model.modelVersion, origin: { receivedAt: p.event.origin.receivedAt } });
          return;
        }
        rollBack(why, p.event.origin);
        subscriber.next(stepOne({ ...p, fresh: true }));
      }

      // The states the failed model left behind are not trusted (they may hold
      // Infinity): every device starts again from a zero state of the restored model.
      function rollBack(why: { code: string; reason: string }, at: Origin): void {
        const { failed, published } = slot.rollBack();
        counters.rollbacks++;
        counters.swapResets += table.swapSession(slot.session, false);
        emitStatus({ status: 'rolled-back', name: failed.name, version: failed.version, sha256: failed.sha256, ...why, statesKept: false, publishedOnProbation: published, origin: { receivedAt: at.receivedAt } });
      }

      function offer(e: ModelOfferEvent): void {
        const r = e.result;
        if (!r.ok) {
          counters.modelRejects++;
          emitStatus({ status: 'rejected', code: r.code, reason: r.message, origin: e.origin });
          return;
        }
        const about = { name: r.model.name, version: r.model.modelVersion, sha256: r.sha256, keyId: r.keyId, origin: e.origin };
        const verdict = slot.judge(r);
        if (!verdict.accept) {
          if (!verdict.unchanged) counters.modelRejects++;
          emitStatus({ status: verdict.unchanged ? 'unchanged' : 'rejected', code: verdict.code, reason: verdict.message, ...about });
          return;
        }
        let a: Accepted;
        try {
          a = slot.accept(r);
        } catch (err) {
          counters.modelRejects++;
          emitStatus({ status: 'rejected', code: 'session-error', reason: `cannot load the pushed model: ${String((err as Error)?.message ?? err)}`, ...about });
          return;
        }
        counters.swaps++;
        counters.swapResets += table.swapSession(slot.session, a.keepStates);
        const superseded = a.supersedes ? { supersedes: { name: a.supersedes.name, version: a.supersedes.version } } : {};
        emitStatus({ status: 'accepted', statesKept: a.keepStates, statesReason: a.statesReason, ...(a.committed ? {} : { probation: slot.limits }), ...superseded, ...about });
        if (a.committed) emitStatus({ status: 'committed', ...about });
      }

      // Steps a group in which each device appears at most once, with one stepBatch. If it
      // throws, some states may already have advanced: all are put back as they were and
      // the group is stepped one reading at a time, so only a reading that fails on its own
      // becomes a dead letter, and the others get exactly the numbers of single steps.
      function stepGroup(group: Pending[]): void {
        const s = slot.session;
        const O = s.outputSize;
        const n = group.length;
        const S = s.stateSize;
        if (xs.length < n * I) xs = new Float32Array(n * I * 2);
        if (ys.length < n * O) ys = new Float32Array(n * O * 2);
        if (saved.length < n * S) saved = new Float32Array(n * S * 2);
        for (let k = 0; k < n; k++) saved.set(group[k].entry.state.buffer, k * S);
        if (n === 1) return stepAlone(group[0], 0);
        for (let k = 0; k < n; k++) {
          const values = group[k].event.reading.values;
          for (let i = 0; i < I; i++) xs[k * I + i] = values[i];
        }
        const t0 = clock?.();
        try {
          s.stepBatch(group.map((p) => p.entry.state), xs, ys);
        } catch {
          for (let k = 0; k < n; k++) group[k].entry.state.buffer.set(saved.subarray(k * S, (k + 1) * S));
          for (let k = 0; k < n; k++) stepAlone(group[k], k);
          return;
        }
        if (t0 !== undefined) {
          const per = (clock!() - t0) / n;
          for (let k = 0; k < n; k++) counters.stepLatency.add(per);
        }
        counters.batches++;
        counters.batchedReadings += n;
        for (let k = 0; k < n; k++) subscriber.next(finish(group[k], ys.slice(k * O, (k + 1) * O)));
      }

      // Reading k of a group on its own; if its step throws, its state goes back to saved[k]
      // (a failed reading does not advance its device) and it becomes a dead letter.
      function stepAlone(p: Pending, k: number): void {
        let out: StreamEvent;
        try {
          out = stepOne(p);
        } catch (err) {
          const S = slot.session.stateSize;
          p.entry.state.buffer.set(saved.subarray(k * S, (k + 1) * S));
          out = stepError(p.event, err);
        }
        subscriber.next(out);
      }

      function stepError(e: StreamEvent, err: unknown): StreamEvent {
        countDeadLetter(counters, 'step-error');
        return deadLetter(e.origin, 'step-error', String((err as Error)?.message ?? err), 'device' in e ? e.device : undefined);
      }

      // One message of an array; returns with every event before it emitted or in `group`.
      function stepMany(events: readonly StreamEvent[]): void {
        let group: Pending[] = [];
        const inGroup = new Set<string>();
        const flush = () => {
          const g = group;
          group = [];
          inGroup.clear();
          if (g.length) stepGroup(g);
        };
        const take = (e: StreamEvent): void => {
          if (e.kind !== 'reading') {
            flush(); // keep the output in arrival order; a swap lands between two groups
            if (e.kind === 'model-offer') offer(e);
            else subscriber.next(e);
            return;
          }
          // A device's second reading must see the state its first one left; and a group
          // never reaches the cap, so no state in it can be evicted and reused meanwhile.
          if (inGroup.has(e.device) || group.length >= table.maxDevices - 1) flush();
          const a = admit(e);
          if (!('entry' in a)) {
            flush();
            subscriber.next(a);
            return;
          }
          if (slot.onProbation) {
            flush();
            stepOnProbation(a);
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
            subscriber.next(stepError(e, err));
          }
        }
        flush();
      }

      function stepSingle(e: StreamEvent): void {
        if (e.kind === 'model-offer') return offer(e);
        if (e.kind !== 'reading') return subscriber.next(e);
        const a = admit(e);
        if (!('entry' in a)) subscriber.next(a);
        else if (slot.onProbation) stepOnProbation(a);
        else subscriber.next(stepOne(a));
      }

      return source.subscribe({
        next(input) {
          // An array turns its own errors into dead letters, one per failing message.
          if (Array.isArray(input)) return stepMany(input as readonly StreamEvent[]);
          try {
            stepSingle(input as StreamEvent);
          } catch (err) {
            // A bug or an unexpected model error must not end the stream; say which message.
            subscriber.next(stepError(input as StreamEvent, err));
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
