// The validation split: tail mode is the old rule exactly; blocks mode keeps every training
// row more than the gap away from every validation row; per-split statistics by hand; the
// warnings fire on constructed splits; train --val-mode blocks end to end.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { decodeModel } from '../../src/model/index.js';
import { buildDataset, isTrainStep, isValStep, type DatasetInput } from '../../src/train/dataset.js';
import { ROLE_GAP, ROLE_TRAIN, ROLE_VAL, splitFromMeta, splitRoles } from '../../src/train/split.js';
import { splitReport } from '../../src/train/split-report.js';
import { prng } from '../helpers/prng.js';

function regression(x: number[], extra: Partial<DatasetInput> = {}, horizon = 1) {
  return buildDataset({
    inputNames: ['x'], inputs: [x], valFraction: 0.25, seqLen: 2, ...extra,
    target: { task: 'regression', targetNames: ['x'], targets: [x], horizon },
  });
}

describe('tail mode', () => {
  it('is the old rule: steps t + h < trainEnd train, steps t >= trainEnd with t + h < n validate', () => {
    const r = prng(1);
    const x = Array.from({ length: 103 }, () => r());
    for (const h of [1, 3, 12]) {
      const ds = regression(x, {}, h);
      const s = ds.series[0];
      expect(s.trainEnd).toBe(103 - Math.floor(103 * 0.25));
      expect(ds.split).toEqual({ valFraction: 0.25, mode: 'tail', blocks: 5, gap: 0 });
      for (let t = 0; t < s.n; t++) {
        expect(isTrainStep(s, h, t)).toBe(t + h < s.trainEnd);
        expect(isValStep(s, h, t)).toBe(t >= s.trainEnd && t + h < s.n);
      }
    }
  });
  it('ends the steps of a series cut short (n below its role mask) at n', () => {
    const ds = regression(Array.from({ length: 40 }, (_, t) => t % 3), {}, 2);
    const cut = { ...ds.series[0], n: 20 };
    expect(isTrainStep(ds.series[0], 2, 18)).toBe(true);
    expect(isTrainStep(cut, 2, 17)).toBe(true);
    expect(isTrainStep(cut, 2, 18)).toBe(false);
  });
  it('with a gap drops the first rows of the validation part', () => {
    const role = splitRoles(20, { valFraction: 0.25, mode: 'tail', blocks: 1, gap: 2 });
    expect([...role]).toEqual([...new Array(15).fill(ROLE_TRAIN), ROLE_GAP, ROLE_GAP, ROLE_VAL, ROLE_VAL, ROLE_VAL]);
  });
});

