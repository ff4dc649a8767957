// The float-vs-int8 comparison and report: output differences, the task metric against
// hand-computed values (forecaster targets k steps later in the same device's stream,
// accuracy and macro F1), the verdict, and the report stored in the int8 file.
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, type Model } from '../../src/model/index.js';
import { compareModels } from '../../src/eval/compare.js';
import { metricChecks, quantizeWithReport } from '../../src/eval/quantization-report.js';
import { dense, prng, recurrent, regressionModel } from './helpers.js';

const rand = prng(5);

/** A model whose output is the constant `b` whatever the input (dense weights all zero). */
function constant(b: readonly number[], opts: { horizon?: number; labels?: string[] } = {}): Model {
  const rnn = recurrent('rnn', 1, 3, rand);
  const head = dense(3, b.length, opts.labels ? 'softmax' : 'linear', rand);
  const layers = [rnn, { ...head, w: { dtype: 'f32' as const, shape: [b.length, 3], data: new Float32Array(b.length * 3) }, b: { dtype: 'f32' as const, shape: [b.length], data: Float32Array.from(b) } }];
  const base = regressionModel(layers, { horizon: opts.horizon });
  if (!opts.labels) return base;
  return { ...base, task: 'classification', outputs: { names: ['state'], labels: opts.labels } };
}

describe('compareModels', () => {
  it('reports max and mean |diff| per output and overall', () => {
    const inputs = Float32Array.of(1, 2, 3, 4);
    const r = compareModels(constant([1, 2]), constant([1.5, 2]), { inputs });
    expect(r.rows).toBe(4);
    expect(r.streams).toBe(1);
    expect(r.perOutput.map((p) => p.maxAbsDiff)).toEqual([0.5, 0]);
    expect(r.perOutput.map((p) => p.meanAbsDiff)).toEqual([0.5, 0]);
    expect(r.maxAbsDiff).toBe(0.5);
    expect(r.meanAbsDiff).toBe(0.25);
    expect(r.meanAbsDiffByQuarter).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(r.metric).toBeNull();
    expect(r.metricNote).toMatch(/no target/);
  });

  it('scores a forecaster against the same device\'s value k steps later', () => {
    // Rows: A10 B20 A11 B21 A12, horizon 1. Scored: row0 -> 11, row1 -> 21, row2 -> 12.
    const inputs = Float32Array.of(10, 20, 11, 21, 12);
    const devices = ['A', 'B', 'A', 'B', 'A'];
    const r = compareModels(constant([1], { horizon: 1 }), constant([2], { horizon: 1 }), { inputs, devices, targets: Float64Array.from(inputs) });
    expect(r.streams).toBe(2);
    if (r.metric?.kind !== 'regression') throw new Error('expected a regression metric');
    expect(r.metric.scored).toBe(3);
    expect(r.metric.horizon).toBe(1);
    const [o] = r.metric.perOutput;
    expect(o.float.rmse).toBeCloseTo(Math.sqrt((10 * 10 + 20 * 20 + 11 * 11) / 3), 12);
    expect(o.float.mae).toBeCloseTo((10 + 20 + 11) / 3, 12);
    expect(o.int8.rmse).toBeCloseTo(Math.sqrt((9 * 9 + 19 * 19 + 10 * 10) / 3), 12);
    expect(o.int8.mae).toBeCloseTo((9 + 19 + 10) / 3, 12);
  });

  it('scores a non-forecaster against the same row and skips missing targets', () => {
    const inputs = Float32Array.of(3, 5, 7);
    const targets = Float64Array.of(3, NaN, 7);
    const r = compareModels(constant([4]), constant([4]), { inputs, targets });
    if (r.metric?.kind !== 'regression') throw new Error('expected a regression metric');
    expect(r.metric.scored).toBe(2);
    expect(r.metric.perOutput[0].float).toEqual({ rmse: Math.sqrt((1 + 9) / 2), mae: 2 }); // errors 1 and 3
  });

  it('scores only each stream\'s validation tail when asked, as train --val splits it', () => {
    // A: 4 rows, f = 0.5 -> positions 2, 3 scored; B: 3 rows -> 3 - floor(1.5) = 2 -> position 2.
    const devices = ['A', 'B', 'A', 'B', 'A', 'B', 'A'];
    const inputs = Float32Array.of(1, 2, 3, 4, 5, 6, 7);
    const r = compareModels(constant([0]), constant([0]), { inputs, devices, targets: Float64Array.from(inputs), validationFraction: 0.5 });
    if (r.metric?.kind !== 'regression') throw new Error('expected a regression metric');
    expect(r.metric.scored).toBe(3); // rows 4 (A, 5), 6 (A, 7) and 5 (B, 6)
    expect(r.metric.perOutput[0].float.mae).toBeCloseTo((5 + 7 + 6) / 3, 12);
    expect(r.metric.validationFraction).toBe(0.5);
    expect(r.rows).toBe(7); // every row is still stepped
  });

  it('scores classification: accuracy, macro F1 and agreement, skipping unlabelled rows', () => {
    const labels = ['a', 'b', 'b', 'c', ''];
    const inputs = Float32Array.of(0, 1, 2, 3, 4);
    const r = compareModels(constant([0, 1, 0], { labels: ['a', 'b', 'c'] }), constant([0, 0, 1], { labels: ['a', 'b', 'c'] }), { inputs, labels });
    if (r.metric?.kind !== 'classification') throw new Error('expected a classification metric');
    expect(r.metric.scored).toBe(4);
    // float always says b: b tp2 fp2 -> F1 2/3; a and c never predicted -> 0.
    expect(r.metric.float.accuracy).toBe(0.5);
    expect(r.metric.float.macroF1).toBeCloseTo(2 / 3 / 3, 12);
    // the other always says c: c tp1 fp3 -> F1 0.4; a, b 0.
    expect(r.metric.int8.accuracy).toBe(0.25);
    expect(r.metric.int8.macroF1).toBeCloseTo(0.4 / 3, 12);
    expect(r.metric.agreement).toBe(0);
    expect(r.outputs).toEqual(['a', 'b', 'c']);
  });
});

