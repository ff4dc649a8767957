// The card of an imported model says where it came from and what was not in the graph.
import { expect, it } from 'vitest';
import { importCard } from '../../src/import/index.js';
import { importFixture, loadOnnxFixtures } from './onnx-fixture.js';

const byName = (n: string) => loadOnnxFixtures().find((f) => f.name === n)!;

it('names the unused state inputs and outputs, the missing normalisation and the last-step head', () => {
  const { model, facts } = importFixture(byName('gru-l2-h5-last-step-gemm'));
  const card = importCard(model, facts);
  expect(card.json.graph).toMatchObject({ input: 'x', output: 'y', lastStep: true, ignoredInputs: ['h0'], ignoredOutputs: ['hn'] });
  expect(card.json.normalisation).toBe('none: the graph reads raw readings (mean 0, std 1)');
  expect(card.json.metrics).toBeNull();
  expect(card.json.layers).toEqual(['gru 2 -> 5', 'gru 5 -> 5', 'dense 5 -> 2, linear']);
  expect(card.markdown).toContain('the graph predicts from the last step of a sequence');
  expect(model.meta?.importedFrom).toMatchObject({ producer: expect.stringMatching(/^pytorch 1\.13/), opset: 14, lastStep: true });
});

it('MatMul + Add + Sigmoid becomes one dense layer with that activation', () => {
  const { model } = importFixture(byName('gru-l1-h5-sigmoid'));
  expect(model.layers.map((l) => (l.type === 'dense' ? `dense:${l.activation}` : l.type))).toEqual(['gru', 'dense:sigmoid']);
});
