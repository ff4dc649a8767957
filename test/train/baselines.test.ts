// Each baseline against a hand-computed case, the period finder on series with and without
// a cycle, and the shared scoring rule (per device and pooled, validation steps only).
import { describe, expect, it } from 'vitest';
import { buildDataset, type Dataset } from '../../src/train/dataset.js';
import {
  bestBaseline, findPeriod, persistenceForecasts, scoreBaselines, scoreForecasts, seasonalForecasts,
} from '../../src/train/baselines.js';
import { validationMetrics } from '../../src/train/metrics.js';
import { prng } from '../helpers/prng.js';

function oneColumn(x: number[], valFraction: number, horizon = 1, devices?: string[]): Dataset {
  return buildDataset({
    inputNames: ['x'], inputs: [x], valFraction, seqLen: 1, ...(devices ? { devices } : {}),
    target: { task: 'regression', targetNames: ['x'], targets: [x], horizon },
  });
}

// Training rows 0..3, validation rows 4..7; at horizon 1 the validation steps are t = 4, 5, 6.
const x = [1, 3, 2, 6, 0, 5, 4, 8];

describe('persistence', () => {
  it('scores x[t] against x[t + 1] on the validation steps only', () => {
    const ds = oneColumn(x, 0.5);
    const s = ds.series[0];
    const score = scoreForecasts(ds, () => persistenceForecasts(ds, s, new Float64Array(8)));
    // Errors 0 - 5, 5 - 4, 4 - 8.
    expect(score.steps).toBe(3);
    expect(score.rmse[0]).toBeCloseTo(Math.sqrt(42 / 3), 12);
    expect(score.mae[0]).toBeCloseTo(10 / 3, 12);
  });

  it('is the persistence the metrics report (one rule)', () => {
    const ds = oneColumn(x, 0.5);
    const m = validationMetrics(ds, () => new Float32Array(8).fill(4));
    if (m.task !== 'regression') throw new Error('regression expected');
    expect(m.targets[0].persistenceRmse).toBeCloseTo(Math.sqrt(14), 12);
    // The constant forecast 4 against 5, 4, 8.
    expect(m.targets[0].rmse).toBeCloseTo(Math.sqrt(17 / 3), 12);
    expect(scoreBaselines(ds).list[0]).toMatchObject({ kind: 'persistence', rmse: [m.targets[0].persistenceRmse] });
  });

  it('scores each device on its own and pools the squared errors overall', () => {
    // Rows interleave two devices; device b is a copy of x shifted by 10 with one step changed.
    const y = [1, 3, 2, 6, 0, 5, 4, 20];
    const both = x.flatMap((v, t) => [v, y[t] + 10]);
    const devs = x.flatMap(() => ['a', 'b']);
    const ds = oneColumn(both, 0.5, 1, devs);
    const score = scoreForecasts(ds, (si) => persistenceForecasts(ds, ds.series[si], new Float64Array(8)));
    expect(score.devices.map((d) => [d.device, d.steps])).toEqual([['a', 3], ['b', 3]]);
    expect(score.devices[0].rmse[0]).toBeCloseTo(Math.sqrt(14), 12);
    // b: errors -5, 1, -16.
    expect(score.devices[1].rmse[0]).toBeCloseTo(Math.sqrt(282 / 3), 12);
    expect(score.rmse[0]).toBeCloseTo(Math.sqrt((42 + 282) / 6), 12);
    expect(score.mae[0]).toBeCloseTo((10 + 22) / 6, 12);
  });
});

