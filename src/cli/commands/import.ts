// `edge-rnn import MODEL.onnx --inputs … --out M.msgpack`: an ONNX export (torch.onnx.export
// of nn.LSTM / nn.GRU / nn.RNN + nn.Linear) -> a format v1 model and its card (issue 16).
// Full CLI only: protobufjs and src/import stay out of the device bundle.
import type { Command } from 'commander';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { writeModelFile } from '../../io/model-file.js';
import { importCard, importOnnx, MAX_ONNX_BYTES, OnnxImportError, type Normalisation } from '../../import/index.js';
import type { Task } from '../../model/types.js';
import { CliError } from '../errors.js';

interface ImportCliOptions {
  inputs: string;
  outputs?: string;
  task?: string;
  labels?: string;
  name?: string;
  modelVersion?: string;
  horizon?: string;
  window?: string;
  hop?: string;
  norm?: string;
  inputMean?: string;
  inputStd?: string;
  outputMean?: string;
  outputStd?: string;
  out: string;
  json?: boolean;
}

const MAX_NORM_BYTES = 1024 * 1024;

const names = (v: string) => v.split(',').map((s) => s.trim()).filter((s) => s !== '');

function numbers(v: string, flag: string): number[] {
  const out = names(v).map(Number);
  if (out.length === 0 || out.some((x) => !Number.isFinite(x))) throw new CliError(`${flag}: expected comma-separated numbers, got ${JSON.stringify(v)}`, 2);
  return out;
}

function posInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag}: expected an integer >= 1, got ${JSON.stringify(v)}`, 2);
  return n;
}

function readBounded(path: string, max: number, what: string): Buffer {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read ${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? (e as Error).message}`);
  }
  if (size > max) throw new CliError(`${path}: ${size} bytes, above the ${max}-byte limit for ${what}`);
  return readFileSync(path);
}

/** `--norm stats.json`: {"inputs": {"mean": [...], "std": [...], "min"?, "max"?}, "outputs"?: {"mean": [...], "std": [...]}}. */
export function parseNormFile(path: string, text: string): Normalisation {
  const bad = (what: string) => new CliError(`--norm ${path}: ${what}`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw bad(`not JSON (${(e as Error).message})`);
  }
  const object = (v: unknown, where: string, keys: readonly string[]): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`${where} must be an object`);
    const extra = Object.keys(v).find((k) => !keys.includes(k));
    if (extra) throw bad(`${where}.${extra} is not a known field (${keys.join(', ')})`);
    return v as Record<string, unknown>;
  };
  const stats = (v: unknown, where: string, keys: readonly string[]) => {
    if (v === undefined) return undefined;
    const o = object(v, where, keys);
    for (const k of ['mean', 'std']) if (o[k] === undefined) throw bad(`${where}.${k} is missing`);
    for (const [k, x] of Object.entries(o)) {
      if (!Array.isArray(x) || !x.every((n) => typeof n === 'number')) throw bad(`${where}.${k} must be a list of numbers`);
    }
    return o as { mean: number[]; std: number[]; min?: number[]; max?: number[] };
  };
  const top = object(raw, 'the file', ['inputs', 'outputs']);
  const inputs = stats(top.inputs, 'inputs', ['mean', 'std', 'min', 'max']);
  const outputs = stats(top.outputs, 'outputs', ['mean', 'std']);
  return { ...(inputs ? { inputs } : {}), ...(outputs ? { outputs } : {}) };
}

function normalisationFrom(o: ImportCliOptions): { normalisation?: Normalisation; source?: string } {
  const flags = o.inputMean !== undefined || o.inputStd !== undefined || o.outputMean !== undefined || o.outputStd !== undefined;
  if (o.norm !== undefined && flags) throw new CliError('--norm and --input-mean/--input-std/--output-mean/--output-std: give one or the other', 2);
  if (o.norm !== undefined) return { normalisation: parseNormFile(o.norm, readBounded(o.norm, MAX_NORM_BYTES, 'a normalisation file').toString('utf8')), source: `from --norm ${basename(o.norm)}` };
  if (!flags) return {};
  const pair = (mean: string | undefined, std: string | undefined, what: string) => {
    if ((mean === undefined) !== (std === undefined)) throw new CliError(`--${what}-mean and --${what}-std go together`, 2);
    return mean === undefined ? undefined : { mean: numbers(mean, `--${what}-mean`), std: numbers(std!, `--${what}-std`) };
  };
  const inputs = pair(o.inputMean, o.inputStd, 'input');
  const outputs = pair(o.outputMean, o.outputStd, 'output');
  return { normalisation: { ...(inputs ? { inputs } : {}), ...(outputs ? { outputs } : {}) }, source: 'from the --input-mean/--input-std/--output-mean/--output-std flags' };
}