describe('blocks mode', () => {
  it('lays out N validation blocks of floor(n·f) rows in all, at the ends of N equal segments, with gaps both sides', () => {
    const role = splitRoles(40, { valFraction: 0.2, mode: 'blocks', blocks: 2, gap: 3 });
    // Segments [0, 20) and [20, 40); 8 validation rows, 4 per block.
    const want = new Array(40).fill(ROLE_TRAIN);
    for (const [a, b, r] of [[13, 16, ROLE_GAP], [16, 20, ROLE_VAL], [20, 23, ROLE_GAP], [33, 36, ROLE_GAP], [36, 40, ROLE_VAL]] as const) want.fill(r, a, b);
    expect([...role]).toEqual(want);
  });

  it('never lets a training row come within the gap of a validation row, nor a training target reach past training rows', () => {
    let skipped = 0;
    for (const n of [97, 400, 1234]) {
      for (const blocks of [1, 3, 7]) {
        for (const h of [1, 5, 12]) {
          const gap = Math.max(4, h);
          const x = Array.from({ length: n }, (_, t) => Math.sin(t / 3) + t / n);
          let ds;
          try {
            ds = regression(x, { valMode: 'blocks', valBlocks: blocks, valGap: gap, seqLen: 4 }, h);
          } catch {
            skipped++;
            continue; // too few rows for this layout (its message is tested below)
          }
          const s = ds.series[0];
          const train = [...s.role.keys()].filter((t) => s.role[t] === ROLE_TRAIN);
          const val = [...s.role.keys()].filter((t) => s.role[t] === ROLE_VAL);
          expect(val.length).toBe(Math.floor(n * 0.25));
          let closest = Infinity;
          for (const a of train) for (const b of val) closest = Math.min(closest, Math.abs(a - b));
          expect(closest).toBeGreaterThan(gap);
          for (let t = 0; t < n; t++) {
            if (isTrainStep(s, h, t)) for (let u = t; u <= t + h; u++) expect(s.role[u]).toBe(ROLE_TRAIN);
            if (isValStep(s, h, t)) for (let u = t; u <= t + h; u++) expect(s.role[u]).toBe(ROLE_VAL);
          }
        }
      }
    }
    expect(skipped).toBeLessThan(5); // of 27 layouts, only the smallest series with many blocks
  });

  it('takes normalisation statistics from the training rows only', () => {
    const x = Array.from({ length: 200 }, (_, t) => (t % 40 >= 30 ? 1000 : t % 7));
    const ds = regression(x, { valMode: 'blocks', valBlocks: 5, valGap: 0 });
    // Validation rows are exactly the rows t % 40 >= 30 (10 of every 40), which hold 1000.
    const s = ds.series[0];
    for (let t = 0; t < 200; t++) expect(s.role[t]).toBe(t % 40 >= 30 ? ROLE_VAL : ROLE_TRAIN);
    const train = x.filter((v) => v !== 1000);
    expect(ds.inputMean[0]).toBe(Math.fround(train.reduce((a, b) => a + b, 0) / train.length));
  });

  it('refuses a layout without training or validation steps, in one line', () => {
    const x = Array.from({ length: 60 }, (_, t) => t % 5);
    expect(() => regression(x, { valMode: 'blocks', valBlocks: 10, valGap: 6 }, 2)).toThrow(/^the data has 60 rows: too few for --val-mode blocks with --val-blocks 10, --val-gap 6/);
  });
});

describe('split statistics and warnings', () => {
  it('gives the spread of value and h-step change per part, by hand', () => {
    // Training rows 0..5, validation rows 6..7 (valFraction 0.25 of 8).
    const x = [0, 2, 0, 2, 0, 2, 5, 5];
    const r = splitReport(regression(x, { seqLen: 1 }));
    expect(r.train.rows).toBe(6);
    expect(r.train.valueStd![0]).toBeCloseTo(1, 12);
    // Training steps t = 0..4: changes ±2 -> std 2 (mean 0.4: sqrt(4 - 0.16)).
    expect(r.train.changeStd![0]).toBeCloseTo(Math.sqrt(4 - 0.16), 12);
    // One validation step (t = 6): change 0.
    expect(r.validation.steps).toBe(1);
    expect(r.validation.changeStd![0]).toBe(0);
    expect(r.validation.valueStd![0]).toBe(0);
  });

  it('warns when validation\'s changes are far smaller than training\'s, not when alike', () => {
    const r = prng(3);
    const calmEnd = Array.from({ length: 400 }, (_, t) => (t < 300 ? 10 * r() : 5 + 0.1 * r()));
    const w = splitReport(regression(calmEnd)).warnings;
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/^validation's 1-step changes of x are \d+(\.\d+)?x smaller than training's/);
    const alike = Array.from({ length: 400 }, () => r());
    expect(splitReport(regression(alike)).warnings).toEqual([]);
    const wild = Array.from({ length: 400 }, (_, t) => (t < 300 ? 0.1 * r() : 10 * r()));
    expect(splitReport(regression(wild)).warnings[0]).toMatch(/x larger than training's/);
  });

  it('warns when validation holds none of a class present in training; blocks mode can fix that', () => {
    // A rare event early in the recording (rows 100..119 of 400): the tail split never sees it.
    const x = Array.from({ length: 400 }, (_, t) => Math.sin(t / 5));
    const labels = x.map((_, t) => (t >= 100 && t < 120 ? 'event' : 'calm'));
    const build = (extra: Partial<DatasetInput>) => buildDataset({
      inputNames: ['x'], inputs: [x], valFraction: 0.2, seqLen: 5, ...extra,
      target: { task: 'classification', labelName: 'kind', labels },
    });
    const tail = splitReport(build({}));
    expect(tail.validation.classCounts).toEqual([80, 0]);
    expect(tail.warnings).toEqual([expect.stringMatching(/^validation holds no rows of class "event" \(training holds 20\)/)]);
    const blocks = build({ valMode: 'blocks' });
    const report = splitReport(blocks);
    expect(report.warnings).toEqual([]);
    expect(report.validation.classCounts![1]).toBeGreaterThan(0);
    expect(report.train.classCounts![1]).toBeGreaterThan(0);
    expect(blocks.classCounts).toEqual(report.train.classCounts);
    // A forecaster places its blocks by the same labels given as strata.
    const forecaster = regression(x, { valMode: 'blocks', strata: labels, valFraction: 0.2, seqLen: 5 });
    expect(forecaster.split.phase).toBe(blocks.split.phase);
    expect(blocks.split.phase).toBeGreaterThan(0);
  });
});

