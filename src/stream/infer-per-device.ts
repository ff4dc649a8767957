// Reading events -> prediction events: one recurrent state per device, kept in this
// subscription's closure (two subscribers never share state). Accepts single events or
// arrays of events that arrived together; an array is stepped with session.stepBatch,
// which gives exactly the numbers of single steps.
import { Observable, type OperatorFunction } from 'rxjs';
import type { Session } from '../runtime/session.js';
import { countDeadLetter, type StreamCounters } from './counters.js';
import { DeviceTable, type DeviceEntry, type DeviceTableOptions } from './device-table.js';
import { deadLetter, type PredictionEvent, type ReadingEvent, type StreamEvent } from './events.js';

export interface InferOptions extends DeviceTableOptions {
  readonly counters: StreamCounters;
  /** Milliseconds, for step latency; latency is not measured without it. */
  readonly clock?: () => number;
  /** Hook for tests: the table this subscription created. */
  readonly onTable?: (table: DeviceTable) => void;
}

interface Pending {
  readonly event: ReadingEvent;
  readonly entry: DeviceEntry;
  readonly fresh: boolean;
}

export function inferPerDevice(session: Session, options: InferOptions): OperatorFunction<StreamEvent | readonly StreamEvent[], StreamEvent> {
  const { counters, clock } = options;
  const I = session.inputSize;
  const O = session.outputSize;
  return (source) =>
    new Observable<StreamEvent>((subscriber) => {
      const table = new DeviceTable(session, counters, options);
      options.onTable?.(table);
      const x = new Float32Array(I);
      let xs = new Float32Array(0);
      let ys = new Float32Array(0);

      // Bookkeeping for one reading: a dead letter / dropped event, or a state to step.
      function admit(event: ReadingEvent): StreamEvent | Pending {
        const { reading, device, origin } = event;
        if (reading.values.length !== I) {
          countDeadLetter(counters, 'wrong-width');
          return deadLetter(origin, 'wrong-width', `reading has ${reading.values.length} values, the model takes ${I}`, device);
        }
        const a = table.admit(device, reading.ts ?? origin.receivedAt, reading.seq);
        if (a.kind === 'duplicate') return { kind: 'dropped', reason: 'duplicate', device, reading, origin };
        return { event, entry: a.entry, fresh: a.fresh };
      }

      // A prediction for a stepped reading, or a dead letter if the output is not finite
      // (the state is then reset, else that device would give NaN forever).
      function finish(p: Pending, y: Float32Array): StreamEvent {
        for (let o = 0; o < O; o++) {
          if (!Number.isFinite(y[o])) {
            table.reset(p.event.device);
            countDeadLetter(counters, 'non-finite-output');
            return deadLetter(p.event.origin, 'non-finite-output', 'the model output is not finite for this reading; the device state was reset', p.event.device);
          }
        }
        counters.predictions++;
        const e: PredictionEvent = { kind: 'prediction', device: p.event.device, reading: p.event.reading, y, fresh: p.fresh, origin: p.event.origin };
        return e;
      }

      function stepOne(p: Pending): StreamEvent {
        const values = p.event.reading.values;
        for (let i = 0; i < I; i++) x[i] = values[i]; // f32, as `predict` feeds it
        const t0 = clock?.();
        const y = session.step(p.entry.state, x, new Float32Array(O));
        if (t0 !== undefined) counters.stepLatency.add(clock!() - t0);
        return finish(p, y);
      }

      // Steps a group in which each device appears at most once.
      function stepGroup(group: Pending[]): void {
        if (group.length === 1) {
          subscriber.next(stepOne(group[0]));
          return;
        }
        const n = group.length;
        if (xs.length < n * I) xs = new Float32Array(n * I * 2);
        if (ys.length < n * O) ys = new Float32Array(n * O * 2);
        for (let s = 0; s < n; s++) {
          const values = group[s].event.reading.values;
          for (let i = 0; i < I; i++) xs[s * I + i] = values[i];
        }
        const t0 = clock?.();
        session.stepBatch(group.map((p) => p.entry.state), xs, ys);
        if (t0 !== undefined) {
          const per = (clock!() - t0) / n;
          for (let s = 0; s < n; s++) counters.stepLatency.add(per);
        }
        counters.batches++;
        counters.batchedReadings += n;
        for (let s = 0; s < n; s++) subscriber.next(finish(group[s], ys.slice(s * O, (s + 1) * O)));
      }

      function stepMany(events: readonly StreamEvent[]): void {
        let group: Pending[] = [];
        const inGroup = new Set<string>();
        const flush = () => {
          if (group.length) stepGroup(group);
          group = [];
          inGroup.clear();
        };
        for (const e of events) {
          if (e.kind !== 'reading') {
            flush(); // keep the output in arrival order
            subscriber.next(e);
            continue;
          }
          // A device's second reading must see the state its first one left; and a group
          // never reaches the cap, so no state in it can be evicted and reused meanwhile.
          if (inGroup.has(e.device) || group.length >= table.maxDevices - 1) flush();
          const a = admit(e);
          if (!('entry' in a)) {
            flush();
            subscriber.next(a);
            continue;
          }
          group.push(a);
          inGroup.add(e.device);
        }
        flush();
      }

      return source.subscribe({
        next(input) {
          try {
            if (Array.isArray(input)) stepMany(input as readonly StreamEvent[]);
            else {
              const e = input as StreamEvent;
              if (e.kind !== 'reading') subscriber.next(e);
              else {
                const a = admit(e);
                subscriber.next('entry' in a ? stepOne(a) : a);
              }
            }
          } catch (err) {
            // A bug or an unexpected model error must not end the stream; say which message.
            const e = (Array.isArray(input) ? input[0] : input) as StreamEvent | undefined;
            if (e && !Array.isArray(input)) {
              countDeadLetter(counters, 'step-error');
              subscriber.next(deadLetter(e.origin, 'step-error', String((err as Error)?.message ?? err), 'device' in e ? e.device : undefined));
            } else subscriber.error(err);
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
