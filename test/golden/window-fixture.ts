// Loads the PyTorch golden fixtures of windowed models (test/fixtures/golden-window/*.json,
// written by scripts/golden/make-window-golden.py) and turns one into an edge-rnn Model.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GATES, tensorF32, type Layer, type Model, type RecurrentType, type RecurrentWeights } from '../../src/model/index.js';

export const WINDOW_FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'golden-window');

export interface WindowResult {
  /** Index of the reading that ends the window. */
  readonly last: number;
  readonly y: number[];
}

export interface WindowFixture {
  readonly name: string;
  readonly torch: string;
  readonly cell: RecurrentType;
  readonly activation: 'tanh' | 'relu' | null;
  readonly bidirectional: boolean;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly window: { readonly size: number; readonly hop: number };
  readonly from: 'last' | 'mean';
  /** weight_ih_l{k}, …, and weight_ih_l{k}_reverse, … when bidirectional. */
  readonly layers: readonly Record<string, number[]>[];
  readonly dense: readonly { outputSize: number; activation: 'linear' | 'relu' | 'tanh' | 'sigmoid' | 'softmax'; weight: number[]; bias: number[] }[];
  readonly normalisation: null | { inputMean: number[]; inputStd: number[]; outputMean?: number[]; outputStd?: number[] };
  /** [n][I] raw readings. */
  readonly inputs: number[][];
  readonly expected: readonly WindowResult[];
  /** The same windows with every weight matrix replaced by its int8 q · scale. */
  readonly expectedInt8: readonly WindowResult[];
}

export function loadWindowFixtures(): WindowFixture[] {
  return readdirSync(WINDOW_FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(WINDOW_FIXTURE_DIR, f), 'utf8')) as WindowFixture);
}

export function windowFixtureModel(fx: WindowFixture): Model {
  const I = fx.inputSize, H = fx.hiddenSize, G = GATES[fx.cell] * H;
  const layers: Layer[] = [];
  let width = I;
  fx.layers.forEach((l, k) => {
    const dir = (suffix: string): RecurrentWeights => ({
      wIh: tensorF32([G, width], l[`weight_ih_l${k}${suffix}`]),
      wHh: tensorF32([G, H], l[`weight_hh_l${k}${suffix}`]),
      bIh: tensorF32([G], l[`bias_ih_l${k}${suffix}`]),
      bHh: tensorF32([G], l[`bias_hh_l${k}${suffix}`]),
    });
    const base = {
      inputSize: width, hiddenSize: H, ...dir(''),
      ...(fx.bidirectional ? { direction: 'bidirectional' as const, reverse: dir('_reverse') } : {}),
    };
    layers.push(fx.cell === 'rnn' ? { type: 'rnn', activation: fx.activation ?? 'tanh', ...base } : { type: fx.cell, ...base });
    width = fx.bidirectional ? 2 * H : H;
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
      ? { names: ['label'], labels: names('class', width), from: fx.from }
      : {
          names: names('y', width),
          ...(n?.outputMean && n.outputStd ? { mean: tensorF32([width], n.outputMean), std: tensorF32([width], n.outputStd) } : {}),
          from: fx.from,
        },
    layers,
    window: { size: fx.window.size, hop: fx.window.hop },
  };
}
