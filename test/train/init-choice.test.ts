// train's start (src/train/init-choice.ts): `auto` takes the AR start on a series an AR(2)
// predicts and persistence on a random walk, measured on the training split only; the AR
// start's epoch 0 is the AR itself; and the CLI's --init flags, their card lines and
// their refusals.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { decodeModel } from '../../src/model/index.js';
import { arHiddenSize } from '../../src/train/ar-model.js';
import { buildDataset, isValStep, type Dataset } from '../../src/train/index.js';
import { AR_FINE_TUNE_LR, AR_WIN_RATIO, chooseStart, innerHoldout, startOptions } from '../../src/train/init-choice.js';
import { linearArOutputs } from '../../src/train/linear-ar.js';
import { train } from '../../src/train/trainer.js';
import { prng } from '../helpers/prng.js';

/** x[t] = 1.6 x[t-1] − 0.8 x[t-2] + noise: a damped oscillation an AR(2) predicts well. */
function ar2(n: number, seed: number): number[] {
  const rand = prng(seed), x = [0, 0];
  for (let t = 2; t < n; t++) x.push(1.6 * x[t - 1] - 0.8 * x[t - 2] + (rand() - 0.5));
  return x;
}

/** x[t] = x[t-1] + noise: persistence is the best forecast there is. */
function randomWalk(n: number, seed: number): number[] {
  const rand = prng(seed), x = [0];
  for (let t = 1; t < n; t++) x.push(x[t - 1] + (rand() - 0.5));
  return x;
}

function dataset(x: number[], horizon = 1): Dataset {
  return buildDataset({
    inputNames: ['x'], inputs: [x], valFraction: 0.2, seqLen: 20,
    target: { task: 'regression', targetNames: ['x'], targets: [x], horizon, residual: true },
  });
}

describe('auto start', () => {
  it('takes the linear AR on an AR(2) series, and says why', () => {
    const ds = dataset(ar2(1500, 1));
    const h = innerHoldout(ds)!;
    // Theory: persistence's MSE is 2·var(x)·(1 − ρ1) = 2.94 σ² (ρ1 = 1.6/1.8, var = 13.2 σ²), the
    // AR's σ², so the ratio is √(1/2.94) = 0.58; a finite sample lands near it.
    expect(h.ratio).toBeGreaterThan(0.5);
    expect(h.ratio).toBeLessThan(0.7);
    const c = chooseStart(ds, 'auto', false);
    expect(c.start).toBe('linear-ar');
    expect(c.ar!.lags).toBeGreaterThanOrEqual(2);
    expect(c.why).toMatch(/^auto: .*lower RMSE than persistence.*ReLU RNN of \d+ units/);
  });

  it('keeps persistence on a random walk', () => {
    const ds = dataset(randomWalk(1500, 2));
    const h = innerHoldout(ds)!;
    expect(h.ratio).toBeGreaterThan(AR_WIN_RATIO);
    expect(h.ratio).toBeLessThan(1.2);
    const c = chooseStart(ds, 'auto', false);
    expect(c.start).toBe('persistence');
    expect(c.why).toMatch(/^auto: .*persistence \(needs more than 20 % better\)/);
  });

  it('never reads validation: changing only the validation part leaves the choice and its measurement alone', () => {
    const x = ar2(1500, 3);
    const y = x.map((v, t) => (t >= 1200 ? 100 * Math.sin(t) : v)); // rows 1200.. are validation (valFraction 0.2)
    const a = innerHoldout(dataset(x))!, b = innerHoldout(dataset(y))!;
    expect(b).toEqual(a);
  });

  it('keeps a given architecture, and an explicit mode wins over it', () => {
    const ds = dataset(ar2(1500, 4));
    expect(chooseStart(ds, 'auto', true)).toMatchObject({ start: 'persistence', why: expect.stringMatching(/architecture was given/) });
    expect(chooseStart(ds, 'linear-ar', true).start).toBe('linear-ar');
    expect(chooseStart(ds, 'random', false).start).toBe('random');
  });
});

