// Quantize a model and account for it (issue 6): the int8 model, its encoded bytes, and a
// report of what was lost — file sizes, float-vs-int8 output differences over recorded
// data, the task metric for both, and a plain verdict against the targets (int8 file
// ≤ 30% of float32; task metric within 1% relative). The report is stored in the int8
// model's meta.quantization, so it travels with the file. Pure: bytes and arrays only.
import { encodeModel } from '../model/codec.js';
import { layerF32Bytes, layerWeightBytes, quantizeModel } from '../model/quantize.js';
import type { Model, Tensor } from '../model/types.js';
import { compareModels, type CompareData, type SideBySide, type TaskMetric } from './compare.js';

/** The task metric may move by at most this fraction of its float32 value. */
export const METRIC_TOLERANCE = 0.01;
/** The int8 file may be at most this fraction of the float32 file. */
export const SIZE_TARGET = 0.3;

export const SCHEME =
  'int8, symmetric per output row: w = q * scale[row], q in -127..127, scale = max|row| / 127; ' +
  'round half away from zero, clamped; weight matrices only (biases, normalisation and state stay float32)';

export interface MetricCheck {
  readonly name: string;
  readonly float: number;
  readonly int8: number;
  /** (int8 - float) / float; null when float is 0. */
  readonly relativeChange: number | null;
  readonly within: boolean;
}

export interface QuantizationReport {
  readonly scheme: string;
  readonly quantizedLayers: readonly number[];
  readonly layers: readonly { readonly index: number; readonly type: string; readonly dtype: string; readonly bytes: number; readonly f32Bytes: number }[];
  readonly sizes: {
    readonly floatFileBytes: number;
    readonly int8FileBytes: number;
    readonly fileRatio: number;
    readonly floatWeightBytes: number;
    readonly int8WeightBytes: number;
    readonly weightRatio: number;
    readonly withinSizeTarget: boolean;
  };
  /** Float vs int8 over the data; null when no data was given. */
  readonly comparison: (Omit<SideBySide, 'metric' | 'metricNote'> & { readonly source: string }) | null;
  readonly metric: TaskMetric | null;
  readonly checks: readonly MetricCheck[];
  readonly verdict: {
    readonly sizeWithinTarget: boolean;
    /** null: not measured (no data, or no target/label columns). */
    readonly metricWithinTolerance: boolean | null;
    readonly text: string;
  };
}

export interface QuantizeRequest {
  readonly layers?: readonly number[];
  /** Recorded readings to compare on, and a name for them (e.g. the CSV path). */
  readonly data?: CompareData;
  readonly dataSource?: string;
}

function layerDtype(t: readonly Tensor[]): string {
  const kinds = [...new Set(t.map((x) => x.dtype))];
  return kinds.join('/');
}

function relative(float: number, int8: number): number | null {
  if (float === 0) return int8 === 0 ? 0 : null;
  return (int8 - float) / float;
}

function check(name: string, float: number, int8: number): MetricCheck {
  const rel = relative(float, int8);
  return { name, float, int8, relativeChange: rel, within: rel !== null && Math.abs(rel) <= METRIC_TOLERANCE + 1e-12 };
}

