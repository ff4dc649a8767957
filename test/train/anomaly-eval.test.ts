// The trainer's anomaly step (src/train/anomaly-eval.ts): the threshold it writes into the
// model, the flag that threshold gives on a fresh stream with injected spikes (through
// predict's stream code, as `run --anomaly` computes it), and the precision / recall against
// event labels, recounted independently from `predict --anomaly`'s rows.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { predictRecorded, type PredictionRow } from '../../src/cli/commands/predict.js';
import { runTrain, type TrainCliOptions } from '../../src/cli/commands/train.js';
import { main } from '../../src/cli/main.js';
import { buildDataset, calibrateAnomaly, eventsBySeries, validationMetrics, type Dataset } from '../../src/train/index.js';
import { persistenceModel } from '../helpers/persistence-model.js';
import { prng } from '../helpers/prng.js';

/** Standard normal draws (Box-Muller over a seeded uniform). */
function gaussian(seed: number): () => number {
  const u = prng(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** P(|Z| > z) for a standard normal Z (Abramowitz & Stegun 7.1.26, error < 1.5e-7). */
function twoSidedTail(z: number): number {
  const x = z / Math.SQRT2, t = 1 / (1 + 0.3275911 * x);
  return t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
}

const SIGMA = 0.05; // sensor noise
const PERIOD = 200; // of the underlying signal
/** sin(2π t / PERIOD) + N(0, SIGMA²), with `spike` added at the given rows. */
function series(n: number, seed: number, spikes: ReadonlySet<number> = new Set(), spike = 1): Float64Array {
  const g = gaussian(seed);
  return Float64Array.from({ length: n }, (_, t) => Math.sin((2 * Math.PI * t) / PERIOD) + SIGMA * g() + (spikes.has(t) ? spike : 0));
}

function dataset(x: Float64Array): Dataset {
  return buildDataset({ inputNames: ['a'], inputs: [x], target: { task: 'regression', targetNames: ['a'], targets: [x], horizon: 1, residual: true }, valFraction: 0.2, seqLen: 10 });
}

describe('the anomaly flag on a stream with injected spikes', () => {
  // A persistence forecaster (forecast = the reading itself) at horizon 1: its error on a clean
  // reading is Δsignal + (noise_t − noise_{t−1}), about N(0, 2σ²) plus a small bounded term, so
  // rmse² ≈ 2σ² + (2π/PERIOD)²/2 and the score |e| / rmse is close to |N(0, 1)|.
  const model = persistenceModel({ inputs: ['a'], horizon: 1 });
  const clean = dataset(series(5000, 1));
  const metrics = validationMetrics(clean, (si) => clean.series[si].xRaw); // forecast of step t = reading t
  const outcome = calibrateAnomaly(clean, model, metrics);
  if (!outcome.ok) throw new Error(outcome.reason);
  const { calibration: cal, model: scaled } = outcome;

  it('writes the validation RMSE as the scale and the 0.995 quantile of validation scores as the threshold', () => {
    const rmse = Math.sqrt(2 * SIGMA ** 2 + (2 * Math.PI / PERIOD) ** 2 / 2);
    expect(cal.rmse[0]).toBeCloseTo(metrics.task === 'regression' ? metrics.targets[0].rmse : NaN, 12);
    expect(Math.abs(cal.rmse[0] - rmse) / rmse).toBeLessThan(0.05); // 1000 validation readings: ~2 % sampling error
    expect([...scaled.outputs.anomaly!.rmse.data]).toEqual([Math.fround(cal.rmse[0])]);
    expect(scaled.outputs.anomaly!.threshold).toBe(cal.threshold);
    // |N(0, 1)| exceeds 2.807 with probability 0.005; the 6th largest of 1000 scores lies near it.
    expect(cal.threshold).toBeGreaterThan(2.3);
    expect(cal.threshold).toBeLessThan(3.4);
    expect(cal.validationFlagged).toBeLessThanOrEqual(Math.ceil(0.005 * cal.validationReadings));
  });

  it('flags the spikes (recall >= 0.95) and few clean readings (false-positive rate within its derived bound)', () => {
    // A fresh stream (another noise seed) with a spike of +1 (about 13 rmse) every 200 readings.
    const n = 4000;
    const spikes = new Set(Array.from({ length: n / 200 }, (_, k) => 100 + 200 * k));
    const x = series(n, 2, spikes);
    const rows: PredictionRow[] = [];
    predictRecorded(scaled, Float32Array.from(x), undefined, (p) => rows.push(p), { anomaly: {} });
    const flagged = (u: number) => rows[u].anomaly!.flag === true;
    const recall = [...spikes].filter(flagged).length / spikes.size;
    // A spike's score is >= (1 − |Δsignal| − |noise difference|) / rmse; for it to stay under
    // the threshold the noise difference (sd 0.071) would have to exceed 1 − 0.032 − 3.4 · 0.075 ≈ 0.71: 10 sd.
    expect(recall).toBeGreaterThanOrEqual(0.95);

    // False positives: the reading after each spike (forecast from the spike itself, off by ≈ 1:
    // flagged by construction) plus clean readings over the threshold, at the rate P(|Z| > threshold)
    // (the score is ≈ |N(0, 1)|), with 3 sd of binomial slack.
    const echoes = [...spikes].map((u) => u + 1);
    expect(echoes.every(flagged)).toBe(true);
    const negatives = rows.length - 1 - spikes.size; // row 0 has no score
    const falsePositives = rows.filter((r, u) => u > 0 && !spikes.has(u) && r.anomaly!.flag).length;
    const p = twoSidedTail(cal.threshold);
    const bound = (echoes.length + negatives * p + 3 * Math.sqrt(negatives * p)) / negatives;
    expect(falsePositives / negatives).toBeLessThanOrEqual(bound);
    expect(bound).toBeLessThan(0.02);
  });
});

describe('train --event-column', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edge-rnn-anomaly-train-'));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => vi.restoreAllMocks());

  // Two motes, 2000 rows each, interleaved; spikes (labelled 1) at given rows of each.
  function csv(spikeRows: Record<string, number[]>): string {
    const lines = ['mote,a,event'];
    const xs = { m1: series(2000, 11, new Set(spikeRows.m1), 2), m2: series(2000, 12, new Set(spikeRows.m2), 2) };
    for (let t = 0; t < 2000; t++) for (const m of ['m1', 'm2'] as const) lines.push(`${m},${xs[m][t].toFixed(4)},${spikeRows[m].includes(t) ? 1 : 0}`);
    const path = join(dir, 'd.csv');
    writeFileSync(path, lines.join('\n') + '\n');
    return path;
  }
  const options = (data: string): TrainCliOptions => ({
    data, inputs: ['a'], target: ['a'], horizon: 2, residual: true, deviceColumn: 'mote', eventColumn: 'event',
    cell: 'gru', rnnActivation: 'tanh', hidden: 4, layers: 1, seqLen: 20, batch: 4, epochs: 2, lr: 0.005, lrDecay: 1, clip: 1,
    patience: 0, val: 0.25, seed: 1, classWeights: true, modelVersion: 1, progress: false, out: join(dir, 'm.msgpack'),
  });

  it('reports precision and recall on the validation readings that an independent recount of predict --anomaly agrees with', () => {
    // Validation is the last 500 rows of each mote (rows 1500..1999); events on both sides. The
    // threshold is the 0.995 quantile (nearest rank: the 5th largest of 996) of the validation
    // scores, so at most 4 are flagged: the 2 validation spikes and the 2 readings whose
    // forecast was made from one (2 rows later) fit in that budget, and the threshold is the
    // largest clean score.
    const data = csv({ m1: [100, 300, 1600], m2: [200, 1700] });
    const run = runTrain(options(data));
    expect(run.anomaly?.ok).toBe(true);
    const cal = run.anomaly!.ok ? run.anomaly!.calibration : null!;
    const card = JSON.parse(readFileSync(run.paths.cardJson, 'utf8'));
    expect(card.anomaly.events.validation.labelled).toBe(2);
    expect(card.anomaly.events.labelledRows).toBe(5);

    // Recount: predict every row of the file with the written model, keep the validation
    // readings (the forecast scored there was made at a validation step: row − 2 >= 1500).
    const text = readFileSync(data, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const rows: PredictionRow[] = [];
    predictRecorded(run.model, Float32Array.from(text, (r) => Number(r[1])), text.map((r) => r[0]), (p) => rows.push(p), { anomaly: {} });
    const perMote = new Map<string, number>();
    let tp = 0, fp = 0, fn = 0, readings = 0;
    rows.forEach((p, i) => {
      const t = perMote.get(p.device!) ?? 0;
      perMote.set(p.device!, t + 1);
      if (t - 2 < 1500) return;
      readings++;
      const event = text[i][2] === '1', flag = p.anomaly!.flag === true;
      if (flag && event) tp++;
      else if (flag) fp++;
      else if (event) fn++;
    });
    const v = cal.events!.validation;
    expect([v.readings, v.truePositives, v.flagged - v.truePositives, v.labelled - v.truePositives]).toEqual([readings, tp, fp, fn]);
    expect(v.precision).toBe(tp + fp > 0 ? tp / (tp + fp) : null);
    expect(v.recall).toBe(tp / (tp + fn));
    // Spikes of 2 (40 noise sd) are found.
    expect(v.recall).toBe(1);
  });

  it('says plainly when validation holds none of the labelled rows', () => {
    const run = runTrain(options(csv({ m1: [100, 300], m2: [200] })));
    const e = run.anomaly!.ok ? run.anomaly!.calibration.events! : null!;
    expect([e.labelledRows, e.validation.labelled, e.validation.recall]).toEqual([3, 0, null]);
    const md = readFileSync(run.paths.cardMd, 'utf8');
    expect(md).toMatch(/The validation readings hold none of the 3 labelled rows/);
    expect(JSON.parse(readFileSync(run.paths.cardJson, 'utf8')).anomaly.events.validation.recall).toBeNull();
  });

  it('refuses a value other than 0 or 1, naming the line, and refuses it for a classifier', async () => {
    const data = csv({ m1: [], m2: [] });
    writeFileSync(data, readFileSync(data, 'utf8').replace('\nm1,', '\nm1,').replace(/,0\n/, ',yes\n'));
    let stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
    const base = ['train', '--data', data, '--inputs', 'a', '--device-column', 'mote', '--event-column', 'event', '--epochs', '1', '--hidden', '2', '--seq-len', '5', '--no-progress', '--out', join(dir, 'x.msgpack')];
    expect(await main([...base, '--target', 'a'])).toBe(1);
    expect(stderr).toMatch(/line 2.*--event-column expects 0 or 1, got "yes"/);
    stderr = '';
    expect(await main([...base, '--label', 'mote'])).toBe(1);
    expect(stderr).toMatch(/--event-column scores the anomaly flag of a forecaster/);
  });
});

describe('eventsBySeries', () => {
  it('splits per-row labels into the series of their devices, in row order', () => {
    const x = Float64Array.from({ length: 40 }, (_, i) => Math.sin(i));
    const devices = Array.from({ length: 40 }, (_, i) => (i % 2 ? 'q' : 'p'));
    const ds = buildDataset({ inputNames: ['a'], inputs: [x], devices, target: { task: 'regression', targetNames: ['a'], targets: [x], horizon: 1 }, valFraction: 0.25, seqLen: 5 });
    const events = Uint8Array.from({ length: 40 }, (_, i) => (i === 3 || i === 4 || i === 39 ? 1 : 0));
    const [p, q] = eventsBySeries(ds, devices, events);
    expect([...p].map((v, t) => (v ? t : -1)).filter((t) => t >= 0)).toEqual([2]); // row 4 is p's 3rd
    expect([...q].map((v, t) => (v ? t : -1)).filter((t) => t >= 0)).toEqual([1, 19]); // rows 3 and 39
  });
});
