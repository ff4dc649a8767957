// The headline verdict against hand-made baseline scores (better, ties, worse, the best of
// several, several targets ranked by RMSE/std), and `train` carrying the baselines into the
// card, --json and the summary, scored on the model's own validation steps.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { BaselineScore, Baselines } from '../../src/train/baselines.js';
import { buildDataset } from '../../src/train/dataset.js';
import { verdictOf } from '../../src/train/verdict.js';

const x = Array.from({ length: 40 }, (_, t) => Math.sin(t) + t / 10);
const ds = buildDataset({
  inputNames: ['x'], inputs: [x], valFraction: 0.25, seqLen: 2,
  target: { task: 'regression', targetNames: ['x'], targets: [x], horizon: 1 },
});

function score(kind: BaselineScore['kind'], rmse: number[], extra: Partial<BaselineScore> = {}): BaselineScore {
  const description = kind === 'persistence' ? 'persistence' : kind === 'seasonal' ? `seasonal persistence, period ${extra.period}` : `a linear model on the last ${extra.lags} readings`;
  return { kind, description, steps: 10, rmse, mae: rmse, devices: [], ...extra };
}
const baselines = (...list: BaselineScore[]): Baselines => ({ horizon: 1, list });

describe('verdictOf', () => {
  it('is better, by how much, than the best baseline', () => {
    const v = verdictOf(ds, [0.88], baselines(score('persistence', [2]), score('seasonal', [1], { period: 24 }), score('linear-ar', [1.5], { lags: 6 })));
    expect(v).toMatchObject({ relation: 'better', best: 'seasonal' });
    expect(v.ratio).toBeCloseTo(0.88, 12);
    expect(v.headline).toBe('12 % better than the best baseline, seasonal persistence, period 24 (RMSE 0.88 vs 1)');
  });
  it('ties within 2 %, saying the model adds nothing', () => {
    const v = verdictOf(ds, [1.019], baselines(score('persistence', [1]), score('linear-ar', [1.3], { lags: 2 })));
    expect(v.relation).toBe('ties');
    expect(v.headline).toMatch(/^ties persistence \(within 2 %, RMSE 1.019 vs 1\): the model adds nothing over repeating the last reading$/);
    expect(verdictOf(ds, [0.981], baselines(score('persistence', [1]))).relation).toBe('ties');
    expect(verdictOf(ds, [0.979], baselines(score('persistence', [1]))).relation).toBe('better');
  });
  it('is worse than a linear model, and says what to use', () => {
    const v = verdictOf(ds, [0.44], baselines(score('persistence', [2.07]), score('linear-ar', [0.078], { lags: 24 })));
    expect(v).toMatchObject({ relation: 'worse', best: 'linear-ar' });
    expect(v.headline).toBe('5.6x the error of a linear model on the last 24 readings (RMSE 0.44 vs 0.078): use that model\'s recipe (`train --init linear-ar`) or more data');
    const w = verdictOf(ds, [1.5], baselines(score('persistence', [1])));
    expect(w.headline).toMatch(/^50 % worse than persistence \(RMSE 1.5 vs 1\): try residual outputs/);
  });
  it('ranks several targets by the mean of RMSE / training std', () => {
    const two = buildDataset({
      inputNames: ['x'], inputs: [x], valFraction: 0.25, seqLen: 2,
      target: { task: 'regression', targetNames: ['x', 'y'], targets: [x, x.map((v) => 100 * v)], horizon: 1 },
    });
    // In units of each target's std, persistence (1, 100) ranks level with the AR (1.5, 50).
    const sx = two.targetStd![0], sy = two.targetStd![1];
    expect(sy / sx).toBeCloseTo(100, 4);
    const v = verdictOf(two, [1, 100], baselines(score('persistence', [1, 100]), score('linear-ar', [1.5, 40], { lags: 3 })));
    expect(v.best).toBe('linear-ar');
    expect(v.ratio).toBeCloseTo((1 / sx + 100 / sy) / (1.5 / sx + 40 / sy), 10);
  });
});

describe('edge-rnn train: baselines in the card, --json and the summary', () => {
  afterEach(() => vi.restoreAllMocks());
  it('scores the baselines on the model\'s validation steps, per device and overall', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-rnn-verdict-'));
    const rows = Array.from({ length: 240 }, (_, t) => [t % 2 ? 'p' : 'q', (20 + 3 * Math.sin((2 * Math.PI * Math.floor(t / 2)) / 12)).toFixed(3), (t % 5).toFixed(1)]);
    writeFileSync(join(dir, 'd.csv'), ['dev,a,b', ...rows.map((r) => r.join(','))].join('\n') + '\n');
    let stdout = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((stdout += String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const args = ['train', '--data', join(dir, 'd.csv'), '--inputs', 'a,b', '--target', 'a', '--horizon', '2', '--device-column', 'dev',
      '--seq-len', '6', '--epochs', '2', '--hidden', '4', '--seed', '1', '--no-progress', '--out', join(dir, 'm.msgpack')];
    expect(await main([...args, '--json'])).toBe(0);
    const json = JSON.parse(stdout);
    const card = JSON.parse(readFileSync(join(dir, 'm.card.json'), 'utf8'));
    // The model's score in the comparison is the metrics' RMSE (same steps, same rule).
    expect(card.baselines.model.rmse[0]).toBeCloseTo(json.metrics.targets[0].rmse, 3);
    expect(card.baselines.model.steps).toBe(json.metrics.steps);
    expect(json.baselines.list.map((b: { kind: string }) => b.kind)).toEqual(['persistence', 'seasonal', 'linear-ar']);
    expect(json.baselines.period).toMatchObject({ steps: 12, source: 'found' });
    // A sine of period 12 sampled exactly repeats: seasonal persistence is exact.
    expect(json.baselines.list[1].rmse[0]).toBe(0);
    expect(json.baselines.list[0].rmse[0]).toBeCloseTo(json.metrics.targets[0].persistenceRmse, 3);
    expect(json.baselines.list[0].devices.map((d: { device: string }) => d.device)).toEqual(['q', 'p']);
    const md = readFileSync(join(dir, 'm.card.md'), 'utf8');
    expect(md).toMatch(/- \*\*Verdict:\*\* .*seasonal persistence, period 12/);
    expect(md).toMatch(/\| q \| a \| \d+ \|/);
    stdout = '';
    expect(await main([...args, '--period', '6'])).toBe(0);
    expect(stdout).toMatch(/^verdict: /m);
    expect(stdout).toMatch(/seasonal \(P 6\): a RMSE/);
  });
});
