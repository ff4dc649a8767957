// `edge-rnn train --search BUDGET / --search-trials N`: under a seed and a trial cap two runs
// write the same model bytes and the same card apart from the seconds; the card's table
// marks the best (within 1 % of the lowest score) as chosen and the model is that trial's; trial 1 is plain `train`;
// flags given explicitly are held fixed; a zero budget still runs the first trial.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseBudget } from '../../src/cli/commands/train-search.js';
import { main } from '../../src/cli/main.js';
import { decodeModel } from '../../src/model/index.js';

let dir: string;
let stderr: string, stdout: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-rnn-train-search-'));
  stderr = stdout = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
});
afterEach(() => vi.restoreAllMocks());

function csv(): string {
  const path = join(dir, 'd.csv');
  const rows = Array.from({ length: 160 }, (_, t) => [t % 2 ? 'x' : 'y', (20 + Math.sin(t / 9)).toFixed(3), (50 + Math.cos(t / 13)).toFixed(3), Math.sin(t / 9) > 0.5 ? 1 : 0]);
  writeFileSync(path, ['dev,a,b,label', ...rows.map((r) => r.join(','))].join('\n') + '\n');
  return path;
}

/** Trains into dir/sub/m.msgpack (same file name every time, so the cards can be compared). */
async function train(sub: string, extra: string[], task = ['--target', 'a']): Promise<{ code: number; model: Buffer; card: Record<string, any>; md: string }> {
  mkdirSync(join(dir, sub), { recursive: true });
  const out = join(dir, sub, 'm.msgpack');
  const code = await main(['train', '--data', csv(), '--inputs', 'a,b', ...task, '--device-column', 'dev',
    // Hidden 4 and 2 lanes keep each trial small (the hidden axis is tested in search.test.ts).
    '--epochs', '2', '--hidden', '4', '--batch', '2', '--seed', '3', '--no-progress', '--out', out, ...(task[0] === '--target' ? ['--horizon', '2'] : []), ...extra]);
  if (code !== 0) return { code, model: Buffer.alloc(0), card: {}, md: '' };
  return { code, model: readFileSync(out), card: JSON.parse(readFileSync(join(dir, sub, 'm.card.json'), 'utf8')), md: readFileSync(join(dir, sub, 'm.card.md'), 'utf8') };
}

/** The card without its times: JSON seconds fields removed, the Markdown seconds column and total blanked. */
function timeless(card: Record<string, any>): Record<string, any> {
  const c = structuredClone(card);
  delete c.search.seconds;
  for (const t of c.search.trials) delete t.seconds;
  return c;
}
const timelessMd = (md: string) => md.replace(/ in [\d.]+ s/, ' in _ s').replace(/^(\|.*\| )[\d.]+( \| [^|]* \|)$/gm, '$1_$2');

