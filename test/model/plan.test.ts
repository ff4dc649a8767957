// The model plan against sizes and offsets worked out by hand from the layer list, for each
// cell type, mixed stacks, dense heads and residual outputs; and the swap checks it backs.
import { describe, expect, it } from 'vitest';
import { planModel, sameInputs, type Model } from '../../src/model/index.js';
import { dense, recurrent, regression } from './model-builders.js';

/** [hOffset, cOffset] of each recurrent layer. */
const offsets = (m: Model) => planModel(m).recurrent.map((r) => [r.hOffset, r.cOffset]);

describe('planModel', () => {
  it('lays out an LSTM stack as h0 c0 h1 c1', () => {
    const m = regression([recurrent('lstm', 3, 5, 1), recurrent('lstm', 5, 7, 2)]);
    const p = planModel(m);
    expect(offsets(m)).toEqual([[0, 5], [10, 17]]);
    expect(p.stateSize).toBe(2 * 5 + 2 * 7);
    expect(p.recurrent.map((r) => r.gates)).toEqual([4, 4]);
    expect(p.maxGateRows).toBe(4 * 7);
    expect([p.inputSize, p.outputSize]).toEqual([3, 7]);
    expect(p.shapeKey).toBe('lstm:5,lstm:7');
  });

  it('gives GRU and RNN layers h only (cOffset -1), with 3 and 1 gates', () => {
    const m = regression([recurrent('gru', 2, 4, 1), recurrent('rnn', 4, 6, 2, { activation: 'relu' })]);
    const p = planModel(m);
    expect(offsets(m)).toEqual([[0, -1], [4, -1]]);
    expect(p.stateSize).toBe(10);
    expect(p.recurrent.map((r) => r.gates)).toEqual([3, 1]);
    expect(p.maxGateRows).toBe(12); // gru 3*4 beats rnn 1*6
    expect(p.shapeKey).toBe('gru:4,rnn:6');
  });

  it('places c only after LSTM layers in a mixed stack', () => {
    const m = regression([recurrent('rnn', 1, 3, 1), recurrent('lstm', 3, 2, 2), recurrent('gru', 2, 8, 3)]);
    expect(offsets(m)).toEqual([[0, -1], [3, 5], [7, -1]]);
    expect(planModel(m).stateSize).toBe(3 + 2 * 2 + 8);
    expect(planModel(m).maxGateRows).toBe(24);
  });

  it('splits off the dense head: output size, layer positions, output from h or not', () => {
    const m = regression([recurrent('lstm', 3, 6, 1), dense(6, 4, 'tanh', 2), dense(4, 2, 'linear', 3)]);
    const p = planModel(m);
    expect(p.recurrent.map((r) => r.index)).toEqual([0]);
    expect(p.dense.map((d) => d.outputSize)).toEqual([4, 2]);
    expect(p.denseIndex).toEqual([1, 2]);
    expect(p.outputSize).toBe(2);
    expect(p.outputIsHidden).toBe(false);
    expect(planModel(regression([recurrent('gru', 3, 6, 1)])).outputIsHidden).toBe(true);
  });

  it('says whether outputs are de-normalised and which input a residual output adds back', () => {
    const m = regression([recurrent('lstm', 3, 4, 1), dense(4, 2, 'linear', 2)]);
    expect(planModel(m).outputNormalised).toBe(true);
    expect(planModel(regression(m.layers, { outMeanStd: false })).outputNormalised).toBe(false);
    expect(planModel(m).residualFrom).toBeNull();
    // inputs are temperature, humidity, light: outputs named light, temperature come from 2, 0.
    const residual: Model = { ...m, outputs: { ...m.outputs, names: ['light', 'temperature'], residual: true } };
    expect(Array.from(planModel(residual).residualFrom!)).toEqual([2, 0]);
  });

  it('keeps the shape key when only the weights or the head change, and not when a hidden size does', () => {
    const a = regression([recurrent('lstm', 3, 5, 1)]);
    const sameShape = regression([recurrent('lstm', 3, 5, 9), dense(5, 1, 'linear', 4)]);
    expect(planModel(sameShape).shapeKey).toBe(planModel(a).shapeKey);
    expect(planModel(regression([recurrent('lstm', 3, 6, 1)])).shapeKey).not.toBe(planModel(a).shapeKey);
    expect(planModel(regression([recurrent('gru', 3, 5, 1)])).shapeKey).not.toBe(planModel(a).shapeKey);
  });
});

describe('sameInputs', () => {
  it('is true for the same names in the same order only', () => {
    const a = regression([recurrent('lstm', 3, 5, 1)]);
    const reordered: Model = { ...a, inputs: { ...a.inputs, names: [...a.inputs.names].reverse() } };
    expect(sameInputs(a, regression([recurrent('gru', 3, 2, 7)]))).toBe(true);
    expect(sameInputs(a, reordered)).toBe(false);
    expect(sameInputs(a, regression([recurrent('lstm', 2, 5, 1)]))).toBe(false);
  });
});
