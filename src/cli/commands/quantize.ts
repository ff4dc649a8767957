// `edge-rnn quantize MODEL --out OUT [--data CSV]`: the int8 model (weights per-row int8,
// everything else float32) with an accuracy report, printed and stored in its meta.
import type { Command } from 'commander';
import { cellNumber, cellPlace, columnIndex, CsvError, numericCell, readCsv, type CsvTable } from '../../io/csv.js';
import { readModelFile, writeModelFile } from '../../io/model-file.js';
import type { Model } from '../../model/types.js';
import type { CompareData } from '../../eval/compare.js';
import { METRIC_TOLERANCE, quantizeWithReport, type QuantizationReport } from '../../eval/quantization-report.js';
import { splitFromMeta } from '../../train/split.js';
import { CliError } from '../errors.js';
import { formatTable } from '../table.js';

/** Readings, devices and (when the columns are there) targets or labels from a CSV. */
export function compareDataFromCsv(model: Model, table: CsvTable, deviceColumn?: string): CompareData {
  const names = model.inputs.names;
  const I = names.length;
  const cols = columnIndex(table, names);
  const N = table.rows.length;
  const inputs = new Float32Array(N * I);
  for (let r = 0; r < N; r++) for (let i = 0; i < I; i++) inputs[r * I + i] = numericCell(table, r, cols[i]);
  const dc = deviceColumn === undefined ? -1 : columnIndex(table, [deviceColumn])[0];
  const devices = dc < 0 ? undefined : table.rows.map((row) => row[dc]);
  if (model.task === 'classification') {
    const c = table.header.indexOf(model.outputs.names[0]);
    return { inputs, devices, ...(c >= 0 ? { labels: table.rows.map((row) => row[c]) } : {}) };
  }
  // Regression targets: the columns named as the outputs (a forecaster's outputs are named
  // after the inputs it forecasts). A missing or non-finite target leaves its row unscored;
  // text that is not a number is a wrong column, an error as in train.
  const O = model.outputs.names.length;
  const tcols = model.outputs.names.map((n) => table.header.indexOf(n));
  if (tcols.some((c) => c < 0)) return { inputs, devices };
  const targets = new Float64Array(N * O);
  for (let r = 0; r < N; r++) {
    for (let o = 0; o < O; o++) {
      const n = cellNumber(table, r, tcols[o]);
      if (!n.ok && n.code === 'not-a-number') throw new CsvError(`${cellPlace(table, r, tcols[o])}: ${n.why}`);
      targets[r * O + o] = n.ok ? n.value : NaN;
    }
  }
  return { inputs, devices, targets };
}

const g4 = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(4));
const pct = (v: number | null, digits = 2) => (v === null ? 'n/a' : `${v >= 0 && digits === 2 ? '+' : ''}${(v * 100).toFixed(digits)}%`);

/** The report for people: sizes, output differences, the task metric, the verdict. */
export function formatReport(r: QuantizationReport): string {
  const s = r.sizes;
  const out: string[] = [];
  out.push(`scheme: ${r.scheme}`, '');
  out.push(formatTable(
    ['layer', 'type', 'dtype', 'bytes', 'float32 bytes', 'saving'],
    r.layers.map((l) => [String(l.index), l.type, l.dtype, String(l.bytes), String(l.f32Bytes), pct(1 - l.bytes / l.f32Bytes, 1)]),
  ));
  out.push('', `file:    ${s.floatFileBytes} -> ${s.int8FileBytes} bytes (${pct(s.fileRatio, 1)} of float32)`);
  out.push(`weights: ${s.floatWeightBytes} -> ${s.int8WeightBytes} bytes (${pct(s.weightRatio, 1)}; biases and scales are float32)`);
  const c = r.comparison;
  if (c) {
    out.push('', `float32 vs int8, step by step over ${c.source}: ${c.rows} rows${c.windowResults !== undefined ? ` (${c.windowResults} end a window: only those compared)` : ''}, ${c.streams} stream(s), each stream from its start`);
    out.push(formatTable(
      ['output', 'max |diff|', 'mean |diff|'],
      [...c.perOutput.map((p) => [p.name, g4(p.maxAbsDiff), g4(p.meanAbsDiff)]), ['all', g4(c.maxAbsDiff), g4(c.meanAbsDiff)]],
    ));
    out.push(`mean |diff| by quarter of each stream: ${c.meanAbsDiffByQuarter.map(g4).join(', ')}`);
  } else {
    out.push('', 'no --data given: output differences and task metric not measured');
  }
  const m = r.metric;
  if (m) {
    const tail = !m.validationFraction ? ''
      : m.validationMode === 'blocks' ? ` in the validation blocks (${pct(m.validationFraction, 0)} of each stream, as train --val-mode blocks held them out)`
        : ` in the validation tail (last ${pct(m.validationFraction, 0)} of each stream)`;
    const what = m.kind === 'regression'
      ? `${m.scored} rows${tail} scored against the targets${m.horizon ? ` ${m.horizon} step(s) later` : ''}`
      : `${m.scored} labelled rows${tail}; the two models pick the same label on ${pct(m.agreement, 1)}`;
    out.push('', `task metric (${what}):`);
    out.push(formatTable(
      ['metric', 'float32', 'int8', 'change', `within ${pct(METRIC_TOLERANCE, 0)}`],
      r.checks.map((k) => [k.name, g4(k.float), g4(k.int8), pct(k.relativeChange), k.within ? 'yes' : 'NO']),
    ));
  }
  out.push('', r.verdict.text);
  return out.join('\n');
}

