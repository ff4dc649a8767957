// What a reading's `seq` means for its device, with firmware that reboots, networks that
// reorder and redeliver, and publishers that lie (issue 12). `classifySeq` is the whole
// rule set, pure; `SeqHistory` is the bounded per-device memory it reads, updated with
// `record` once the caller has acted on the verdict. The rules, in order:
//   no history yet                        -> first          (new epoch)
//   gap longer than resetAfterMs          -> gap-reset      (new epoch, whatever the seq)
//   no seq                                -> unsequenced    (stepped, nothing remembered)
//   seq ahead by 1..maxJump               -> next           (seq − last − 1 readings missed)
//   seq ahead by more than maxJump        -> jump-untrusted (the window does not move),
//     unless the previous reading was such a jump and this one follows it within the
//     window                              -> jump-confirmed (new epoch at the new seq)
//   seq not ahead, but the reading's own ts is newer than the newest reading's
//                                         -> reboot         (new epoch; redeliveries and
//                                            reordered readings carry their older ts)
//   seq seen within the last `window`     -> duplicate
//   seq within the window, not seen       -> late           (seen now: a copy is a duplicate)
//   seq at or more than `window` below    -> reboot         (new epoch)

export interface SequenceRules {
  /** Recent seqs remembered per device (bits), 1..MAX_SEQ_WINDOW. */
  readonly window: number;
  /** A seq further ahead of the last than this is not trusted on its own. */
  readonly maxJump: number;
  /** A gap (ms) longer than this starts a new epoch. 0: never. */
  readonly resetAfterMs: number;
}

export const DEFAULT_SEQ_WINDOW = 256;
/** 10 000 readings: almost 14 h at one reading per 5 s. */
export const DEFAULT_MAX_SEQ_JUMP = 10_000;
export const MAX_SEQ_WINDOW = 65_536;

export type SeqVerdict =
  | 'first' | 'gap-reset' | 'unsequenced' | 'next' | 'jump-untrusted' | 'jump-confirmed'
  | 'reboot' | 'duplicate' | 'late';

/** Verdicts that start a new epoch: the device state is reset before this reading is stepped. */
export function startsEpoch(v: SeqVerdict): boolean {
  return v === 'first' || v === 'gap-reset' || v === 'reboot' || v === 'jump-confirmed';
}

/** Verdicts whose reading is stepped (the others are dropped or dead-lettered). */
export function isStepped(v: SeqVerdict): boolean {
  return v !== 'duplicate' && v !== 'late' && v !== 'jump-untrusted';
}

/** One reading as the rules see it. */
export interface SeqInput {
  readonly seq: number | undefined;
  /** The reading's own ts (ms), when its payload had one. */
  readonly ts: number | undefined;
  /** ms: its ts, else its arrival time. */
  readonly time: number;
}

/**
 * A device's recent sequence: ⌈window/32⌉ words of bits plus a few numbers, whatever the
 * seq values (32 bytes of bits for the default window of 256).
 */
export class SeqHistory {
  /** Highest trusted seq in this epoch, -1 before any. */
  last = -1;
  /** time of the newest stepped reading, NaN before any. */
  lastTime = NaN;
  /** Own ts of the reading that set `last`, NaN when it had none. */
  lastTs = NaN;
  /** seq of the untrusted jump just seen, -1 when the previous reading was not one. */
  jumpSeq = -1;
  /** Bit (s mod window): seq s was seen, for s in (last − window, last]: words[base, base + n). */
  private readonly seen: Uint32Array;
  private readonly base: number;
  private readonly n: number;

  /** `words`: a block to keep the bits in from `base` on (many histories share one), else its own. */
  constructor(readonly window: number, words?: Uint32Array, base = 0) {
    this.n = Math.ceil(window / 32);
    this.seen = words ?? new Uint32Array(this.n);
    this.base = words ? base : 0;
    if (this.base + this.n > this.seen.length) throw new RangeError(`a seq history of window ${window} needs ${this.n} words from ${base}, the block has ${this.seen.length}`);
  }

  /** True when `seq` (within the window below or at `last`) was seen. */
  has(seq: number): boolean {
    const b = seq % this.window;
    return (this.seen[this.base + (b >>> 5)] & (1 << (b & 31))) !== 0;
  }

  /** The seen-bits words, for checkpoints: a view of the live words, not a copy (read, never write). */
  get words(): Uint32Array {
    return this.seen.subarray(this.base, this.base + this.n);
  }

  /**
   * Back to a saved history (a checkpoint): `bits` of another window size are dropped and
   * only `last` is marked seen, so redeliveries of older readings then count as late.
   */
  restore(saved: { readonly last: number; readonly lastTime: number; readonly lastTs: number; readonly bits?: Uint32Array }): void {
    this.clear();
    this.last = saved.last;
    this.lastTime = saved.lastTime;
    this.lastTs = saved.lastTs;
    if (saved.bits && saved.bits.length === this.n) this.seen.set(saved.bits, this.base);
    else if (saved.last >= 0) this.mark(saved.last);
  }

  /** Forget everything: the next reading is a `first`. */
  clear(): void {
    this.last = -1;
    this.lastTime = NaN;
    this.lastTs = NaN;
    this.jumpSeq = -1;
    this.seen.fill(0, this.base, this.base + this.n);
  }

  /** Update the history for a reading that got verdict `v` (the caller has acted on it). */
  record(v: SeqVerdict, r: SeqInput): void {
    if (v === 'jump-untrusted') {
      this.jumpSeq = r.seq!;
      return;
    }
    this.jumpSeq = -1;
    if (v === 'duplicate') return;
    if (v === 'late') return this.mark(r.seq!);
    if (startsEpoch(v)) {
      this.seen.fill(0, this.base, this.base + this.n);
      this.last = -1;
      this.lastTs = NaN;
    }
    this.lastTime = r.time;
    if (r.seq === undefined) return;
    if (this.last >= 0) {
      // Clear the bits of the seqs skipped between last and seq: they leave the window's past.
      const skipped = Math.min(r.seq - this.last - 1, this.window);
      for (let s = this.last + 1, k = 0; k < skipped; s++, k++) this.unmark(s);
    }
    this.last = r.seq;
    this.lastTs = r.ts ?? NaN;
    this.mark(r.seq);
  }

  private mark(seq: number): void {
    const b = seq % this.window;
    this.seen[this.base + (b >>> 5)] |= 1 << (b & 31);
  }

  private unmark(seq: number): void {
    const b = seq % this.window;
    this.seen[this.base + (b >>> 5)] &= ~(1 << (b & 31));
  }
}

/** The rules of the file comment. Pure: reads `h`, changes nothing. */
export function classifySeq(h: SeqHistory, r: SeqInput, rules: SequenceRules): SeqVerdict {
  if (Number.isNaN(h.lastTime)) return 'first';
  if (rules.resetAfterMs > 0 && r.time - h.lastTime > rules.resetAfterMs) return 'gap-reset';
  const seq = r.seq;
  if (seq === undefined) return 'unsequenced';
  if (h.last < 0) return 'next'; // the epoch's readings so far had no seq
  const ahead = seq - h.last;
  if (ahead > rules.maxJump) {
    const follows = h.jumpSeq >= 0 && seq > h.jumpSeq && seq - h.jumpSeq <= h.window;
    return follows ? 'jump-confirmed' : 'jump-untrusted';
  }
  if (ahead > 0) return 'next';
  if (r.ts !== undefined && r.ts > h.lastTs) return 'reboot';
  if (-ahead >= h.window) return 'reboot';
  return h.has(seq) ? 'duplicate' : 'late';
}
