// Graphs the runtime cannot run exactly are refused, with a reason naming the node and the
// attribute or input (or the flag it needs). Bidirectional and LeakyRelu are plain torch exports; the other
// features torch never writes, so those graphs are a torch export edited with the onnx
// library (scripts/python/make-onnx-fixtures.py, test/fixtures/onnx/refused/).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeOnnx, importOnnx, OnnxImportError } from '../../src/import/index.js';
import { ONNX_DIR } from './onnx-fixture.js';

const opts = { name: 'refused', inputs: ['a', 'b'], outputs: ['y'], source: { file: 'x.onnx', sha256: '' } };

function refusal(file: string): OnnxImportError {
  try {
    importOnnx(readFileSync(join(ONNX_DIR, 'refused', `${file}.onnx`)), opts);
  } catch (e) {
    if (e instanceof OnnxImportError) return e;
    throw e;
  }
  throw new Error(`${file}.onnx was imported`);
}

describe.each([
  // Bidirectional layers run in windowed models only (issue 19, test/import/onnx-window.test.ts).
  ['bidirectional', '--window', /layers\[0\] is bidirectional: the runtime reads it over a window of readings \(one reading at a time there are no later readings to read back from\); give --window W/],
  ['peepholes', 'node "/rnn/LSTM" (LSTM), input P (peepholes)', /peephole connections are not in the edge-rnn LSTM/],
  ['input-forget', 'node "/rnn/LSTM" (LSTM), attribute input_forget', /coupled input and forget gates/],
  ['clip', 'node "/rnn/LSTM" (LSTM), attribute clip', /cell clipping \(clip = 3\)/],
  ['activations', 'node "/rnn/LSTM" (LSTM), attribute activations', /\[HardSigmoid, Tanh, Tanh\] is not supported/],
  ['gru-linear-before-reset-0', 'node "/rnn/GRU" (GRU), attribute linear_before_reset', /^0: .*reset gate after the recurrent product/],
  ['sequence-lens', 'node "/rnn/RNN" (RNN), input sequence_lens', /per-sequence lengths are not supported/],
  ['unknown-op', 'node "/head/head.1/LeakyRelu" (LeakyRelu)', /operator LeakyRelu on the step path is not supported/],
] as const)('refused/%s.onnx', (file, where, reason) => {
  it('is refused, naming the node and the attribute or input', () => {
    const e = refusal(file);
    expect(e.where).toBe(where);
    expect(e.reason).toMatch(reason);
    expect(e.message.split('\n')).toHaveLength(1);
  });
});

describe('bytes that are no ONNX model', () => {
  it('refuses a file above the size bound before decoding it', () => {
    const big = new Uint8Array(1025);
    expect(() => decodeOnnx(big, 1024)).toThrow(/1025 bytes, above the 1024-byte limit/);
  });

  it('refuses garbage and an empty graph with one line, never a crash', () => {
    expect(() => decodeOnnx(Uint8Array.from([0xff, 0xff, 0xff, 0xff]))).toThrow(OnnxImportError);
    expect(() => decodeOnnx(new Uint8Array(0))).toThrow(/no graph with nodes/);
    const real = readFileSync(join(ONNX_DIR, 'lstm-l1-h1.onnx'));
    for (const cut of [1, 10, 100, real.length - 1]) {
      expect(() => importOnnx(real.subarray(0, cut), { ...opts, outputs: ['y0'] })).toThrow(OnnxImportError);
    }
  });
});

describe('names and normalisation that do not fit the graph', () => {
  const bytes = readFileSync(join(ONNX_DIR, 'lstm-l2-h6-tanh-head.onnx')); // 3 inputs, 2 outputs
  const base = { name: 'm', inputs: ['a', 'b', 'c'], outputs: ['y', 'z'], source: { file: 'm.onnx', sha256: '' } };
  it('refuses a wrong count of input or output names', () => {
    expect(() => importOnnx(bytes, { ...base, inputs: ['a', 'b'] })).toThrow('--inputs: 2 names for the 3 input features of the graph');
    expect(() => importOnnx(bytes, { ...base, outputs: ['y'] })).toThrow('--outputs: 1 names for the 2 outputs of the graph');
  });
  it('refuses statistics of the wrong length and a zero std', () => {
    expect(() => importOnnx(bytes, { ...base, normalisation: { inputs: { mean: [0, 0], std: [1, 1] } } })).toThrow(/^inputs\.mean: expected 3 finite numbers/);
    expect(() => importOnnx(bytes, { ...base, normalisation: { inputs: { mean: [0, 0, 0], std: [1, 0, 1] } } })).toThrow(/inputs\.std\.data: std\[1\] is 0/);
  });
  it('a classification graph needs labels', () => {
    const cls = readFileSync(join(ONNX_DIR, 'lstm-l1-h6-softmax.onnx'));
    expect(() => importOnnx(cls, { ...base, inputs: ['a', 'b'], outputs: undefined })).toThrow(/--labels: a classification model needs one label per output unit \(3\)/);
  });
});