describe('the AR start', () => {
  it('is the AR at epoch 0: validation loss equals the AR\'s own, and the shape is 2·k·I', () => {
    const ds = dataset(ar2(800, 5), 3);
    const c = chooseStart(ds, 'linear-ar', false);
    const base = { name: 'x', cell: 'lstm' as const, hidden: 8, layers: 1, seqLen: 20, batch: 4, epochs: 1, lr: 0.005, clip: 1, patience: 0, seed: 1 };
    const o = startOptions(ds, base, c, false);
    expect(o).toMatchObject({ cell: 'rnn', rnnActivation: 'relu', hidden: 2 * c.ar!.lags, layers: 1, lr: AR_FINE_TUNE_LR });
    expect(startOptions(ds, base, c, true).lr).toBe(0.005);
    const r = train(ds, o);
    // The AR's mean squared error in the normalised units the trainer's loss uses.
    const s = ds.series[0], out = linearArOutputs(c.ar!, ds, s, new Float32Array(s.n));
    let se = 0, n = 0;
    for (let t = 0; t < s.n; t++) {
      if (!isValStep(s, ds.shift, t)) continue;
      const yHat = (out[t] - s.xRaw[t] - ds.targetMean![0]) / ds.targetStd![0];
      se += (yHat - s.y[t]) ** 2;
      n++;
    }
    expect(r.history[0].epoch).toBe(0);
    expect(Math.abs(r.history[0].valLoss - se / n)).toBeLessThan(1e-5 * (se / n) + 1e-7);
    const layer = r.model.layers[0];
    expect(layer.type === 'rnn' && layer.activation === 'relu' && layer.hiddenSize).toBe(arHiddenSize(c.ar!));
  });

  it('refuses linear-ar for classification and persistence for level outputs', () => {
    const x = ar2(300, 6);
    const cls = buildDataset({ inputNames: ['x'], inputs: [x], valFraction: 0.2, seqLen: 20, target: { task: 'classification', labelName: 'l', labels: x.map((v) => (v > 0 ? '1' : '0')) } });
    expect(() => chooseStart(cls, 'linear-ar', false)).toThrow(/--init linear-ar is for regression/);
    const levels = buildDataset({ inputNames: ['x'], inputs: [x], valFraction: 0.2, seqLen: 20, target: { task: 'regression', targetNames: ['x'], targets: [x], horizon: 1 } });
    expect(() => chooseStart(levels, 'persistence', false)).toThrow(/--init persistence needs residual outputs/);
    expect(chooseStart(levels, 'auto', true).start).toBe('random');
  });
});

describe('edge-rnn train --init', () => {
  let dir: string;
  let stderr: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edge-rnn-init-'));
    stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => vi.restoreAllMocks());

  const csv = () => {
    const path = join(dir, 'd.csv');
    writeFileSync(path, ['x', ...ar2(600, 7).map((v) => v.toFixed(4))].join('\n') + '\n');
    return path;
  };
  const run = (extra: string[]) => main(['train', '--data', csv(), '--inputs', 'x', '--target', 'x', '--seq-len', '10', '--epochs', '1',
    '--seed', '1', '--no-progress', '--out', join(dir, 'm.msgpack'), ...extra]);

  it('auto on an AR(2) series writes the ReLU RNN, and the card and meta say so', async () => {
    expect(await run([])).toBe(0);
    const model = decodeModel(readFileSync(join(dir, 'm.msgpack')));
    const layer = model.layers[0];
    expect(layer.type === 'rnn' && layer.activation).toBe('relu');
    expect(model.meta).toMatchObject({ start: 'linear-ar' });
    expect(readFileSync(join(dir, 'm.card.md'), 'utf8')).toMatch(/Start: \*\*linear-ar\*\* \(auto: on the last 20 %/);
    expect(JSON.parse(readFileSync(join(dir, 'm.card.json'), 'utf8')).start).toMatchObject({ kind: 'linear-ar' });
  });

  it('auto keeps an explicit --cell', async () => {
    expect(await run(['--cell', 'gru', '--hidden', '4'])).toBe(0);
    const model = decodeModel(readFileSync(join(dir, 'm.msgpack')));
    expect(model.layers[0].type).toBe('gru');
    expect(model.meta).toMatchObject({ start: 'persistence' });
  });

  it('refuses --init with --init-from, in one line', async () => {
    expect(await run(['--init', 'random', '--init-from', join(dir, 'none.msgpack')])).not.toBe(0);
    expect(stderr).toMatch(/--init random cannot be combined with --init-from/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(join(dir, 'm.msgpack'))).toBe(false);
  });
});