describe('edge-rnn train --search', () => {
  it('is deterministic under --seed and --search-trials: same model bytes, same card but for the seconds', async () => {
    const a = await train('a', ['--search-trials', '3']);
    const b = await train('b', ['--search-trials', '3']);
    expect(a.code).toBe(0);
    expect(b.model.equals(a.model)).toBe(true);
    expect(timeless(b.card)).toEqual(timeless(a.card));
    expect(timelessMd(b.md)).toBe(timelessMd(a.md));
    expect(timelessMd(a.md)).not.toBe(a.md); // the blanking did blank the times
  });

  it('writes the best trial (1 % rule), and trial 1 is what plain train builds', async () => {
    const s = await train('s', ['--search-trials', '4', '--json']);
    const json = JSON.parse(stdout.trim().split('\n').pop()!);
    const trials = s.card.search.trials as { trial: number; score: number; chosen: boolean; cell: string; hidden: number; residual: boolean; lr: number; seqLen: number; valRmse: { a: number } }[];
    expect(trials).toHaveLength(4);
    expect(json.search).toEqual(s.card.search);
    const lowest = trials.reduce((b, t) => (t.score < b.score * 0.99 ? t : b)); // the card's rounded scores
    expect(trials.filter((t) => t.chosen)).toEqual([lowest]);
    expect(s.card.search.chosenTrial).toBe(lowest.trial);
    const model = decodeModel(s.model);
    expect(model.meta!.hyperParameters).toMatchObject({ cell: lowest.cell, hidden: lowest.hidden, lr: lowest.lr, seqLen: lowest.seqLen });
    expect(Boolean(model.outputs.residual)).toBe(lowest.residual);
    expect(s.card.validation.targets[0].rmse).toBe(lowest.valRmse.a);
    expect(s.md).toMatch(/## Search/);
    expect(s.md).toMatch(/\*\*Optimistic:\*\*/);

    const plain = await train('plain', []);
    expect(trials[0]).toMatchObject({ cell: 'lstm', hidden: 4, residual: true, lr: 0.005, seqLen: 50 }); // residual: every target is an input
    expect(trials[0].valRmse.a).toBe(plain.card.validation.targets[0].rmse);
    expect(plain.card.search).toBeUndefined();
  });

  it('holds flags given on the command line fixed', async () => {
    const s = await train('f', ['--search-trials', '4', '--cell', 'gru', '--hidden', '8', '--seq-len', '20']);
    for (const t of s.card.search.trials) expect(t).toMatchObject({ cell: 'gru', hidden: 8, seqLen: 20 });
    expect(new Set(s.card.search.trials.map((t: { lr: number; residual: boolean }) => `${t.lr} ${t.residual}`)).size).toBe(4);
  });
  it('holds --no-residual fixed too', async () => {
    const s = await train('n', ['--search-trials', '3', '--no-residual']);
    expect(s.card.search.trials.map((t: { residual: boolean }) => t.residual)).toEqual([false, false, false]);
    expect(decodeModel(s.model).outputs.residual).toBeUndefined();
  });

  it('searches a classifier on validation loss, without a residual axis', async () => {
    const s = await train('c', ['--search-trials', '3'], ['--label', 'label']);
    expect(s.code).toBe(0);
    const trials = s.card.search.trials as { residual: boolean; bestValLoss: number; score: number; valAccuracy: number; chosen: boolean }[];
    expect(trials).toHaveLength(3);
    for (const t of trials) {
      expect(t.residual).toBe(false);
      expect(t.score).toBe(t.bestValLoss);
      expect(t.valAccuracy).toBeGreaterThanOrEqual(0);
    }
    expect(s.card.search.chosenBy).toMatch(/^score = validation loss; a trial replaces the best so far only if its score is more than 1 % lower$/);
  });

  it('runs the first trial even with a zero budget', async () => {
    const s = await train('z', ['--search', '0']);
    expect(s.code).toBe(0);
    expect(s.card.search.trials).toHaveLength(1);
    expect(s.card.search.budgetSeconds).toBe(0);
  });

  it('refuses a bad budget and --init-from, in one line and without writing a file', async () => {
    expect((await train('e1', ['--search', 'soon'])).code).not.toBe(0);
    expect(stderr).toMatch(/--search.*expected seconds or a duration/);
    expect(existsSync(join(dir, 'e1', 'm.msgpack'))).toBe(false);
    stderr = '';
    const code = (await train('e2', ['--search', '10', '--init-from', join(dir, 'none.msgpack')])).code;
    expect(code).not.toBe(0);
    expect(stderr.trim()).toMatch(/^.*--search cannot be combined with --init-from/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'e2', 'm.msgpack'))).toBe(false);
  });
});

describe('parseBudget', () => {
  it('reads seconds and h/m/s durations', () => {
    expect(parseBudget('90')).toBe(90);
    expect(parseBudget('2.5')).toBe(2.5);
    expect(parseBudget('90s')).toBe(90);
    expect(parseBudget('5m')).toBe(300);
    expect(parseBudget('1m30s')).toBe(90);
    expect(parseBudget('1.5h')).toBe(5400);
  });
  it('refuses anything else', () => {
    for (const bad of ['', 'abc', '-5', '5 m', '5d', '1m30', 'm']) expect(() => parseBudget(bad)).toThrow(/expected seconds or a duration/);
  });
});
