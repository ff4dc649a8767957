// Loads the ONNX import fixtures (test/fixtures/onnx, written by
// scripts/python/make-onnx-fixtures.py from real torch.onnx.export graphs).
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importOnnx, type ImportOptions } from '../../src/import/index.js';

export const ONNX_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'onnx');

export interface OnnxFixture {
  readonly name: string;
  readonly torch: string;
  readonly cell: 'lstm' | 'gru' | 'rnn';
  readonly activation: 'tanh' | 'relu' | null;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly batchFirst: boolean;
  readonly lastStep: boolean;
  readonly steps: number;
  readonly task: 'regression' | 'classification';
  readonly inputNames: string[];
  readonly outputNames: string[];
  readonly labels?: string[];
  readonly h0: number[][];
  readonly c0?: number[][];
  readonly inputs: number[][];
  /** [steps][outputs] from h0 (and c0). */
  readonly expected: number[][];
  /** [steps][outputs] from the zero state. */
  readonly expectedFromZero: number[][];
}

export function loadOnnxFixtures(): OnnxFixture[] {
  return readdirSync(ONNX_DIR).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(readFileSync(join(ONNX_DIR, f), 'utf8')) as OnnxFixture);
}

export function onnxPath(fx: OnnxFixture): string {
  return join(ONNX_DIR, `${fx.name}.onnx`);
}

export function importOptions(fx: OnnxFixture): ImportOptions {
  return {
    name: fx.name, inputs: fx.inputNames,
    ...(fx.task === 'classification' ? { labels: fx.labels } : { outputs: fx.outputNames }),
    source: { file: `${fx.name}.onnx`, sha256: '0'.repeat(64) },
  };
}

export function importFixture(fx: OnnxFixture) {
  return importOnnx(readFileSync(onnxPath(fx)), importOptions(fx));
}
