// The sessions a stream serves with, around the model lifecycle (model-lifecycle.ts, which
// decides which model runs) and probation (probation.ts, which judges the one on trial):
// the committed model's session, and the candidate's while it is on probation. Signature
// and hash checks happen earlier, at the I/O edge; this decides on verified models only.
// No I/O, no clock.
import { sameInputs } from '../model/same-inputs.js';
import type { Model } from '../model/types.js';
import { createSession, type Session } from '../runtime/session.js';
import type { ModelCandidate } from './events.js';
import { initialState, judgeOffer, runningModel, transition, type LifecycleState, type ModelRef, type OfferVerdict } from './model-lifecycle.js';
import { plausibilityCheck, probationLimits, ProbationTally, type Implausible, type PlausibilityCheck, type ProbationLimits } from './probation.js';

export interface SwapOptions {
  /** Accept a version lower than or equal to the running one (development only). */
  readonly allowDowngrade?: boolean;
  /** Probation of a swapped-in model (defaults: DEFAULT_PROBATION); `minReadings: 0`: none. */
  readonly probation?: Partial<ProbationLimits>;
  /** sha256 (hex) of the running model's bytes, to recognise a redelivery of the same model. */
  readonly runningSha256?: string;
  /** The lifecycle persisted by the store (what committed, the anti-rollback floor), replayed at start. */
  readonly lifecycle?: LifecycleState;
  /**
   * Keep device states over a swap whenever the recurrent shapes match, even when the new
   * model does not declare (meta.continuesFrom) that it continues the running one.
   */
  readonly keepStatesOnSameShape?: boolean;
  /** Tests: how a session is made for an accepted model. */
  readonly createSession?: (model: Model) => Session;
}

/** Why device states were kept or reset on a swap (the model status event's `statesReason`). */
export type StatesReason = 'continues-running' | 'same-shape-allowed' | 'fresh-model' | 'continues-other' | 'shape-changed';

const refOf = (c: ModelCandidate): ModelRef => ({ name: c.model.name, version: c.model.modelVersion, sha256: c.sha256 });

export interface Accepted {
  readonly keepStates: boolean;
  readonly statesReason: StatesReason;
  /** A model that was on probation and is replaced before it committed. */
  readonly supersedes?: ModelRef;
  /** No probation configured: committed at once. */
  readonly committed: boolean;
}

export class ModelSlot {
  private state: LifecycleState;
  private serving: Session;
  private candidate: Session | null = null;
  private check: PlausibilityCheck | null = null;
  private readonly make: (model: Model) => Session;
  private readonly tally: ProbationTally;

  constructor(session: Session, private readonly options: SwapOptions = {}) {
    const start: ModelRef = { name: session.model.name, version: session.model.modelVersion, ...(options.runningSha256 ? { sha256: options.runningSha256 } : {}) };
    this.state = transition(options.lifecycle ?? initialState(start), { type: 'start', serving: start });
    this.serving = session;
    this.make = options.createSession ?? ((m) => createSession(m));
    this.tally = new ProbationTally(probationLimits(options.probation));
  }

  /** The model serving now, by name, version and (when known) sha256. */
  get running(): ModelRef {
    return runningModel(this.state);
  }

  get session(): Session {
    return this.candidate ?? this.serving;
  }

  get model(): Model {
    return this.session.model;
  }

  get onProbation(): boolean {
    return this.candidate !== null;
  }

  get limits(): ProbationLimits {
    return this.tally.limits;
  }

  /** The lifecycle state now (what the store persists). */
  get lifecycle(): LifecycleState {
    return this.state;
  }

  /** Whether `c` may replace the running model, and if not, why. */
  judge(c: ModelCandidate): OfferVerdict {
    return judgeOffer(this.state, { candidate: refOf(c), sameInputs: sameInputs(c.model, this.model), allowDowngrade: this.options.allowDowngrade });
  }

  /** Run `c` from now on (on probation unless there is none). */
  accept(c: ModelCandidate): Accepted {
    const session = this.make(c.model); // may throw: the caller rejects the offer then
    const running = runningModel(this.state);
    const statesReason = this.statesRule(session, running.sha256);
    const supersedes = this.state.probation ?? undefined;
    this.state = transition(this.state, { type: 'accept', model: refOf(c) });
    this.candidate = session;
    this.check = plausibilityCheck(c.model, this.tally.limits.zLimit);
    this.tally.clear();
    const committed = !this.tally.active;
    if (committed) this.commit();
    const keepStates = statesReason === 'continues-running' || statesReason === 'same-shape-allowed';
    return { keepStates, statesReason, committed, ...(supersedes ? { supersedes } : {}) };
  }

  private statesRule(next: Session, runningSha256: string | undefined): StatesReason {
    // The plan's shape key: device states can only carry over when the recurrent layers match.
    if (next.plan.shapeKey !== this.session.plan.shapeKey) return 'shape-changed';
    const from = next.model.meta?.continuesFrom;
    if (typeof from === 'string' && runningSha256 !== undefined && from === runningSha256) return 'continues-running';
    if (this.options.keepStatesOnSameShape) return 'same-shape-allowed';
    return typeof from === 'string' ? 'continues-other' : 'fresh-model';
  }

  /** Why an output of the model on probation fails it, or null. */
  implausible(y: Float32Array, x: ArrayLike<number>): Implausible | null {
    return this.check ? this.check(y, x) : null;
  }

  /** A clean step of `device` by the model on probation; true when that commits it. */
  passed(device: string): boolean {
    if (!this.candidate || !this.tally.record(device)) return false;
    this.commit();
    return true;
  }

  private commit(): void {
    this.state = transition(this.state, { type: 'commit' });
    this.serving = this.candidate!;
    this.candidate = null;
    this.check = null;
  }

  /** The model on probation failed: back to the committed one; this version is refused from now on. */
  rollBack(): { readonly failed: ModelRef; readonly published: number } {
    const failed = this.state.probation;
    if (!failed || !this.candidate) throw new Error('rollBack: no model on probation');
    this.state = transition(this.state, { type: 'roll-back' });
    this.candidate = null;
    this.check = null;
    return { failed, published: this.tally.published };
  }
}
