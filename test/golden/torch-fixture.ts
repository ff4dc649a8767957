// Loads the PyTorch golden fixtures (test/fixtures/golden/*.json, written by
// scripts/golden/make-golden.py) and turns one into an edge-rnn Model.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GATES, tensorF32, type Layer, type Model, type RecurrentType } from '../../src/model/index.js';

export const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'golden');

export interface TorchFixture {
  readonly name: string;
  readonly torch: string;
  readonly cell: RecurrentType;
  readonly activation: 'tanh' | 'relu' | null;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly steps: number;
  /** weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}, h0, c0 (LSTM). */
  readonly layers: readonly Record<string, number[]>[];
  readonly dense: readonly {
    readonly outputSize: number;
    readonly activation: 'linear' | 'relu' | 'tanh' | 'sigmoid' | 'softmax';
    readonly weight: number[];
    readonly bias: number[];
  }[];
  readonly normalisation: null | {
    readonly inputMean: number[];
    readonly inputStd: number[];
    readonly outputMean: number[];
    readonly outputStd: number[];
  };
  readonly inputs: number[][];
  readonly expected: { readonly outputs: number[][]; readonly h: number[][]; readonly c: number[][] | null };
}

export function loadFixtures(): TorchFixture[] {
  return readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(FIXTURE_DIR, f), 'utf8')) as TorchFixture);
}

/**
 * The fixture as an edge-rnn model. A softmax head becomes a classification model (so that
 * path of the format is exercised too); everything else is regression.
 */
export function fixtureModel(fx: TorchFixture): Model {
  const I = fx.inputSize;
  const H = fx.hiddenSize;
  const G = GATES[fx.cell] * H;
  const layers: Layer[] = [];
  let width = I;
  fx.layers.forEach((l, k) => {
    const base = {
      inputSize: width,
      hiddenSize: H,
      wIh: tensorF32([G, width], l[`weight_ih_l${k}`]),
      wHh: tensorF32([G, H], l[`weight_hh_l${k}`]),
      bIh: tensorF32([G], l[`bias_ih_l${k}`]),
      bHh: tensorF32([G], l[`bias_hh_l${k}`]),
    };
    if (fx.cell === 'rnn') layers.push({ type: 'rnn', activation: fx.activation ?? 'tanh', ...base });
    else layers.push({ type: fx.cell, ...base });
    width = H;
  });
  for (const d of fx.dense) {
    layers.push({
      type: 'dense', inputSize: width, outputSize: d.outputSize, activation: d.activation,
      w: tensorF32([d.outputSize, width], d.weight), b: tensorF32([d.outputSize], d.bias),
    });
    width = d.outputSize;
  }
  const n = fx.normalisation;
  const classification = fx.dense.length > 0 && fx.dense[fx.dense.length - 1].activation === 'softmax';
  const names = (prefix: string, k: number) => Array.from({ length: k }, (_, i) => `${prefix}${i}`);
  return {
    format: 'edge-rnn', version: 1, name: `golden-${fx.name}`, modelVersion: 1,
    task: classification ? 'classification' : 'regression',
    inputs: {
      names: names('x', I),
      mean: tensorF32([I], n ? n.inputMean : new Array<number>(I).fill(0)),
      std: tensorF32([I], n ? n.inputStd : new Array<number>(I).fill(1)),
    },
    outputs: classification
      ? { names: ['label'], labels: names('class', width) }
      : {
          names: names('y', width),
          ...(n ? { mean: tensorF32([width], n.outputMean), std: tensorF32([width], n.outputStd) } : {}),
        },
    layers,
  };
}
