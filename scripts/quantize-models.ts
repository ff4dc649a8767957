// `npm run quantize:models`: int8 versions of the shipped models (mote-forecaster, mote-events, mote-events-window), each with its accuracy
// report on the model's own validation data (the data file, device column and validation
// fraction recorded in its meta by `edge-rnn train`; every device's stream is stepped from
// its start, the task metric is scored on the held-out tail). Writes
// models/<name>.int8.msgpack, models/<name>.int8.card.md and models/<name>.int8.card.json.
// Falls back to the untrained example model and the sample readings when no trained model
// is there. Deterministic: no clock in the outputs.
import { existsSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { compareDataFromCsv, formatReport } from '../src/cli/commands/quantize.js';
import { readCsv } from '../src/io/csv.js';
import { readModelFile, writeModelFile } from '../src/io/model-file.js';
import type { Model } from '../src/model/types.js';
import type { CompareData } from '../src/eval/compare.js';
import { METRIC_TOLERANCE, SIZE_TARGET, quantizeWithReport, type QuantizationReport } from '../src/eval/quantization-report.js';
import { splitFromMeta } from '../src/train/split.js';

const SHIPPED = ['mote-forecaster', 'mote-events', 'mote-events-window'];
const DATA_DIRS = ['firmware-sim/data', 'models', 'data'];

interface Job {
  readonly name: string;
  readonly modelPath: string;
  readonly dataPath: string;
  readonly deviceColumn?: string;
  readonly validationFraction?: number;
}

function jobFor(name: string): Job | null {
  const modelPath = join('models', `${name}.msgpack`);
  if (!existsSync(modelPath)) return null;
  const { model } = readModelFile(modelPath);
  const ds = (model.meta?.dataset ?? {}) as { file?: string; deviceColumn?: string; valFraction?: number };
  if (!ds.file) throw new Error(`${modelPath}: meta.dataset.file is missing, so its validation data is unknown`);
  const dataPath = DATA_DIRS.map((d) => join(d, ds.file!)).find((p) => existsSync(p));
  if (!dataPath) throw new Error(`${modelPath}: data file ${ds.file} not found in ${DATA_DIRS.join(', ')}`);
  return { name, modelPath, dataPath, deviceColumn: ds.deviceColumn, validationFraction: ds.valFraction };
}

/** The report with the session's kernels forced (js | wasm), or the default choice. */
function withKernels<T>(kernels: string | undefined, f: () => T): T {
  const saved = process.env.EDGE_RNN_KERNELS;
  if (kernels === undefined) delete process.env.EDGE_RNN_KERNELS;
  else process.env.EDGE_RNN_KERNELS = kernels;
  try {
    return f();
  } finally {
    if (saved === undefined) delete process.env.EDGE_RNN_KERNELS;
    else process.env.EDGE_RNN_KERNELS = saved;
  }
}

/** Whether the float32 metrics recomputed here agree with the ones training recorded (4 digits). */
function trainingAgreement(model: Model, r: QuantizationReport): string {
  const m = model.meta?.metrics as { task?: string; accuracy?: number; targets?: { name: string; rmse: number; mae: number }[] } | undefined;
  if (!m || !r.metric) return 'no training metrics to compare with';
  const same = (a: number, b: number) => Number(a.toPrecision(4)) === Number(b.toPrecision(4));
  const label = (model.meta?.hyperParameters as { windowLabel?: string } | undefined)?.windowLabel;
  if (r.metric.kind === 'classification' && model.window && label === 'any') {
    // train --window-label any scores each window against "any event in it"; the report scores each window's last reading.
    return `float32 accuracy ${Number(r.metric.float.accuracy.toPrecision(4))} against each window's last reading (as the card's per-reading comparison scores it); meta.metrics (${m.accuracy}) score the any-event window labels, not comparable`;
  }
  if (r.metric.kind === 'classification' && m.accuracy !== undefined) {
    return same(r.metric.float.accuracy, m.accuracy) ? `float32 accuracy ${m.accuracy} equals meta.metrics (training)` : `float32 accuracy ${r.metric.float.accuracy} differs from meta.metrics ${m.accuracy}`;
  }
  if (r.metric.kind === 'regression' && m.targets) {
    const ok = r.metric.perOutput.every((p) => {
      const t = m.targets!.find((x) => x.name === p.name);
      return t !== undefined && same(p.float.rmse, t.rmse) && same(p.float.mae, t.mae);
    });
    return ok ? 'float32 RMSE and MAE equal meta.metrics (training) to 4 digits' : 'float32 metrics DIFFER from meta.metrics (training): check the data and split';
  }
  return 'training metrics not comparable';
}

function card(job: Job, model: Model, r: QuantizationReport, js: QuantizationReport, agreement: string): string {
  const s = r.sizes;
  const out = `${job.name}.int8.msgpack`;
  const lines = [
    `# int8 model card: ${job.name}`, '',
    `- **File:** \`${out}\`, the int8 copy of \`${basename(job.modelPath)}\` (${model.name} v${model.modelVersion}; its model card: \`${job.name}.card.md\`)`,
    `- **Scheme:** ${r.scheme}`,
    `- **Size:** ${s.floatFileBytes} → ${s.int8FileBytes} bytes, ${(s.fileRatio * 100).toFixed(1)}% of float32 (target ≤ ${SIZE_TARGET * 100}%: **${s.withinSizeTarget ? 'met' : 'not met'}**). Weight tensors alone: ${s.floatWeightBytes} → ${s.int8WeightBytes} bytes (${(s.weightRatio * 100).toFixed(1)}%).`,
    `- **Task metric within ${METRIC_TOLERANCE * 100}% of float32:** **${r.verdict.metricWithinTolerance === null ? 'not measured' : r.verdict.metricWithinTolerance ? 'yes' : 'no'}**`,
    `- **Data:** \`${job.dataPath}\`${job.deviceColumn ? `, one stream per \`${job.deviceColumn}\`` : ''}, every stream stepped from its start; task metric on ${job.validationFraction ? (model.meta?.dataset as { valMode?: string } | undefined)?.valMode === 'blocks' ? `the validation blocks (${job.validationFraction * 100}% of each stream, as in training)` : `the validation tail (last ${job.validationFraction * 100}% of each stream, as in training)` : 'every row'}. Check: ${agreement}.`,
    '',
    '## Verdict', '',
    r.verdict.text, '',
  ];
  if (!s.withinSizeTarget) {
    const fixed = s.int8FileBytes - s.int8WeightBytes;
    lines.push(
      `Why the size target is not met: int8 stores 1 byte per weight, but the per-row scales and the biases stay float32 ` +
      `and the file carries the same names, normalisation and metadata as the float32 one (${fixed} bytes here besides the tensors). ` +
      `For a layer with G gate rows the int8 payload is G·(I+H) + 8G bytes against 4G·(I+H) + 8G, so it falls under 30% only when I+H ` +
      `is above about 70 (hidden ≥ 64 or so); these models are small (hidden ${model.layers.filter((l) => l.type !== 'dense').map((l) => (l as { hiddenSize: number }).hiddenSize).join(', ')}).`, '',
    );
  }
  lines.push(
    '## Report', '',
    `Default session kernels (what \`edge-rnn run\` uses on this machine; EDGE_RNN_KERNELS unset):`, '',
    '```text', formatReport(r), '```', '',
    '## Same comparison on the JS kernels (EDGE_RNN_KERNELS=js: float activations, int8 weights)', '',
    '```text', js.verdict.text, '```', '',
    `Reproduce: \`npm run quantize:models\`, or \`edge-rnn quantize models/${basename(job.modelPath)} --out models/${out} --data ${job.dataPath}` +
    `${job.deviceColumn ? ` --device-column ${job.deviceColumn}` : ''}${job.validationFraction ? ` --val ${job.validationFraction}` : ''}\`.`, '',
  );
  return lines.join('\n');
}

function quantizeJob(job: Job): void {
  const { model, bytes } = readModelFile(job.modelPath);
  const data: CompareData = {
    ...compareDataFromCsv(model, readCsv(job.dataPath), job.deviceColumn),
    ...(job.validationFraction ? { validationFraction: job.validationFraction, validationSplit: splitFromMeta(model.meta?.dataset, job.validationFraction) } : {}),
  };
  const req = { data, dataSource: job.dataPath };
  const res = withKernels(undefined, () => quantizeWithReport(model, bytes.length, req));
  const js = withKernels('js', () => quantizeWithReport(model, bytes.length, req));
  const outPath = join('models', `${job.name}.int8.msgpack`);
  const written = writeModelFile(outPath, res.model);
  if (written.length !== res.report.sizes.int8FileBytes) throw new Error(`${outPath}: ${written.length} bytes, report says ${res.report.sizes.int8FileBytes}`);
  const agreement = trainingAgreement(model, res.report);
  writeFileSync(join('models', `${job.name}.int8.card.md`), card(job, model, res.report, js.report, agreement));
  writeFileSync(join('models', `${job.name}.int8.card.json`), JSON.stringify({ model: job.name, file: basename(outPath), source: basename(job.modelPath), report: res.report, jsKernels: { checks: js.report.checks, verdict: js.report.verdict } }, null, 2) + '\n');
  console.log(`${outPath}: ${res.report.verdict.text}\n  (${agreement})`);
}

const jobs = SHIPPED.map(jobFor).filter((j): j is Job => j !== null);
if (jobs.length === 0) {
  console.log('no trained models in models/ (run npm run train:models); quantizing the untrained example model instead');
  jobs.push({ name: 'example-lstm', modelPath: 'models/example-lstm.msgpack', dataPath: 'models/sample-readings.csv', deviceColumn: 'mote_id' });
}
for (const job of jobs) quantizeJob(job);