function parseLayers(v: string): number[] {
  const out = v.split(',').map((x) => x.trim()).filter((x) => x !== '').map(Number);
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n < 0)) {
    throw new CliError(`--layers: expected comma-separated layer indices such as 0,1, got ${JSON.stringify(v)}`, 2);
  }
  return out;
}

interface QuantizeOptions {
  out: string;
  data?: string;
  deviceColumn?: string;
  layers?: string;
  val?: string;
  json?: boolean;
}

export function registerQuantize(program: Command): void {
  program
    .command('quantize')
    .description('write an int8 copy of a model (per-row int8 weights, ~4x smaller) with a float-vs-int8 accuracy report')
    .argument('<model>', 'float32 (or partly int8) model file (.msgpack)')
    .requiredOption('-o, --out <file>', 'where to write the int8 model')
    .option('-d, --data <file>', "CSV to compare float32 and int8 on (columns named as the model's inputs; targets/labels scored when present)")
    .option('--device-column <name>', 'column naming the device; each device is one stream (default: the whole file is one stream)')
    .option('--val <fraction>', "score the task metric only on the last fraction of each device's stream (as train --val held it out); every stream is still stepped from its start")
    .option('--layers <list>', 'quantize only these layer indices, e.g. 0,1 (default: all)')
    .option('--json', 'print the report as JSON')
    .action((path: string, opts: QuantizeOptions) => {
      if ((opts.deviceColumn !== undefined || opts.val !== undefined) && opts.data === undefined) throw new CliError('--device-column and --val need --data', 2);
      const val = opts.val === undefined ? undefined : Number(opts.val);
      if (val !== undefined && !(val > 0 && val < 1)) throw new CliError(`--val: expected a fraction between 0 and 1, got ${JSON.stringify(opts.val)}`, 2);
      const { model, bytes } = readModelFile(path);
      const layers = opts.layers === undefined ? undefined : parseLayers(opts.layers);
      if (layers) {
        const bad = layers.find((i) => i >= model.layers.length);
        if (bad !== undefined) throw new CliError(`--layers: no layer ${bad} (${path} has layers 0..${model.layers.length - 1})`, 2);
      }
      const data = opts.data === undefined ? undefined
        : { ...compareDataFromCsv(model, readCsv(opts.data), opts.deviceColumn), ...(val !== undefined ? { validationFraction: val, validationSplit: splitFromMeta(model.meta?.dataset, val) } : {}) };
      const res = quantizeWithReport(model, bytes.length, { layers, data, dataSource: opts.data });
      const written = writeModelFile(opts.out, res.model);
      if (written.length !== res.bytes.length) throw new Error(`quantize: wrote ${written.length} bytes, the report says ${res.bytes.length}`);
      if (opts.json) {
        process.stdout.write(JSON.stringify({ out: opts.out, ...res.report }) + '\n');
        return;
      }
      process.stdout.write(`${model.name} v${model.modelVersion} -> ${opts.out}\n${formatReport(res.report)}\n`);
    });
}