describe('edge-rnn train --val-mode blocks', () => {
  afterEach(() => vi.restoreAllMocks());
  it('records the split in the model and card, and prints the warnings on stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-rnn-split-'));
    const rows = Array.from({ length: 300 }, (_, t) => [(t < 240 ? 20 + 2 * Math.sin(t) : 20 + 0.01 * Math.sin(t)).toFixed(3)]);
    writeFileSync(join(dir, 'd.csv'), ['a', ...rows.map((r) => r.join(','))].join('\n') + '\n');
    let stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const base = ['train', '--data', join(dir, 'd.csv'), '--inputs', 'a', '--target', 'a', '--seq-len', '5', '--epochs', '1', '--hidden', '3', '--seed', '1', '--no-progress'];
    expect(await main([...base, '--out', join(dir, 't.msgpack')])).toBe(0);
    expect(stderr).toMatch(/^warning: validation's 1-step changes of a are [\d.]+x smaller than training's/m);
    const tailCard = JSON.parse(readFileSync(join(dir, 't.card.json'), 'utf8'));
    expect(tailCard.split.warnings).toHaveLength(1);
    expect(decodeModel(readFileSync(join(dir, 't.msgpack'))).meta!.dataset).not.toHaveProperty('valMode');
    stderr = '';
    expect(await main([...base, '--val-mode', 'blocks', '--val-blocks', '3', '--out', join(dir, 'b.msgpack')])).toBe(0);
    const meta = decodeModel(readFileSync(join(dir, 'b.msgpack'))).meta!.dataset;
    expect(meta).toMatchObject({ valMode: 'blocks', valBlocks: 3, valGap: 5 });
    // What quantize --val reads back from the model: the same rows as training held out.
    const again = buildDataset({
      inputNames: ['a'], inputs: [rows.map((r) => Number(r[0]))], valFraction: 0.2, seqLen: 5, valMode: 'blocks', valBlocks: 3,
      target: { task: 'regression', targetNames: ['a'], targets: [rows.map((r) => Number(r[0]))], horizon: 1 },
    });
    expect([...splitRoles(300, splitFromMeta(meta, 0.2))]).toEqual([...again.series[0].role]);
    const card = JSON.parse(readFileSync(join(dir, 'b.card.json'), 'utf8'));
    expect(card.split).toMatchObject({ mode: 'blocks', blocks: 3, gap: 5, devices: [{ rows: 300, validation: 60 }] });
    expect(card.split.devices[0].train + card.split.devices[0].validation + card.split.devices[0].gap).toBe(300);
    expect(readFileSync(join(dir, 'b.card.md'), 'utf8')).toMatch(/in 3 blocks spread over it/);
  });
});
