// `inspect` of a windowed bidirectional model: the window line, both directions' weights counted.
import { describe, expect, it } from 'vitest';
import { describeModel } from '../../src/cli/commands/inspect.js';
import { parameterCount } from '../../src/model/index.js';
import { quantizeModel } from '../../src/model/quantize.js';
import { smallWindowedBiGru } from '../model/model-builders.js';

describe('inspect a windowed model', () => {
  it('shows the window and the bidirectional layer, counting the reverse weights', () => {
    const m = smallWindowedBiGru();
    const d = describeModel(m, 1234);
    expect(d.window).toEqual({ size: 6, hop: 2, from: 'mean' });
    expect(d.layers[0]).toMatchObject({ type: 'gru', direction: 'bidirectional', hiddenSize: 3 });
    const G = 9, perDir = G * 2 + G * 3 + 2 * G;
    expect(d.layers[0].parameters).toBe(2 * perDir);
    expect(d.parameters).toBe(parameterCount(m));
    expect(d.float32WeightBytes).toBe(4 * parameterCount(m));
    const q = describeModel(quantizeModel(m), 1000);
    expect(q.layers[0].weightBytes).toBe(2 * (G * 2 + G * 3 + 2 * G * 4 + 2 * G * 4));
  });
});