export function metricChecks(metric: TaskMetric | null): MetricCheck[] {
  if (!metric) return [];
  if (metric.kind === 'classification') {
    return [check('accuracy', metric.float.accuracy, metric.int8.accuracy), check('macro F1', metric.float.macroF1, metric.int8.macroF1)];
  }
  return metric.perOutput.flatMap((p) => [check(`RMSE ${p.name}`, p.float.rmse, p.int8.rmse), check(`MAE ${p.name}`, p.float.mae, p.int8.mae)]);
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const signedPct = (v: number | null) => (v === null ? 'n/a' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)}%`);

function verdictText(sizeRatio: number, sizeOk: boolean, checks: readonly MetricCheck[], note: string | undefined): string {
  const size = `int8 file is ${pct(sizeRatio)} of float32 (target ≤ ${pct(SIZE_TARGET)}): ${sizeOk ? 'met' : 'NOT met'}.`;
  if (checks.length === 0) return `${size} Task metric: not measured (${note ?? 'no data given'}).`;
  const bad = checks.filter((c) => !c.within);
  const list = (cs: readonly MetricCheck[]) => cs.map((c) => `${c.name} ${signedPct(c.relativeChange)}`).join(', ');
  return bad.length === 0
    ? `${size} Task metric within ${pct(METRIC_TOLERANCE)} of float32: yes (${list(checks)}).`
    : `${size} Task metric within ${pct(METRIC_TOLERANCE)} of float32: NO — ${list(bad)}${bad.length < checks.length ? ` (all: ${list(checks)})` : ''}.`;
}

/**
 * Quantizes `float` (whose file is `floatFileBytes` long), compares the two over the data,
 * and returns the int8 model with the report in meta.quantization and its encoded bytes
 * (whose length is the report's int8FileBytes).
 */
export function quantizeWithReport(
  float: Model, floatFileBytes: number, req: QuantizeRequest = {},
): { model: Model; bytes: Uint8Array; report: QuantizationReport } {
  const int8 = quantizeModel(float, { layers: req.layers });
  const quantizedLayers = req.layers ? [...req.layers].sort((a, b) => a - b) : int8.layers.map((_, i) => i);
  const layers = int8.layers.map((l, index) => ({
    index, type: l.type,
    dtype: layerDtype(l.type === 'dense' ? [l.w] : [l.wIh, l.wHh]),
    bytes: layerWeightBytes(l), f32Bytes: layerF32Bytes(l),
  }));
  const floatWeightBytes = float.layers.reduce((s, l) => s + layerWeightBytes(l), 0);
  const int8WeightBytes = layers.reduce((s, l) => s + l.bytes, 0);

  let comparison: QuantizationReport['comparison'] = null;
  let metric: TaskMetric | null = null;
  let note: string | undefined;
  if (req.data) {
    const { yFloat: _a, yInt8: _b, metric: m, metricNote, ...rest } = compareModels(float, int8, req.data);
    comparison = { source: req.dataSource ?? 'data', ...rest };
    metric = m;
    note = metricNote;
  }
  const checks = metricChecks(metric);
  const metricOk = checks.length === 0 ? null : checks.every((c) => c.within);

  // The file holds its own size: re-encode until the recorded size is the real one.
  let int8FileBytes = 0;
  for (let pass = 0; pass < 8; pass++) {
    const fileRatio = int8FileBytes / floatFileBytes;
    const sizeOk = fileRatio <= SIZE_TARGET;
    const report: QuantizationReport = {
      scheme: SCHEME, quantizedLayers, layers,
      sizes: {
        floatFileBytes, int8FileBytes, fileRatio, floatWeightBytes, int8WeightBytes,
        weightRatio: int8WeightBytes / floatWeightBytes, withinSizeTarget: sizeOk,
      },
      comparison, metric, checks,
      verdict: { sizeWithinTarget: sizeOk, metricWithinTolerance: metricOk, text: verdictText(fileRatio, sizeOk, checks, note) },
    };
    const model: Model = { ...int8, meta: { ...(float.meta ?? {}), quantization: storedReport(report) } };
    const bytes = encodeModel(model);
    if (bytes.length === int8FileBytes) return { model, bytes, report };
    int8FileBytes = bytes.length;
  }
  throw new Error('quantizeWithReport: the encoded size did not settle');
}

const r4 = (v: number) => (Number.isInteger(v) ? v : Number(v.toPrecision(4)));

/**
 * What meta.quantization holds: the report's numbers at 4 significant digits, without the
 * per-output and per-quarter detail (which the printed report and the card carry), so the
 * report costs the small file it describes a few hundred bytes, not kilobytes.
 */
export function storedReport(r: QuantizationReport): Record<string, unknown> {
  const c = r.comparison;
  return {
    scheme: 'int8-symmetric-per-row',
    layers: r.layers.map((l) => l.dtype),
    floatFileBytes: r.sizes.floatFileBytes,
    int8FileBytes: r.sizes.int8FileBytes,
    ...(c ? {
      data: { source: c.source, rows: c.rows, streams: c.streams },
      maxAbsDiff: r4(c.maxAbsDiff), meanAbsDiff: r4(c.meanAbsDiff),
    } : {}),
    ...(r.checks.length ? { metrics: Object.fromEntries(r.checks.map((k) => [k.name, { float: r4(k.float), int8: r4(k.int8) }])) } : {}),
    sizeWithinTarget: r.verdict.sizeWithinTarget,
    metricWithinTolerance: r.verdict.metricWithinTolerance,
  };
}
