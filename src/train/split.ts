// The train / validation split of one device's rows as a role per row: training, validation,
// or gap (dropped, so that no training target reaches into validation). Tail mode: the last
// part is validation (after an optional gap). Blocks mode: the series is cut into N equal
// segments, each ending in a validation block with a gap on both sides, so validation
// samples the whole recording (rare events, seasons) without leakage.

export const ROLE_TRAIN = 0;
export const ROLE_VAL = 1;
export const ROLE_GAP = 2;

export type ValMode = 'tail' | 'blocks';

export interface SplitSpec {
  /** Share of each device's rows that is validation, 0 < f < 1. */
  readonly valFraction: number;
  readonly mode: ValMode;
  /** Blocks mode: validation blocks per device. */
  readonly blocks: number;
  /** Rows dropped between a training part and a validation part (each side of a block). */
  readonly gap: number;
  /** Blocks mode: each validation block ends this fraction of a segment before the segment's end (0: at its end). */
  readonly phase?: number;
}

/** The block phases blocks mode tries for a classification (see chooseBlockPhase). */
export const BLOCK_PHASES: readonly number[] = [0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875];

export const DEFAULT_VAL_BLOCKS = 5;

/** The default gap: none in tail mode (targets already stop at the split), else max(seqLen, horizon). */
export function defaultValGap(mode: ValMode, seqLen: number, horizon: number): number {
  return mode === 'tail' ? 0 : Math.max(seqLen, horizon);
}

/** Role of each of n rows (ROLE_TRAIN, ROLE_VAL, ROLE_GAP). */
export function splitRoles(n: number, spec: SplitSpec): Uint8Array {
  const role = new Uint8Array(n); // ROLE_TRAIN
  const V = Math.floor(n * spec.valFraction);
  const mark = (from: number, to: number, r: number) => role.fill(r, Math.max(0, from), Math.max(0, Math.min(n, to)));
  if (spec.mode === 'tail') {
    mark(n - V, n, ROLE_VAL);
    mark(n - V, n - V + spec.gap, ROLE_GAP);
    return role;
  }
  const N = spec.blocks, phase = spec.phase ?? 0;
  for (let i = 0; i < N; i++) {
    const end = Math.round((n * (i + 1 - phase)) / N);
    const v = Math.floor((V * (i + 1)) / N) - Math.floor((V * i) / N);
    mark(end - v, end, ROLE_VAL);
    mark(end - v - spec.gap, end - v, ROLE_GAP);
    if (end < n) mark(end, end + spec.gap, ROLE_GAP);
  }
  return role;
}

/**
 * Blocks mode for a classification: the phase (of BLOCK_PHASES) at which the most classes
 * have rows in both training and validation, pooled over devices (the first on ties), so
 * that a rare class is both learnt and measured where the recording allows it. It looks at
 * the labels only, never at a model. `classes[g][t]` is the class of row t of device g.
 */
export function chooseBlockPhase(classes: readonly Int32Array[], C: number, spec: SplitSpec): number {
  let best = 0, bestScore = -1;
  for (const phase of BLOCK_PHASES) {
    const tr = new Float64Array(C), va = new Float64Array(C);
    for (const cls of classes) {
      const role = splitRoles(cls.length, { ...spec, phase });
      for (let t = 0; t < cls.length; t++) {
        if (role[t] === ROLE_TRAIN) tr[cls[t]]++;
        else if (role[t] === ROLE_VAL) va[cls[t]]++;
      }
    }
    let score = 0;
    for (let c = 0; c < C; c++) if (tr[c] > 0 && va[c] > 0) score++;
    if (score > bestScore) { best = phase; bestScore = score; }
  }
  return best;
}

/** Index of the last training row (-1: none). */
export function lastTrainRow(role: Uint8Array): number {
  for (let t = role.length - 1; t >= 0; t--) if (role[t] === ROLE_TRAIN) return t;
  return -1;
}

/** Whether step t (input row t, target row t + shift) is a training step: both rows training rows. */
export function trainStepAt(role: Uint8Array, shift: number, t: number): boolean {
  return t + shift < role.length && role[t] === ROLE_TRAIN && role[t + shift] === ROLE_TRAIN;
}

/** Whether step t is a validation step: input and target rows both validation rows. */
export function valStepAt(role: Uint8Array, shift: number, t: number): boolean {
  return t + shift < role.length && role[t] === ROLE_VAL && role[t + shift] === ROLE_VAL;
}

/**
 * The split a model was trained with, from its meta.dataset (valMode, valBlocks, valGap,
 * valPhase as `train` writes them; absent: the tail split without a gap).
 */
export function splitFromMeta(dataset: unknown, valFraction: number): SplitSpec {
  const d = (dataset ?? {}) as { valMode?: unknown; valBlocks?: unknown; valGap?: unknown; valPhase?: unknown };
  const mode: ValMode = d.valMode === 'blocks' ? 'blocks' : 'tail';
  const num = (v: unknown, dflt: number) => (typeof v === 'number' && Number.isFinite(v) ? v : dflt);
  return { valFraction, mode, blocks: num(d.valBlocks, DEFAULT_VAL_BLOCKS), gap: num(d.valGap, 0), ...(num(d.valPhase, 0) ? { phase: num(d.valPhase, 0) } : {}) };
}
