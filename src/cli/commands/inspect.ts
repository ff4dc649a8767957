// `edge-rnn inspect MODEL`: what a model file holds, for people (table) or tools (--json).
import type { Command } from 'commander';
import { readModelFile } from '../../io/model-file.js';
import { layerF32Bytes, layerWeightBytes } from '../../model/quantize.js';
import { outputSize, parameterCount, type Layer, type Model } from '../../model/types.js';
import { formatTable } from '../table.js';

// Both directions of a bidirectional layer (issue 19) count.
const layerBytes = layerWeightBytes;
const layerParams = (l: Layer): number => layerF32Bytes(l) / 4;

function layerDtype(l: Layer): string {
  return l.type === 'dense' ? l.w.dtype : l.wIh.dtype === l.wHh.dtype ? l.wIh.dtype : `${l.wIh.dtype}/${l.wHh.dtype}`;
}

const saving = (bytes: number, f32: number) => `${((1 - bytes / f32) * 100).toFixed(1)}%`;

export function describeModel(model: Model, fileBytes: number) {
  return {
    name: model.name,
    modelVersion: model.modelVersion,
    task: model.task,
    inputs: [...model.inputs.names],
    outputs: [...model.outputs.names],
    ...(model.outputs.labels ? { labels: [...model.outputs.labels] } : {}),
    ...(model.outputs.horizon ? { horizon: model.outputs.horizon } : {}),
    ...(model.outputs.residual ? { residual: true } : {}),
    ...(model.window ? { window: { size: model.window.size, hop: model.window.hop, from: model.outputs.from } } : {}),
    ...(model.outputs.anomaly ? { anomaly: { rmse: Array.from(model.outputs.anomaly.rmse.data), threshold: model.outputs.anomaly.threshold } } : {}),
    outputSize: outputSize(model),
    parameters: parameterCount(model),
    fileBytes,
    // Tensor payload as stored, and what it would be with every tensor float32 (int8 saving).
    weightBytes: model.layers.reduce((n, l) => n + layerBytes(l), 0),
    float32WeightBytes: model.layers.reduce((n, l) => n + layerParams(l) * 4, 0),
    layers: model.layers.map((l) => ({
      type: l.type,
      inputSize: l.inputSize,
      ...(l.type === 'dense' ? { outputSize: l.outputSize, activation: l.activation } : { hiddenSize: l.hiddenSize }),
      ...(l.type === 'rnn' ? { activation: l.activation } : {}),
      ...(l.type !== 'dense' && l.direction === 'bidirectional' ? { direction: 'bidirectional' } : {}),
      dtype: layerDtype(l),
      parameters: layerParams(l),
      weightBytes: layerBytes(l),
      float32Bytes: layerParams(l) * 4,
    })),
    meta: model.meta ?? {},
  };
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show the layers, sizes, inputs, outputs and metadata of a model file')
    .argument('<model>', 'model file (.msgpack)')
    .option('--json', 'machine-readable output')
    .action((path: string, opts: { json?: boolean }) => {
      const { model, bytes } = readModelFile(path);
      const d = describeModel(model, bytes.length);
      if (opts.json) {
        process.stdout.write(JSON.stringify(d) + '\n');
        return;
      }
      const lines = [
        `${d.name} v${d.modelVersion} (${d.task}${d.horizon ? `, ${d.horizon} steps ahead` : ''}${d.residual ? ', residual: predicts the change from the current reading' : ''})`,
        ...(d.window ? [`window: the last ${d.window.size} readings, a result every ${d.window.hop}, from the ${d.window.from === 'mean' ? 'mean over the window' : 'last hidden states'}`] : []),
        `inputs:  ${d.inputs.join(', ')}`,
        `outputs: ${d.labels ? `${d.outputs.join(', ')} ∈ {${d.labels.join(', ')}}` : d.outputs.join(', ')}`,
        ...(d.anomaly ? [`anomaly scale (run --anomaly): rmse ${d.anomaly.rmse.map((v) => v.toPrecision(4)).join(', ')}, threshold ${d.anomaly.threshold.toPrecision(4)}`] : []),
        `parameters: ${d.parameters}   file: ${d.fileBytes} bytes`,
        `weights: ${d.weightBytes} bytes${d.weightBytes < d.float32WeightBytes ? ` (float32: ${d.float32WeightBytes} bytes; ${saving(d.weightBytes, d.float32WeightBytes)} smaller)` : ' (float32)'}`,
        '',
        formatTable(
          ['#', 'layer', 'in', 'out', 'activation', 'dtype', 'params', 'bytes', 'f32 bytes', 'saving'],
          d.layers.map((l, i) => [
            String(i), 'direction' in l ? `${l.type} (bidirectional)` : l.type, String(l.inputSize), String('hiddenSize' in l ? l.hiddenSize : l.outputSize),
            'activation' in l ? String(l.activation) : l.type === 'lstm' ? 'σ/tanh' : l.type === 'gru' ? 'σ/tanh' : '',
            l.dtype, String(l.parameters), String(l.weightBytes), String(l.float32Bytes), saving(l.weightBytes, l.float32Bytes),
          ]),
        ),
      ];
      const meta = Object.entries(d.meta);
      if (meta.length > 0) {
        lines.push('', 'meta:');
        for (const [k, v] of meta) lines.push(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
}
