// Reading events -> prediction events: one recurrent state per device, kept in this
// subscription's closure (two subscribers never share state). Accepts single events or
// arrays of events that arrived together; an array is stepped with session.stepBatch,
// which gives exactly the numbers of single steps (batch-stepping.ts).
//
// The parts, each made once per subscription: reading-admission.ts (width, sequence rules,
// input guard), reading-step.ts (one step, its prediction or dead letter), model-swaps.ts
// (hot swap of offered models, probation and rollback) and batch-stepping.ts.
import { Observable, type OperatorFunction } from 'rxjs';
import type { Session } from '../runtime/session.js';
import { AnomalyScoring } from './anomaly-scoring.js';
import { BatchStepper } from './batch-stepping.js';
import type { StreamCounters } from './counters.js';
import { DeviceTable, sequenceRules, type DeviceTableOptions } from './device-table.js';
import type { Emit, StreamEvent } from './events.js';
import { checkGuardOptions, type GuardOptions } from './input-guard.js';
import { ModelSlot, type SwapOptions } from './model-slot.js';
import { ModelSwaps } from './model-swaps.js';
import { ReadingAdmission } from './reading-admission.js';
import { ReadingStepper, stepError } from './reading-step.js';

export interface InferOptions extends DeviceTableOptions, GuardOptions {
  readonly counters: StreamCounters;
  /** Milliseconds, for step latency; latency is not measured without it. */
  readonly clock?: () => number;
  /** Hook for tests: the table this subscription created. */
  readonly onTable?: (table: DeviceTable) => void;
  /** How pushed models (model-offer events) are judged and swapped in. */
  readonly swap?: SwapOptions;
}

export function inferPerDevice(session: Session, options: InferOptions): OperatorFunction<StreamEvent | readonly StreamEvent[], StreamEvent> {
  const { counters, clock } = options;
  sequenceRules(options); // invalid options throw here, when the line is built, not per reading
  checkGuardOptions(options);
  // A starting model without an anomaly scale fails here, when the line is built.
  if (options.anomaly) new AnomalyScoring(session.model, options.anomaly);
  const I = session.inputSize; // a swap never changes the inputs (ModelSlot.judge)
  return (source) =>
    new Observable<StreamEvent>((subscriber) => {
      const emit: Emit = (e) => subscriber.next(e);
      const slot = new ModelSlot(session, options.swap);
      const table = new DeviceTable(session, counters, options);
      options.onTable?.(table);
      const admission = new ReadingAdmission(slot, table, counters, options, I);
      const anomaly = options.anomaly ? new AnomalyScoring(session.model, options.anomaly) : null;
      const stepper = new ReadingStepper(slot, table, counters, clock, I, anomaly);
      const swaps = new ModelSwaps(slot, table, stepper, counters, emit);
      const batches = new BatchStepper({ slot, table, admission, stepper, swaps, counters, clock, emit });

      function stepSingle(e: StreamEvent): void {
        if (e.kind === 'model-offer') return swaps.offer(e);
        if (e.kind !== 'reading') return emit(e);
        const a = admission.admit(e);
        if (!('entry' in a)) emit(a);
        else if (slot.onProbation) swaps.stepOnProbation(a);
        else emit(stepper.step(a));
      }

      return source.subscribe({
        next(input) {
          // An array turns its own errors into dead letters, one per failing message.
          if (Array.isArray(input)) return batches.stepMany(input as readonly StreamEvent[]);
          try {
            stepSingle(input as StreamEvent);
          } catch (err) {
            // A bug or an unexpected model error must not end the stream; say which message.
            emit(stepError(counters, input as StreamEvent, err));
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