describe('seasonal persistence', () => {
  it('forecasts t + h from the reading one period before it, or whole periods more when h > P', () => {
    const ds1 = oneColumn(x, 0.5, 1);
    // P = 3, h = 1: x[t - 2]; before the series holds it, x[t].
    expect([...seasonalForecasts(ds1, ds1.series[0], 3, new Float64Array(8))]).toEqual([1, 3, 1, 3, 2, 6, 0, 5]);
    const long = [...x, 7, 9, 1, 2];
    const ds4 = oneColumn(long, 0.5, 4);
    // P = 3, h = 4: t + 4 - 6 = t - 2 as well.
    expect([...seasonalForecasts(ds4, ds4.series[0], 3, new Float64Array(12))]).toEqual([1, 3, 1, 3, 2, 6, 0, 5, 4, 8, 7, 9]);
    const ds2 = oneColumn(x, 0.5, 2);
    // P = 3, h = 2: x[t - 1].
    expect([...seasonalForecasts(ds2, ds2.series[0], 3, new Float64Array(8))]).toEqual([1, 1, 3, 2, 6, 0, 5, 4]);
  });

  it('scores a given period by hand: P = 3, h = 1', () => {
    const b = scoreBaselines(oneColumn(x, 0.5), { period: 3 });
    expect(b.period).toEqual({ steps: 3, source: 'given' });
    const se = b.list.find((l) => l.kind === 'seasonal')!;
    // Forecasts x[2], x[3], x[4] = 2, 6, 0 against 5, 4, 8.
    expect(se.rmse[0]).toBeCloseTo(Math.sqrt(77 / 3), 12);
    expect(se.mae[0]).toBeCloseTo(13 / 3, 12);
  });

  it('refuses a period below 2', () => {
    expect(() => scoreBaselines(oneColumn(x, 0.5), { period: 1 })).toThrow(/--period/);
  });
});

describe('findPeriod', () => {
  const r = prng(9);
  const n = 2000;
  it('finds a daily cycle on a trending, noisy hourly series', () => {
    const v = Array.from({ length: n }, (_, t) => 10 + 0.01 * t + 3 * Math.sin((2 * Math.PI * t) / 24) + 0.2 * (r() - 0.5));
    const p = findPeriod(oneColumn(v, 0.2, 12));
    expect(p?.steps).toBe(24);
    expect(scoreBaselines(oneColumn(v, 0.2, 12)).period).toMatchObject({ steps: 24, source: 'found' });
  });
  it('finds none in white noise or a random walk', () => {
    const noise = Array.from({ length: n }, () => r());
    expect(findPeriod(oneColumn(noise, 0.2))).toBeUndefined();
    let w = 0;
    const walk = Array.from({ length: n }, () => (w += r() - 0.5));
    expect(findPeriod(oneColumn(walk, 0.2))).toBeUndefined();
    expect(scoreBaselines(oneColumn(walk, 0.2)).list.map((l) => l.kind)).toEqual(['persistence', 'linear-ar']);
  });
  it('looks at the training rows only', () => {
    // A cycle only in the validation part is not a period of the training split.
    const v = Array.from({ length: n }, (_, t) => (t < 1600 ? r() : 3 * Math.sin((2 * Math.PI * t) / 24)));
    expect(findPeriod(oneColumn(v, 0.2))).toBeUndefined();
  });
});

describe('the linear AR baseline', () => {
  it('is exact where the target is a linear function of the last inputs, and then the best baseline', () => {
    // b[t + 1] = 3 a[t] - 1 exactly; a is noise, so persistence of b is poor.
    const r = prng(4);
    const a = Array.from({ length: 400 }, () => r());
    const b = a.map((_, t) => (t === 0 ? 0 : 3 * a[t - 1] - 1));
    const ds = buildDataset({
      inputNames: ['a', 'b'], inputs: [a, b], valFraction: 0.25, seqLen: 1,
      target: { task: 'regression', targetNames: ['b'], targets: [b], horizon: 1 },
    });
    const base = scoreBaselines(ds);
    const ar = base.list.find((l) => l.kind === 'linear-ar')!;
    expect(ar.rmse[0]).toBeLessThan(1e-4);
    expect(base.list[0].rmse[0]).toBeGreaterThan(0.5);
    expect(bestBaseline(ds, base).kind).toBe('linear-ar');
  });
});
