// The sequence rules of src/stream/sequence.ts, as a table: each case plays readings of
// one device through classifySeq + record and lists the verdicts.
import { describe, expect, it } from 'vitest';
import { classifySeq, SeqHistory, type SeqInput, type SeqVerdict, type SequenceRules } from '../../src/stream/sequence.js';

const rules: SequenceRules = { window: 8, maxJump: 100, resetAfterMs: 0 };
type Step = number | undefined | { seq?: number; ts?: number; time?: number };

function play(steps: readonly Step[], r: Partial<SequenceRules> = {}): SeqVerdict[] {
  const all = { ...rules, ...r };
  const h = new SeqHistory(all.window);
  return steps.map((s, i) => {
    const o = typeof s === 'object' ? s : { seq: s };
    const input: SeqInput = { seq: o.seq, ts: o.ts, time: o.time ?? o.ts ?? i };
    const v = classifySeq(h, input, all);
    h.record(v, input);
    return v;
  });
}

const cases: { name: string; steps: Step[]; rules?: Partial<SequenceRules>; want: SeqVerdict[] }[] = [
  { name: 'in order', steps: [0, 1, 2], want: ['first', 'next', 'next'] },
  { name: 'a gap in seq is still next', steps: [0, 5], want: ['first', 'next'] },
  { name: 'redelivery of the last and of an older one', steps: [0, 1, 2, 2, 1], want: ['first', 'next', 'next', 'duplicate', 'duplicate'] },
  { name: 'reorder within the window: late once, then a duplicate', steps: [0, 1, 3, 2, 2, 4], want: ['first', 'next', 'next', 'late', 'duplicate', 'next'] },
  { name: 'a seq skipped long ago and still unseen is late while in the window', steps: [0, 2, 3, 4, 5, 6, 7, 1], want: ['first', 'next', 'next', 'next', 'next', 'next', 'next', 'late'] },
  { name: 'reorder beyond the window reads as a reboot', steps: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1], want: [...Array(13).fill('next').fill('first', 0, 1), 'reboot'] },
  { name: 'reboot: seq far below the last starts a new epoch', steps: [20, 21, 22, 0, 1, 0], rules: { window: 4 }, want: ['first', 'next', 'next', 'reboot', 'next', 'duplicate'] },
  { name: 'reboot detected by a newer ts although the seq was seen', steps: [{ seq: 0, ts: 100 }, { seq: 1, ts: 200 }, { seq: 2, ts: 300 }, { seq: 0, ts: 400 }, { seq: 1, ts: 500 }], want: ['first', 'next', 'next', 'reboot', 'next'] },
  { name: 'a redelivery keeps its old ts: duplicate, not reboot', steps: [{ seq: 0, ts: 100 }, { seq: 1, ts: 200 }, { seq: 0, ts: 100 }, { seq: 1, ts: 200 }], want: ['first', 'next', 'duplicate', 'duplicate'] },
  { name: 'spoofed huge seq is not trusted; the device goes on', steps: [0, 1, Number.MAX_SAFE_INTEGER, 2, 3], want: ['first', 'next', 'jump-untrusted', 'next', 'next'] },
  { name: 'a genuine jump is confirmed by the reading after it', steps: [0, 1, 5000, 5001, 5002, 2], want: ['first', 'next', 'jump-untrusted', 'jump-confirmed', 'next', 'reboot'] },
  { name: 'two unrelated jumps do not confirm each other', steps: [0, 500, 9000, 1], want: ['first', 'jump-untrusted', 'jump-untrusted', 'next'] },
  { name: 'a jump of exactly maxJump is trusted', steps: [0, 100, 201], want: ['first', 'next', 'jump-untrusted'] },
  { name: 'gap reset: any reading after the gap starts an epoch, even a seen seq', steps: [{ seq: 5, time: 0 }, { seq: 6, time: 10 }, { seq: 6, time: 100 }, { seq: 7, time: 110 }], rules: { resetAfterMs: 50 }, want: ['first', 'next', 'gap-reset', 'next'] },
  { name: 'gap reset after a reboot to seq 1', steps: [{ seq: 20, time: 0 }, { seq: 1, time: 3500 }, { seq: 2, time: 3600 }], rules: { resetAfterMs: 2000 }, want: ['first', 'gap-reset', 'next'] },
  { name: 'no gap reset when resetAfterMs is 0', steps: [{ seq: 0, time: 0 }, { seq: 1, time: 1e9 }], want: ['first', 'next'] },
  { name: 'readings without seq are stepped and do not touch the window', steps: [0, undefined, 1, undefined, 1], want: ['first', 'unsequenced', 'next', 'unsequenced', 'duplicate'] },
  { name: 'an epoch started without seq accepts the first seq', steps: [undefined, 7, 7], want: ['first', 'next', 'duplicate'] },
  { name: 'window of 1: only the last seq is remembered', steps: [0, 1, 0], rules: { window: 1 }, want: ['first', 'next', 'reboot'] },
];

describe('classifySeq', () => {
  for (const c of cases) it(c.name, () => expect(play(c.steps, c.rules)).toEqual(c.want));

  it('classifySeq does not change the history', () => {
    const h = new SeqHistory(8);
    h.record('first', { seq: 3, ts: undefined, time: 0 });
    const before = JSON.stringify({ ...h, has: [0, 1, 2, 3].map((s) => h.has(s)) });
    for (const seq of [0, 3, 4, 1e6]) classifySeq(h, { seq, ts: undefined, time: 1 }, rules);
    expect(JSON.stringify({ ...h, has: [0, 1, 2, 3].map((s) => h.has(s)) })).toBe(before);
  });
});

describe('histories sharing one block of words (src/stream/state-pool.ts)', () => {
  it('give the verdicts of histories of their own and never touch each other', () => {
    const steps = [0, 1, 3, 2, 2, 7, 5, 40, 41, 4, 42];
    const window = 64; // two words each
    const block = new Uint32Array(6);
    const shared = [new SeqHistory(window, block, 0), new SeqHistory(window, block, 2), new SeqHistory(window, block, 4)];
    const own = new SeqHistory(window);
    const r = { ...rules, window };
    const verdicts = (h: SeqHistory, offset: number) => steps.map((seq, i) => {
      const input = { seq: seq + offset, ts: undefined, time: i };
      const v = classifySeq(h, input, r);
      h.record(v, input);
      return v;
    });
    const want = verdicts(own, 0);
    expect(verdicts(shared[1], 0)).toEqual(want);
    expect(Array.from(shared[1].words)).toEqual(Array.from(own.words));
    expect(Array.from(block.subarray(0, 2))).toEqual([0, 0]);
    expect(Array.from(block.subarray(4))).toEqual([0, 0]);
    expect(verdicts(shared[0], 7)).toEqual(want); // a neighbour's bits at other positions
    expect(Array.from(shared[1].words)).toEqual(Array.from(own.words));
    shared[0].clear();
    expect(Array.from(block.subarray(0, 2))).toEqual([0, 0]);
    expect(Array.from(shared[1].words)).toEqual(Array.from(own.words));
    expect(() => new SeqHistory(window, block, 5)).toThrow(/needs 2 words from 5/);
  });
});
