// Model offers in the flow, and the model on probation after a swap (issue 13). An offer
// replaces the model between two readings, so every reading is predicted by exactly one
// model. While the new model is on probation (probation.ts) it steps one reading at a time;
// a throw, a non-finite or an implausible output rolls back to the last committed model,
// and the reading that failed is predicted again by it.
import type { StreamCounters } from './counters.js';
import type { DeviceTable } from './device-table.js';
import type { Emit, ModelOfferEvent, ModelStatusEvent, Origin } from './events.js';
import type { Accepted, ModelSlot } from './model-slot.js';
import type { Pending } from './reading-admission.js';
import type { ReadingStepper } from './reading-step.js';
import { isWindowSession } from '../runtime/session-window.js';

interface Failure {
  readonly code: string;
  readonly reason: string;
}

export class ModelSwaps {
  constructor(
    private readonly slot: ModelSlot,
    private readonly table: DeviceTable,
    private readonly stepper: ReadingStepper,
    private readonly counters: StreamCounters,
    private readonly emit: Emit,
  ) {}

  offer(e: ModelOfferEvent): void {
    const { slot, counters } = this;
    const r = e.result;
    if (!r.ok) {
      counters.modelRejects++;
      this.emitStatus({ status: 'rejected', code: r.code, reason: r.message, origin: e.origin });
      return;
    }
    const about = { name: r.model.name, version: r.model.modelVersion, sha256: r.sha256, keyId: r.keyId, origin: e.origin };
    const verdict = slot.judge(r);
    if (!verdict.accept) {
      if (!verdict.unchanged) counters.modelRejects++;
      this.emitStatus({ status: verdict.unchanged ? 'unchanged' : 'rejected', code: verdict.code, reason: verdict.message, ...about });
      return;
    }
    // With anomaly scoring on, every model must bring its scale (outputs.anomaly).
    const noScale = this.stepper.anomaly?.refuses(r.model);
    if (noScale) {
      counters.modelRejects++;
      this.emitStatus({ status: 'rejected', code: 'no-anomaly-scale', reason: `${noScale}; this runtime scores anomalies (--anomaly)`, ...about });
      return;
    }
    let a: Accepted;
    try {
      a = slot.accept(r);
    } catch (err) {
      counters.modelRejects++;
      this.emitStatus({ status: 'rejected', code: 'session-error', reason: `cannot load the pushed model: ${String((err as Error)?.message ?? err)}`, ...about });
      return;
    }
    counters.swaps++;
    counters.swapResets += this.table.swapSession(slot.session, a.keepStates);
    const superseded = a.supersedes ? { supersedes: { name: a.supersedes.name, version: a.supersedes.version } } : {};
    this.emitStatus({ status: 'accepted', statesKept: a.keepStates, statesReason: a.statesReason, ...(a.committed ? {} : { probation: slot.limits }), ...superseded, ...about });
    if (a.committed) this.emitStatus({ status: 'committed', ...about });
  }

  // A model on probation steps one reading at a time, so a failure is caught before
  // anything is emitted for it: a throw, a non-finite output or one implausible for the
  // model's training targets rolls back, and the restored model predicts the reading.
  // So no implausible prediction of a model on probation is ever published.
  stepOnProbation(p: Pending): void {
    const { slot, stepper } = this;
    stepper.load(p);
    const s = slot.session;
    let why: Failure | null = null;
    let y: Float32Array | null = null;
    try {
      if (isWindowSession(s)) {
        // A reading that does not end a window has no result to judge yet.
        y = new Float32Array(s.outputSize);
        if (!s.window.push(p.entry.state, stepper.x, p.event.reading.seq, y)) return this.emit(stepper.inWindow(p));
      } else y = s.step(p.entry.state, stepper.x, new Float32Array(s.outputSize));
      const bad = slot.implausible(y, stepper.x);
      if (bad) why = { code: bad.code, reason: `${bad.reason}, for a reading of device ${p.event.device}` };
    } catch (err) {
      why = { code: 'step-error', reason: `step threw for a reading of device ${p.event.device}: ${String((err as Error)?.message ?? err)}` };
    }
    if (!why) {
      this.emit(stepper.finish(p, y!, isWindowSession(s) ? stepper.windowSeqs(p) : undefined));
      if (slot.passed(p.event.device)) this.emitStatus({ status: 'committed', name: slot.model.name, version: slot.model.modelVersion, ...(slot.running.sha256 ? { sha256: slot.running.sha256 } : {}), origin: { receivedAt: p.event.origin.receivedAt } });
      return;
    }
    this.rollBack(why, p.event.origin);
    this.emit(stepper.step({ ...p, fresh: true }));
  }

  // The states the failed model left behind are not trusted (they may hold
  // Infinity): every device starts again from a zero state of the restored model.
  private rollBack(why: Failure, at: Origin): void {
    const { failed, published } = this.slot.rollBack();
    this.counters.rollbacks++;
    this.counters.swapResets += this.table.swapSession(this.slot.session, false);
    this.emitStatus({ status: 'rolled-back', name: failed.name, version: failed.version, sha256: failed.sha256, ...why, statesKept: false, publishedOnProbation: published, origin: { receivedAt: at.receivedAt } });
  }

  private emitStatus(e: Omit<ModelStatusEvent, 'kind' | 'running'>): void {
    const { name, version, sha256 } = this.slot.running;
    this.emit({ kind: 'model-status', running: sha256 ? { name, version, sha256 } : { name, version }, ...e });
  }
}
