// The optional inputs.min / inputs.max of the model format: written by the trainer from
// the training split, read back exactly, refused with the field named when inconsistent.
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, initModel, tensorF32, type Model } from '../../src/model/index.js';
import { buildDataset, createNetwork, exportModel } from '../../src/train/index.js';

const base = initModel({ name: 'r', inputs: ['temp', 'hum'], outputs: ['temp'], cell: 'gru', hiddenSizes: [3], dense: [{ size: 1, activation: 'linear' }] }, 2);
const withRange = (min: number[], max: number[]): Model => ({ ...base, inputs: { ...base.inputs, min: tensorF32([2], min), max: tensorF32([2], max) } });

describe('inputs.min / inputs.max', () => {
  it('round-trip through the wire format; a model without them decodes without them', () => {
    const m = decodeModel(encodeModel(withRange([10.5, 20], [30.25, 80])));
    expect(Array.from(m.inputs.min!.data)).toEqual([10.5, 20]);
    expect(Array.from(m.inputs.max!.data)).toEqual([30.25, 80]);
    const plain = decodeModel(encodeModel(base));
    expect(plain.inputs.min).toBeUndefined();
    expect(plain.inputs.max).toBeUndefined();
  });

  it('are refused with the field named: one without the other, max below min, wrong width', () => {
    const { max: _max, ...onlyMin } = withRange([1, 2], [3, 4]).inputs;
    expect(() => decodeModel(encodeModel({ ...base, inputs: onlyMin }))).toThrow(/inputs\.max.*missing/);
    expect(() => decodeModel(encodeModel(withRange([1, 5], [3, 4])))).toThrow(/inputs\.max.*below min\[1\]/);
    const wide: Model = { ...base, inputs: { ...base.inputs, min: tensorF32([3], [0, 0, 0]), max: tensorF32([3], [1, 1, 1]) } };
    expect(() => decodeModel(encodeModel(wide))).toThrow(/inputs\.min/);
  });

  it('the trainer writes the training split\'s min and max of each input', () => {
    const temp: number[] = [], hum: number[] = [];
    for (let t = 0; t < 80; t++) { temp.push(20 + 5 * Math.sin(t / 4)); hum.push(50 + t / 10); }
    const ds = buildDataset({ inputNames: ['temp', 'hum'], inputs: [temp, hum], valFraction: 0.25, seqLen: 8, target: { task: 'regression', targetNames: ['temp'], targets: [temp], horizon: 1 } });
    const trainPart = (col: number[]) => col.slice(0, 60);
    const m = exportModel(createNetwork(base, 1), ds, base);
    expect(Array.from(m.inputs.min!.data)).toEqual([Math.fround(Math.min(...trainPart(temp))), Math.fround(Math.min(...trainPart(hum)))]);
    expect(Array.from(m.inputs.max!.data)).toEqual([Math.fround(Math.max(...trainPart(temp))), Math.fround(Math.max(...trainPart(hum)))]);
  });
});
