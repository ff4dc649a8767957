// The model a stream serves, and the rules for replacing it with a pushed one: what may
// replace it (same name, same inputs, newer version, not rolled back before), probation
// after a swap, and what to roll back to. Signature and hash checks happen earlier, at
// the I/O edge; this decides on models already verified. No I/O, no clock.
import { isRecurrent, type Model } from '../model/types.js';
import { createSession, type Session } from '../runtime/session.js';
import type { ModelCandidate } from './events.js';

export interface SwapOptions {
  /** Accept a version lower than or equal to the running one (development only). */
  readonly allowDowngrade?: boolean;
  /**
   * Readings a newly swapped-in model must predict (finite output, no throw) before it is
   * kept for good; a failure before that rolls back to the previous model. 0: no probation.
   */
  readonly probation?: number;
  /** sha256 (hex) of the running model's bytes, to recognise a redelivery of the same model. */
  readonly runningSha256?: string;
  /** Versions rolled back earlier (e.g. in a previous run): refused from now on. */
  readonly rolledBack?: Iterable<{ readonly name: string; readonly version: number }>;
  /** Tests: how a session is made for an accepted model. */
  readonly createSession?: (model: Model) => Session;
}

export const DEFAULT_PROBATION = 100;

export type OfferVerdict =
  | { readonly accept: true }
  /** `unchanged`: the running model itself again (a retained message redelivered on reconnect). */
  | { readonly accept: false; readonly code: string; readonly message: string; readonly unchanged?: boolean };

/** The recurrent layers' types and hidden sizes: device states carry over a swap only when these match. */
export function recurrentShape(model: Model): string {
  return model.layers.filter(isRecurrent).map((l) => `${l.type}:${l.hiddenSize}`).join(',');
}

/** Same input names in the same order: the devices' readings mean the same to both models. */
export function sameInputs(a: Model, b: Model): boolean {
  const x = a.inputs.names;
  const y = b.inputs.names;
  return x.length === y.length && x.every((n, i) => n === y[i]);
}

const versionKey = (name: string, version: number) => `${name}@${version}`;

interface Serving {
  readonly session: Session;
  readonly sha256: string | undefined;
}

export class ModelSlot {
  private current: Serving;
  /** The model to roll back to while `current` is on probation. */
  private fallback: Serving | null = null;
  private probationLeft = 0;
  private readonly rolledBack = new Set<string>();
  private readonly make: (model: Model) => Session;
  readonly probation: number;

  constructor(session: Session, private readonly options: SwapOptions = {}) {
    this.current = { session, sha256: options.runningSha256 };
    this.probation = Math.max(0, options.probation ?? DEFAULT_PROBATION);
    this.make = options.createSession ?? ((m) => createSession(m));
    for (const r of options.rolledBack ?? []) this.rolledBack.add(versionKey(r.name, r.version));
  }

  get session(): Session {
    return this.current.session;
  }

  get model(): Model {
    return this.current.session.model;
  }

  get onProbation(): boolean {
    return this.probationLeft > 0;
  }

  /** Whether `c` may replace the running model, and if not, why (in the order checked). */
  judge(c: ModelCandidate): OfferVerdict {
    const running = this.model;
    const m = c.model;
    if (this.current.sha256 !== undefined && c.sha256 === this.current.sha256) {
      return { accept: false, code: 'unchanged', message: `${m.name} v${m.modelVersion} is already running`, unchanged: true };
    }
    if (this.rolledBack.has(versionKey(m.name, m.modelVersion))) {
      return { accept: false, code: 'rolled-back-before', message: `${m.name} v${m.modelVersion} failed its probation earlier and was rolled back` };
    }
    if (m.name !== running.name) {
      return { accept: false, code: 'name-mismatch', message: `pushed model is "${m.name}", the running model is "${running.name}"; versions only compare within one name` };
    }
    if (!sameInputs(m, running)) {
      return { accept: false, code: 'incompatible-inputs', message: `pushed model takes inputs [${m.inputs.names.join(', ')}], the devices send [${running.inputs.names.join(', ')}]` };
    }
    if (m.modelVersion <= running.modelVersion && !this.options.allowDowngrade) {
      return { accept: false, code: 'not-newer', message: `pushed v${m.modelVersion} is not newer than the running v${running.modelVersion} (anti-rollback)` };
    }
    return { accept: true };
  }

  /** Serve `c` from now on; returns whether device states may be kept (same recurrent shapes). */
  accept(c: ModelCandidate): { readonly keepStates: boolean } {
    const session = this.make(c.model); // may throw: the caller rejects the offer then
    const keepStates = recurrentShape(c.model) === recurrentShape(this.model);
    // A model swapped in while another is still on probation: roll back past both.
    if (this.probation > 0) this.fallback = this.onProbation ? this.fallback : this.current;
    this.current = { session, sha256: c.sha256 };
    this.probationLeft = this.probation;
    return { keepStates };
  }

  /** One reading predicted fine by the model on probation; true when that ends its probation. */
  passed(): boolean {
    if (this.probationLeft === 0) return false;
    this.probationLeft--;
    if (this.probationLeft > 0) return false;
    this.fallback = null;
    return true;
  }

  /** The model on probation failed: back to the previous one, and never accept this version again. */
  rollBack(): { readonly failed: Model } {
    if (!this.fallback) throw new Error('rollBack: no model on probation');
    const failed = this.model;
    this.rolledBack.add(versionKey(failed.name, failed.modelVersion));
    this.current = this.fallback;
    this.fallback = null;
    this.probationLeft = 0;
    return { failed };
  }
}
