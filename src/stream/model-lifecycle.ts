// Which model runs (issue 13): one pure state machine for pushed models, shared by the
// stream (ModelSlot, which holds the sessions) and the store (src/io/model-store.ts, which
// persists every transition and replays it at start). No I/O, no clock, plain data.
//
//   start ──▶ serving (committed)
//   accept ──▶ on probation: the candidate runs, `serving` is what a failure returns to
//     accept again ──▶ the newer candidate replaces the one on probation (superseded:
//                      neither committed nor refused later); `serving` stays the target
//     commit ──▶ the candidate is `serving`; the floor rises to its version
//     roll back ──▶ `serving` runs again; the candidate's version is refused from now on
//   start again ──▶ a probation left open did not commit: `serving` runs
//
// The anti-rollback floor (highest committed version and every rolled-back version, per
// name) is part of the state, so it survives restarts even without an envelope store.

export interface ModelRef {
  readonly name: string;
  readonly version: number;
  /** sha256 (hex) of the model bytes, when known. */
  readonly sha256?: string;
}

export interface NameFloor {
  /** The highest version committed for this name (and its sha256, to know a redelivery of it). */
  readonly committed?: { readonly version: number; readonly sha256?: string };
  readonly rolledBack: readonly number[];
}

export interface LifecycleState {
  /** The last committed model: what runs when nothing is on probation, and what a failure returns to. */
  readonly serving: ModelRef;
  /** Accepted, not committed yet; runs instead of `serving` while set. */
  readonly probation: ModelRef | null;
  readonly floor: Readonly<Record<string, NameFloor>>;
}

export type Transition =
  | { readonly type: 'start'; readonly serving: ModelRef }
  | { readonly type: 'accept'; readonly model: ModelRef }
  | { readonly type: 'commit' }
  | { readonly type: 'roll-back' };

export type OfferVerdict =
  | { readonly accept: true }
  /** `unchanged`: the running model itself again (a retained message redelivered on reconnect). */
  | { readonly accept: false; readonly code: string; readonly message: string; readonly unchanged?: boolean };

export class LifecycleError extends Error {
  override readonly name = 'LifecycleError';
}

export function initialState(serving: ModelRef): LifecycleState {
  return { serving, probation: null, floor: {} };
}

/** The model that runs now. */
export function runningModel(s: LifecycleState): ModelRef {
  return s.probation ?? s.serving;
}

/** Whether `version` of `name` was rolled back before (in this run or an earlier one). */
export function wasRolledBack(s: LifecycleState, name: string, version: number): boolean {
  return s.floor[name]?.rolledBack.includes(version) ?? false;
}

function withFloor(s: LifecycleState, name: string, change: (f: NameFloor) => NameFloor): LifecycleState['floor'] {
  return { ...s.floor, [name]: change(s.floor[name] ?? { rolledBack: [] }) };
}

/** The state after `t`; a transition that does not apply (commit without probation) throws. */
export function transition(s: LifecycleState, t: Transition): LifecycleState {
  switch (t.type) {
    case 'start':
      // A model still on probation when the process ended never committed: it is dropped.
      return { serving: t.serving, probation: null, floor: s.floor };
    case 'accept':
      return { ...s, probation: t.model };
    case 'commit': {
      const p = s.probation;
      if (!p) throw new LifecycleError('commit: no model on probation');
      const floor = withFloor(s, p.name, (f) => (f.committed && f.committed.version >= p.version ? f : { ...f, committed: { version: p.version, ...(p.sha256 ? { sha256: p.sha256 } : {}) } }));
      return { serving: p, probation: null, floor };
    }
    case 'roll-back': {
      const p = s.probation;
      if (!p) throw new LifecycleError('roll-back: no model on probation');
      const floor = withFloor(s, p.name, (f) => (f.rolledBack.includes(p.version) ? f : { ...f, rolledBack: [...f.rolledBack, p.version] }));
      return { ...s, probation: null, floor };
    }
  }
}

export interface OfferFacts {
  readonly candidate: ModelRef;
  /** Same input names in the same order as the running model. */
  readonly sameInputs: boolean;
  /** Accept versions not newer than the running one or the floor (development only). */
  readonly allowDowngrade?: boolean;
}

/** Whether a verified pushed model may run next, and if not, why (in the order checked). */
export function judgeOffer(s: LifecycleState, f: OfferFacts): OfferVerdict {
  const running = runningModel(s);
  const c = f.candidate;
  if (running.sha256 !== undefined && c.sha256 === running.sha256) {
    return { accept: false, code: 'unchanged', message: `${c.name} v${c.version} is already running`, unchanged: true };
  }
  if (wasRolledBack(s, c.name, c.version)) {
    return { accept: false, code: 'rolled-back-before', message: `${c.name} v${c.version} failed its probation earlier and was rolled back` };
  }
  if (c.name !== running.name) {
    return { accept: false, code: 'name-mismatch', message: `pushed model is "${c.name}", the running model is "${running.name}"; versions only compare within one name` };
  }
  if (!f.sameInputs) return { accept: false, code: 'incompatible-inputs', message: 'pushed model takes other inputs than the devices send' };
  if (f.allowDowngrade) return { accept: true };
  if (c.version <= running.version) {
    return { accept: false, code: 'not-newer', message: `pushed v${c.version} is not newer than the running v${running.version} (anti-rollback)` };
  }
  // The floor matters after a restart that serves an older model (e.g. --model-store none):
  // below the highest committed version, or that version with other bytes, is refused.
  const top = s.floor[c.name]?.committed;
  if (top && (c.version < top.version || (c.version === top.version && top.sha256 !== undefined && c.sha256 !== top.sha256))) {
    return { accept: false, code: 'not-newer', message: `pushed v${c.version} is below v${top.version}, committed earlier (anti-rollback)` };
  }
  return { accept: true };
}

/** The state read back from JSON; anything malformed reads as null (the caller starts fresh). */
export function parseLifecycleState(doc: unknown): LifecycleState | null {
  const int = (v: unknown): v is number => Number.isSafeInteger(v);
  const isRef = (v: unknown): v is ModelRef => {
    const r = v as Partial<ModelRef> | null;
    return typeof r?.name === 'string' && int(r.version) && (r.sha256 === undefined || typeof r.sha256 === 'string');
  };
  const isFloor = (v: unknown): v is NameFloor => {
    const f = v as Partial<NameFloor> | null;
    return Array.isArray(f?.rolledBack) && f.rolledBack.every(int) && (f.committed === undefined || int(f.committed?.version));
  };
  const d = doc as Partial<LifecycleState> | null;
  if (!isRef(d?.serving) || !(d.probation === null || isRef(d.probation))) return null;
  if (typeof d.floor !== 'object' || d.floor === null || !Object.values(d.floor).every(isFloor)) return null;
  return { serving: d.serving, probation: d.probation, floor: d.floor };
}
