// One admitted reading stepped by the model serving now: its prediction, or a dead letter
// when the output or the state is not finite. The input buffer is allocated once per
// subscription; only the output, which the prediction event carries away, is new per step.
import type { AnomalyScoring } from './anomaly-scoring.js';
import { countDeadLetter, type StreamCounters } from './counters.js';
import type { DeviceTable } from './device-table.js';
import { deadLetter, type PredictionEvent, type StreamEvent } from './events.js';
import type { ModelSlot } from './model-slot.js';
import type { Pending } from './reading-admission.js';
import { isWindowSession } from '../runtime/session-window.js';
import type { WindowSeqs } from '../protocol/prediction.js';

function allFinite(y: Float32Array): boolean {
  for (let o = 0; o < y.length; o++) if (!Number.isFinite(y[o])) return false;
  return true;
}

export class ReadingStepper {
  /** The reading being stepped, as f32 [inputSize]. */
  readonly x: Float32Array;

  constructor(
    private readonly slot: ModelSlot,
    private readonly table: DeviceTable,
    private readonly counters: StreamCounters,
    /** Milliseconds, for step latency; not measured without it. */
    private readonly clock: (() => number) | undefined,
    inputSize: number,
    /** Scores each prediction's reading against its forecast (run --anomaly); null: off. */
    readonly anomaly: AnomalyScoring | null = null,
  ) {
    this.x = new Float32Array(inputSize);
  }

  /** The reading's values into `x` (f32, as `predict` feeds it). */
  load(p: Pending): void {
    const values = p.event.reading.values;
    const x = this.x;
    for (let i = 0; i < x.length; i++) x[i] = values[i];
  }

  step(p: Pending): StreamEvent {
    this.load(p);
    const s = this.slot.session;
    const t0 = this.clock?.();
    if (isWindowSession(s)) {
      // Issue 19: a reading goes into its device's window; only the one ending a hop has a result.
      const y = new Float32Array(s.outputSize);
      const due = s.window.push(p.entry.state, this.x, p.event.reading.seq, y);
      if (t0 !== undefined) this.counters.stepLatency.add(this.clock!() - t0);
      return due ? this.finish(p, y, this.windowSeqs(p)) : this.inWindow(p);
    }
    const y = s.step(p.entry.state, this.x, new Float32Array(s.outputSize));
    if (t0 !== undefined) this.counters.stepLatency.add(this.clock!() - t0);
    return this.finish(p, y);
  }

  /** The window that the reading of `p` just ended (a windowed session only). */
  windowSeqs(p: Pending): WindowSeqs {
    const s = this.slot.session;
    const first = isWindowSession(s) ? s.window.firstSeq(p.entry.state) : undefined;
    return { first: first ?? null, last: p.event.reading.seq ?? null };
  }

  /** A reading taken into a window that it does not end: counted, acknowledged, nothing published. */
  inWindow(p: Pending): StreamEvent {
    this.counters.inWindow++;
    p.entry.steps++;
    return { kind: 'dropped', reason: 'in-window', device: p.event.device, reading: p.event.reading, origin: p.event.origin };
  }

  // A prediction for a stepped reading, or a dead letter if the output or the state is
  // not finite (the state is then reset, else that device would give NaN forever).
  finish(p: Pending, y: Float32Array, window?: WindowSeqs): StreamEvent {
    const { counters } = this;
    const badOutput = !allFinite(y);
    if (badOutput || !allFinite(p.entry.state.buffer)) {
      this.table.reset(p.event.device);
      counters.nonFiniteResets++;
      const code = badOutput ? 'non-finite-output' : 'non-finite-state';
      countDeadLetter(counters, code);
      return deadLetter(p.event.origin, code, `the model ${badOutput ? 'output' : 'state'} is not finite for this reading; the device state was reset`, p.event.device);
    }
    counters.predictions++;
    const steps = ++p.entry.steps;
    const model = this.slot.model;
    const anomaly = this.anomaly?.score(model, p.entry, p.event.reading.values, y);
    if (anomaly?.flag) counters.anomalyFlags++;
    const e: PredictionEvent = { kind: 'prediction', device: p.event.device, reading: p.event.reading, y, fresh: p.fresh || steps === 1, steps, model, anomaly, ...(window ? { window } : {}), origin: p.event.origin };
    return e;
  }
}

/** The dead letter for a message whose step (or bookkeeping) threw. */
export function stepError(counters: StreamCounters, e: StreamEvent, err: unknown): StreamEvent {
  countDeadLetter(counters, 'step-error');
  return deadLetter(e.origin, 'step-error', String((err as Error)?.message ?? err), 'device' in e ? e.device : undefined);
}