function windowFrom(o: ImportCliOptions): { size: number; hop: number } | undefined {
  const size = posInt(o.window, '--window'), hop = posInt(o.hop, '--hop');
  if (size === undefined) {
    if (hop !== undefined) throw new CliError('--hop needs --window (it describes a windowed model)', 2);
    return undefined;
  }
  if ((hop ?? 1) > size) throw new CliError(`--hop ${hop} is larger than --window ${size}: readings between windows would never be read`, 2);
  return { size, hop: hop ?? 1 };
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('convert an ONNX export of an LSTM/GRU/RNN stack with a Linear head (torch.onnx.export) into an edge-rnn model with a card')
    .argument('<model>', 'ONNX file (.onnx), e.g. from torch.onnx.export')
    .requiredOption('--inputs <names>', 'comma-separated names of the input features, in the graph\'s order (the reading fields)')
    .option('--outputs <names>', 'regression: comma-separated output names, one per graph output unit; classification: the label column (default label)')
    .option('--task <task>', 'regression or classification (default: classification when the graph ends in Softmax)')
    .option('--labels <list>', 'classification: comma-separated class labels, one per output unit')
    .option('--name <name>', 'model name (default: the ONNX file name without .onnx)')
    .option('--model-version <n>', 'model version, an integer >= 1 (default 1)')
    .option('--horizon <k>', 'regression forecasters: the outputs are the readings k steps ahead')
    .option('--window <W>', 'a sequence model (bidirectional layers, or steps reduced by a mean or the last step): run it over windows of the last W readings (the sequence length it was trained on)')
    .option('--hop <K>', 'with --window: one result every K readings, 1..W (default 1)')
    .option('--norm <file>', 'JSON with the training normalisation: {"inputs": {"mean": [..], "std": [..]}, "outputs": {"mean": [..], "std": [..]}} (not in an ONNX graph; default: none)')
    .option('--input-mean <list>', 'instead of --norm: input means, comma-separated (x\' = (x - mean) / std)')
    .option('--input-std <list>', 'instead of --norm: input standard deviations')
    .option('--output-mean <list>', 'instead of --norm: regression output means (y = y\' * std + mean)')
    .option('--output-std <list>', 'instead of --norm: regression output standard deviations')
    .requiredOption('-o, --out <file>', 'model file to write (.msgpack); the card goes next to it (.card.md, .card.json)')
    .option('--json', 'print what was written as JSON')
    .action((path: string, o: ImportCliOptions) => {
      if (o.task !== undefined && o.task !== 'regression' && o.task !== 'classification') {
        throw new CliError(`--task: expected regression or classification, got ${JSON.stringify(o.task)}`, 2);
      }
      const { normalisation, source } = normalisationFrom(o);
      const window = windowFrom(o);
      const bytes = readBounded(path, MAX_ONNX_BYTES, 'an ONNX file');
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      let result;
      try {
        result = importOnnx(bytes, {
          name: o.name ?? basename(path).replace(/\.onnx$/i, ''),
          modelVersion: posInt(o.modelVersion, '--model-version'),
          inputs: names(o.inputs),
          ...(o.outputs !== undefined ? { outputs: names(o.outputs) } : {}),
          ...(o.task ? { task: o.task as Task } : {}),
          ...(o.labels !== undefined ? { labels: names(o.labels) } : {}),
          horizon: posInt(o.horizon, '--horizon'),
          normalisation, normalisationSource: source, ...(window ? { window } : {}),
          source: { file: basename(path), sha256 },
        });
      } catch (e) {
        if (e instanceof OnnxImportError) throw new CliError(`cannot import ${path}: ${e.message}`);
        throw e;
      }
      const card = importCard(result.model, result.facts);
      const stem = o.out.replace(/\.msgpack$/, '');
      const written = writeModelFile(o.out, result.model);
      writeFileSync(`${stem}.card.md`, card.markdown);
      writeFileSync(`${stem}.card.json`, JSON.stringify(card.json, null, 2) + '\n');
      const summary = { out: o.out, bytes: written.length, cardMd: `${stem}.card.md`, cardJson: `${stem}.card.json`, ...card.json };
      if (o.json) {
        process.stdout.write(JSON.stringify(summary) + '\n');
        return;
      }
      process.stdout.write(`wrote ${o.out} (${written.length} bytes), ${stem}.card.md, ${stem}.card.json\n`
        + `${result.model.name} v${result.model.modelVersion}: ${(card.json.layers as string[]).join('; ')}\n`
        + `normalisation: ${result.facts.normalisation}\n`);
    });
}
