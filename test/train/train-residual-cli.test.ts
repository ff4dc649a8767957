// `edge-rnn train --residual`: a good run writes a residual model (outputs.residual, the
// card says so); misuse is one clear line on stderr, a non-zero exit code and no file.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { decodeModel } from '../../src/model/index.js';

let dir: string;
let stderr: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-rnn-train-res-'));
  stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

function csv(n: number): string {
  const path = join(dir, 'd.csv');
  const rows = Array.from({ length: n }, (_, t) => [t % 2 ? 'x' : 'y', (20 + Math.sin(t / 9)).toFixed(3), (50 + Math.cos(t / 13)).toFixed(3), t % 7 === 0 ? 1 : 0]);
  writeFileSync(path, ['dev,a,b,label', ...rows.map((r) => r.join(','))].join('\n') + '\n');
  return path;
}

const run = (extra: string[]) => main(['train', '--data', csv(80), '--inputs', 'a,b', '--device-column', 'dev', '--seq-len', '5',
  '--epochs', '2', '--hidden', '4', '--seed', '1', '--no-progress', '--out', join(dir, 'm.msgpack'), '--residual', ...extra]);

function expectCleanError(code: number, pattern: RegExp): void {
  expect(code).not.toBe(0);
  expect(code).not.toBe(70); // unexpected error
  expect(stderr).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(existsSync(join(dir, 'm.msgpack'))).toBe(false);
}

describe('edge-rnn train --residual', () => {
  it('writes a residual model whose card says the outputs are changes added back to the reading', async () => {
    expect(await run(['--target', 'b,a', '--horizon', '3'])).toBe(0);
    const model = decodeModel(readFileSync(join(dir, 'm.msgpack')));
    expect(model.outputs).toMatchObject({ names: ['b', 'a'], horizon: 3, residual: true });
    expect(readFileSync(join(dir, 'm.card.md'), 'utf8')).toMatch(/Residual outputs \(--residual\):.*change over 3 step/);
    expect(JSON.parse(readFileSync(join(dir, 'm.card.json'), 'utf8')).data).toMatchObject({ residual: true, horizon: 3 });
  });
  it('is the default when every target is an input; --no-residual and a target that is not an input give levels; the card says why', async () => {
    const base = ['train', '--data', csv(80), '--device-column', 'dev', '--seq-len', '5', '--epochs', '1', '--hidden', '4', '--seed', '1', '--no-progress', '--out', join(dir, 'm.msgpack')];
    const card = () => readFileSync(join(dir, 'm.card.md'), 'utf8');
    const residual = () => decodeModel(readFileSync(join(dir, 'm.msgpack'))).outputs;
    expect(await main([...base, '--inputs', 'a,b', '--target', 'b'])).toBe(0);
    expect(residual()).toMatchObject({ residual: true });
    expect(card()).toMatch(/Residual outputs \(default: every target is an input/);
    expect(JSON.parse(readFileSync(join(dir, 'm.card.json'), 'utf8')).data.outputsWhy).toMatch(/^default: every target is an input/);
    expect(await main([...base, '--inputs', 'a,b', '--target', 'b', '--no-residual'])).toBe(0);
    expect(residual()).not.toHaveProperty('residual');
    expect(card()).toMatch(/Level outputs \(--no-residual\)/);
    expect(await main([...base, '--inputs', 'a', '--target', 'b'])).toBe(0);
    expect(residual()).not.toHaveProperty('residual');
    expect(card()).toMatch(/Level outputs \(target "b" is not an input/);
  });
  it('refuses a target that is not an input', async () => {
    expectCleanError(await run(['--inputs', 'a', '--target', 'a,b']), /--residual: target "b" is not an input/);
  });
  it('refuses classification', async () => {
    expectCleanError(await run(['--label', 'label']), /--residual is for regression/);
  });
  it('--time-budget stops training (a budget already spent at the first check: the starting weights, epoch 0, are written)', async () => {
    let out = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    expect(await main(['train', '--data', csv(80), '--inputs', 'a,b', '--target', 'a', '--device-column', 'dev', '--seq-len', '5', '--hidden', '4',
      '--no-progress', '--json', '--time-budget', '1e-9', '--out', join(dir, 'm.msgpack')])).toBe(0);
    const r = JSON.parse(out);
    expect(r).toMatchObject({ epochsRun: 0, bestEpoch: 0, stoppedEarly: true });
    expect(r.history).toHaveLength(1);
    expect(r.history[0]).not.toHaveProperty('trainLoss');
    expect(r.history[0].valLoss).toBeCloseTo(r.bestValLoss, 3);
  });
});
