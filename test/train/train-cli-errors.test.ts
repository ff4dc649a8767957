// `edge-rnn train` on bad input: one clear line on stderr, a non-zero exit code, no stack
// trace, and no files written. Plus one small good run writing model, cards and curve.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { decodeModel } from '../../src/model/index.js';

let dir: string;
let stderr: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-rnn-train-'));
  stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

function csv(rows: (string | number)[][], header = 'dev,a,b,label'): string {
  const path = join(dir, 'd.csv');
  writeFileSync(path, [header, ...rows.map((r) => r.join(','))].join('\n') + '\n');
  return path;
}
const good = (n: number) => Array.from({ length: n }, (_, t) => [t % 2 ? 'x' : 'y', Math.sin(t / 3).toFixed(3), Math.cos(t / 5).toFixed(3), t % 7 === 0 ? 1 : 0]);

async function train(data: string, extra: string[] = []): Promise<number> {
  return main(['train', '--data', data, '--inputs', 'a,b', '--target', 'a', '--device-column', 'dev', '--seq-len', '5',
    '--epochs', '2', '--hidden', '4', '--seed', '1', '--no-progress', '--out', join(dir, 'm.msgpack'), ...extra]);
}

function expectCleanError(code: number, pattern: RegExp): void {
  expect(code).not.toBe(0);
  expect(code).not.toBe(70); // 70: unexpected error (with a stack)
  expect(stderr).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(existsSync(join(dir, 'm.msgpack'))).toBe(false);
}

describe('edge-rnn train: bad input', () => {
  it('missing column', async () => {
    expectCleanError(await train(csv(good(60)), ['--inputs', 'a,zz']), /no column "zz"/);
  });
  it('non-numeric cell, with its line', async () => {
    const rows = good(60);
    rows[9][2] = 'abc';
    expectCleanError(await train(csv(rows)), /line 11, column "b": "abc" is not a number/);
  });
  it('too few rows for the window', async () => {
    expectCleanError(await train(csv(good(60)), ['--seq-len', '40']), /device "y" has 30 rows: too few for --seq-len 40/);
  });
  it('constant column (std 0)', async () => {
    const rows = good(60).map((r) => [r[0], r[1], 5, r[3]]);
    expectCleanError(await train(csv(rows)), /input column "b" is constant on the training split \(std 0/);
  });
  it('NaN is refused with its line, unless --drop-invalid', async () => {
    const rows = good(60);
    rows[4][1] = 'NaN';
    rows[7][2] = '';
    expectCleanError(await train(csv(rows)), /line 6, column "a": missing or non-finite value "NaN"; refusing .*--drop-invalid/);
    stderr = '';
    expect(await train(csv(rows), ['--drop-invalid'])).toBe(0);
    const card = JSON.parse(readFileSync(join(dir, 'm.card.json'), 'utf8'));
    expect(card.data.droppedRows).toBe(2);
    expect(card.data.rows).toBe(58);
  });
  it('neither --target nor --label', async () => {
    const code = await main(['train', '--data', csv(good(60)), '--inputs', 'a,b', '--no-progress', '--out', join(dir, 'm.msgpack')]);
    expectCleanError(code, /either --target \(regression\) or --label/);
  });
});

describe('edge-rnn train: a good run', () => {
  it('writes a valid model with meta, the card (md + json) and the SVG curve; --json prints metrics', async () => {
    let stdout = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
    const code = await main(['train', '--data', csv(good(80)), '--inputs', 'a,b', '--label', 'label', '--device-column', 'dev',
      '--seq-len', '5', '--epochs', '2', '--hidden', '4', '--seed', '3', '--no-progress', '--json', '--out', join(dir, 'm.msgpack'), '--license', 'CC0']);
    expect(code).toBe(0);
    const model = decodeModel(readFileSync(join(dir, 'm.msgpack')));
    expect(model.task).toBe('classification');
    expect(model.outputs.labels).toEqual(['0', '1']);
    expect(model.meta).toMatchObject({ license: 'CC0', trainedWith: 'edge-rnn train', hyperParameters: { seed: 3, hidden: 4 } });
    expect(model.meta!.created).toBeUndefined(); // --seed given, no SOURCE_DATE_EPOCH: reproducible bytes
    const out = JSON.parse(stdout);
    expect(out.metrics.task).toBe('classification');
    expect(out.metrics.confusion).toHaveLength(2);
    expect(readFileSync(join(dir, 'm.card.md'), 'utf8')).toMatch(/Confusion matrix/);
    expect(readFileSync(join(dir, 'm.curve.svg'), 'utf8')).toMatch(/^<svg[\s\S]*validation loss[\s\S]*<\/svg>\n$/);
  });
});
