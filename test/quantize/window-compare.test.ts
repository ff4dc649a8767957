// Float vs int8 for a windowed model (issue 19): only the rows that end a window have
// outputs, so only they are compared and scored; the int8 file decodes as a windowed model.
import { describe, expect, it } from 'vitest';
import { compareModels } from '../../src/eval/compare.js';
import { quantizeWithReport } from '../../src/eval/quantization-report.js';
import { decodeModel, encodeModel } from '../../src/model/index.js';
import { quantizeModel } from '../../src/model/quantize.js';
import { loadWindowFixtures, windowFixtureModel } from '../golden/window-fixture.js';
import { prng } from '../model/model-builders.js';

// PyTorch-initialised weights (the builders' awkward ±float32-max values would saturate every gate).
const fx = loadWindowFixtures().find((f) => f.name === 'lstm-bi-l1-last')!;
const base = windowFixtureModel(fx);
const model = { ...base, window: { size: 6, hop: 2 } };

function data(devices: number, perDevice: number) {
  const r = prng(5);
  const rows = devices * perDevice;
  const { mean, std } = model.inputs;
  const inputs = Float32Array.from({ length: rows * 3 }, (_, k) => mean.data[k % 3] + (r() * 2 - 1) * 2 * std.data[k % 3]);
  const deviceOf = Array.from({ length: rows }, (_, k) => `d${k % devices}`);
  const labels = Array.from({ length: rows }, (_, k) => (k % 7 === 0 ? 'class1' : 'class0'));
  return { inputs, devices: deviceOf, labels };
}

describe('compareModels on a windowed model', () => {
  it('compares and scores only the rows that end a window', () => {
    const d = data(3, 20); // per device: windows end at its rows 5, 7, …, 19: 8 each
    const same = compareModels(model, model, d);
    expect(same.rows).toBe(60);
    expect(same.windowResults).toBe(24);
    expect(same.maxAbsDiff).toBe(0);
    expect(same.metric).toMatchObject({ kind: 'classification', scored: 24 });
    const q = compareModels(model, quantizeModel(model), d);
    expect(q.windowResults).toBe(24);
    expect(q.maxAbsDiff).toBeGreaterThan(0);
    expect(q.maxAbsDiff).toBeLessThan(0.1);
    expect(Number.isFinite(q.meanAbsDiff)).toBe(true);
    // Rows that end no window were never written: zero in both outputs.
    expect(q.yFloat.subarray(0, 2 * 15).every((v) => v === 0)).toBe(true);
  });

  it('quantizeWithReport writes a windowed int8 file with a report over the window rows', () => {
    const { bytes, report } = quantizeWithReport(model, encodeModel(model).length, { data: { ...data(2, 30), validationFraction: 0.5 } });
    const back = decodeModel(bytes);
    expect(back.window).toEqual({ size: 6, hop: 2 });
    expect((back.layers[0] as { reverse?: { wIh: { dtype: string } } }).reverse!.wIh.dtype).toBe('i8');
    expect(report.comparison?.windowResults).toBe(2 * 13);
    expect(report.metric?.scored).toBeGreaterThan(0);
    expect(report.metric!.scored).toBeLessThanOrEqual(2 * 13);
  });
});
