// The model card of an imported model: where it came from, what each graph node became,
// where the normalisation came from, and what edge-rnn did not check (no training data,
// so no validation metrics). JSON for tools, Markdown for people; the caller writes them.
import { parameterCount, type Model } from '../model/types.js';
import type { ImportFacts } from './import-onnx.js';

export function importCard(model: Model, facts: ImportFacts): { json: Record<string, unknown>; markdown: string } {
  const layers = model.layers.map((l) => (l.type === 'dense'
    ? `dense ${l.inputSize} -> ${l.outputSize}, ${l.activation}`
    : `${l.type} ${l.inputSize} -> ${l.hiddenSize}${l.direction === 'bidirectional' ? ' x2 (bidirectional)' : ''}${l.type === 'rnn' ? `, ${l.activation}` : ''}`));
  const json = {
    name: model.name, modelVersion: model.modelVersion, task: model.task,
    inputs: model.inputs.names, outputs: model.outputs.names, ...(model.outputs.labels ? { labels: model.outputs.labels } : {}),
    parameters: parameterCount(model), layers,
    ...(model.window ? { window: { ...model.window, from: model.outputs.from } } : {}),
    importedFrom: { file: facts.file, sha256: facts.sha256, producer: facts.producer, opset: facts.opset },
    graph: {
      input: facts.dataInput, output: facts.graphOutput, lastStep: facts.lastStep, nodes: facts.steps,
      ignoredInputs: facts.ignoredInputs, ignoredOutputs: facts.ignoredOutputs,
    },
    normalisation: facts.normalisation,
    metrics: null,
  };
  const md = [
    `# ${model.name} v${model.modelVersion} (imported)`,
    '',
    `${model.task === 'classification' ? `Classification into ${model.outputs.labels!.join(', ')}` : `Regression of ${model.outputs.names.join(', ')}`} from ${model.inputs.names.join(', ')}; ${parameterCount(model)} parameters.`,
    '',
    '## Source',
    '',
    `- ONNX file: \`${facts.file}\` (sha256 \`${facts.sha256}\`), written by ${facts.producer}, opset ${facts.opset}`,
    `- step path: graph input \`${facts.dataInput}\` to graph output \`${facts.graphOutput}\``,
    ...facts.steps.map((s) => `  - ${s}`),
    ...(facts.ignoredInputs.length ? [`- not used: graph inputs ${facts.ignoredInputs.map((i) => `\`${i}\``).join(', ')} (initial states: edge-rnn keeps one state per device and starts it at zero)`] : []),
    ...(facts.ignoredOutputs.length ? [`- not used: graph outputs ${facts.ignoredOutputs.map((o) => `\`${o}\``).join(', ')} (final states)`] : []),
    ...(model.window
      ? [`- windowed: the graph reads a sequence and reduces it (${model.outputs.from === 'mean' ? 'the mean over its steps' : 'its last step'}); edge-rnn runs it over the last ${model.window.size} readings of a device from the zero state, one result every ${model.window.hop} reading(s)`]
      : facts.lastStep ? ['- the graph predicts from the last step of a sequence; edge-rnn predicts at every reading, which is that same output for the sequence ending at the reading'] : []),
    '',
    '## Layers',
    '',
    ...layers.map((l, i) => `${i}. ${l}`),
    '',
    'Weights were copied, not recomputed (a bidirectional layer\'s direction 1 into its `reverse` weights): LSTM gates reordered from ONNX i, o, f, c to i, f, g, o; GRU from z, r, h to r, z, n; each B split into the input and recurrent biases; MatMul / Gemm weights transposed to [outputs, inputs].',
    '',
    '## Normalisation',
    '',
    `Not part of an ONNX graph. Here: ${facts.normalisation}.`,
    '',
    '## Not checked',
    '',
    'edge-rnn did not train this model and has no validation data for it: no metrics here. Check it on recorded readings with `edge-rnn predict` (and `edge-rnn quantize --data` before shipping int8).',
    '',
  ];
  return { json, markdown: md.join('\n') };
}