describe('metricChecks', () => {
  it('holds each metric to 1% relative of float32, both directions', () => {
    const checks = metricChecks({
      kind: 'regression', scored: 10, horizon: 1,
      perOutput: [
        { name: 't', float: { rmse: 1, mae: 2 }, int8: { rmse: 1.005, mae: 1.97 } },
        { name: 'h', float: { rmse: 0, mae: 0 }, int8: { rmse: 0, mae: 0.1 } },
      ],
    });
    expect(checks.map((c) => [c.name, c.within])).toEqual([['RMSE t', true], ['MAE t', false], ['RMSE h', true], ['MAE h', false]]);
    expect(checks[1].relativeChange).toBeCloseTo(-0.015, 12);
    expect(checks[3].relativeChange).toBeNull();
  });
});

describe('quantizeWithReport', () => {
  const model = regressionModel([recurrent('lstm', 2, 96, rand), dense(96, 2, 'linear', rand)], { horizon: 1, meta: { trainedWith: 'unit test', metrics: { rmse: 1 } } });
  const floatBytes = encodeModel(model).length;
  const R = prng(8);
  const N = 120;
  const inputs = Float32Array.from({ length: 2 * N }, (_, i) => Math.sin(i / 9) + R() * 0.1);
  const devices = Array.from({ length: N }, (_, r) => (r % 3 === 0 ? 'n1' : 'n2'));

  it('writes an int8 file that holds its report, its own size and the source meta', () => {
    const { model: q, bytes, report } = quantizeWithReport(model, floatBytes, { data: { inputs, devices, targets: Float64Array.from(inputs) }, dataSource: 'unit.csv' });
    const back = decodeModel(bytes);
    const stored = back.meta!.quantization as Record<string, any>;
    expect(stored.int8FileBytes).toBe(bytes.length);
    expect(stored.floatFileBytes).toBe(floatBytes);
    expect(report.sizes.int8FileBytes).toBe(bytes.length);
    expect(back.meta!.trainedWith).toBe('unit test');
    expect(back.meta!.metrics).toEqual({ rmse: 1 });
    expect(stored.data).toEqual({ source: 'unit.csv', rows: N, streams: 2 });
    expect(back.layers.every((l) => (l.type === 'dense' ? l.w.dtype === 'i8' : l.wIh.dtype === 'i8' && l.wHh.dtype === 'i8'))).toBe(true);
    expect(q.layers.length).toBe(2);
    // LSTM with G = 4H rows: float32 4G(I+H) + 8G bytes, int8 G(I+H) + 8G (scales) + 8G (biases),
    // so (I+H+16) / (4(I+H)+8) = 114/400 for I+H = 98; the dense head adds a little.
    expect(report.sizes.weightRatio).toBeGreaterThan(0.28);
    expect(report.sizes.weightRatio).toBeLessThan(0.29);
    expect(report.sizes.fileRatio).toBeCloseTo(bytes.length / floatBytes, 12);
    expect(report.verdict.sizeWithinTarget).toBe(bytes.length <= 0.3 * floatBytes);
    expect(report.comparison!.maxAbsDiff).toBeGreaterThan(0);
    expect(report.metric?.kind).toBe('regression');
    expect(report.checks.length).toBe(4);
    expect(report.verdict.metricWithinTolerance).toBe(report.checks.every((c) => c.within));
    expect(report.verdict.text).toMatch(report.verdict.sizeWithinTarget ? /: met\./ : /NOT met/);
    // Stored numbers are rounded, so the report costs the file little.
    expect(encodeModel({ ...q, meta: { ...model.meta } }).length).toBeGreaterThan(bytes.length - 700);
  });

  it('says plainly when nothing was measured, and honours --layers', () => {
    const { bytes, report } = quantizeWithReport(model, floatBytes, { layers: [1] });
    expect(report.comparison).toBeNull();
    expect(report.verdict.metricWithinTolerance).toBeNull();
    expect(report.verdict.text).toMatch(/not measured/);
    const back = decodeModel(bytes);
    expect(back.layers.map((l) => (l.type === 'dense' ? l.w.dtype : l.wIh.dtype))).toEqual(['f32', 'i8']);
    expect(report.quantizedLayers).toEqual([1]);
  });
});
