// `edge-rnn train --init-from OLD`: the run starts from OLD's weights and records OLD's
// sha256 as meta.continuesFrom (a hot swap from OLD then keeps device states, issue 13);
// a model of other layers is one clear line, no file.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { decodeModel } from '../../src/model/index.js';
import type { Model } from '../../src/model/types.js';

let dir: string;
let stderr: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'edge-rnn-init-from-'));
  stderr = '';
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
});
afterEach(() => vi.restoreAllMocks());

function csv(): string {
  const path = join(dir, 'd.csv');
  const rows = Array.from({ length: 80 }, (_, t) => [t % 2 ? 'x' : 'y', (20 + Math.sin(t / 9)).toFixed(3), (50 + Math.cos(t / 13)).toFixed(3)]);
  writeFileSync(path, ['dev,a,b', ...rows.map((r) => r.join(','))].join('\n') + '\n');
  return path;
}
const train = (out: string, extra: string[]) => main(['train', '--data', csv(), '--inputs', 'a,b', '--target', 'a', '--device-column', 'dev', '--seq-len', '5',
  '--epochs', '1', '--hidden', '4', '--no-progress', '--out', join(dir, out), ...extra]);
const read = (f: string) => decodeModel(readFileSync(join(dir, f)));
const weights = (m: Model) => m.layers.flatMap((l) => (l.type === 'dense' ? [...l.w.data, ...l.b.data] : [...l.wIh.data, ...l.wHh.data]));
const distance = (a: Model, b: Model) => Math.max(...weights(a).map((w, i) => Math.abs(w - weights(b)[i])));

describe('edge-rnn train --init-from', () => {
  it('starts from the old weights and names the old model by sha256', async () => {
    expect(await train('old.msgpack', ['--seed', '1'])).toBe(0);
    const oldBytes = readFileSync(join(dir, 'old.msgpack'));
    // A tiny learning rate: a continued run stays next to the old weights, a fresh one (another seed) does not.
    expect(await train('new.msgpack', ['--seed', '2', '--lr', '1e-7', '--model-version', '2', '--init-from', join(dir, 'old.msgpack')])).toBe(0);
    expect(await train('fresh.msgpack', ['--seed', '2', '--lr', '1e-7', '--model-version', '2'])).toBe(0);
    const [old, cont, fresh] = [read('old.msgpack'), read('new.msgpack'), read('fresh.msgpack')];
    expect(cont.meta?.continuesFrom).toBe(createHash('sha256').update(oldBytes).digest('hex'));
    expect(fresh.meta?.continuesFrom).toBeUndefined();
    expect(distance(cont, old)).toBeLessThan(1e-4);
    expect(distance(fresh, old)).toBeGreaterThan(1e-2);
  });

  it('refuses a model of other layers, or a file that is not a model, in one line and writes nothing', async () => {
    expect(await train('old.msgpack', ['--seed', '1'])).toBe(0);
    for (const [args, pattern] of [
      [['--hidden', '6'], /--init-from .*old\.msgpack: the model to continue has layers \[lstm 2->4, dense linear 4->1\]; this run builds \[lstm 2->6/],
      [['--cell', 'gru', '--hidden', '4'], /this run builds \[gru 2->4/],
    ] as const) {
      stderr = '';
      const code = await main(['train', '--data', csv(), '--inputs', 'a,b', '--target', 'a', '--device-column', 'dev', '--seq-len', '5', '--epochs', '1',
        '--no-progress', '--out', join(dir, 'bad.msgpack'), '--init-from', join(dir, 'old.msgpack'), ...args]);
      expect(code).not.toBe(0);
      expect(code).not.toBe(70);
      expect(stderr).toMatch(pattern);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(join(dir, 'bad.msgpack'))).toBe(false);
    }
    // The old model is residual (the default: target a is an input); a level run must not reuse its weights.
    stderr = '';
    expect(await train('bad.msgpack', ['--no-residual', '--init-from', join(dir, 'old.msgpack')])).not.toBe(0);
    expect(stderr).toMatch(/the model to continue predicts changes \(residual\); this run trains levels \(pass --residual\)/);
    expect(existsSync(join(dir, 'bad.msgpack'))).toBe(false);
    stderr = '';
    expect(await train('bad.msgpack', ['--init-from', join(dir, 'd.csv')])).not.toBe(0);
    expect(stderr).toMatch(/--init-from: .*d\.csv is not a valid edge-rnn model/);
  });
});
