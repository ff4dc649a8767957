// Where a residual forecaster starts: at persistence. The output layer's weights are zero
// and its bias is −mean/std of each target's change, so the de-normalised change is 0 and
// the runtime's output (reading + change) is the current reading, whatever the state.
// Training then only has to learn departures from "no change", and epoch 0 scores exactly
// the persistence baseline.
import { tensorF32 } from '../model/tensor.js';
import type { Layer, Model } from '../model/types.js';
import type { Dataset } from './dataset.js';

export function persistenceStart(model: Model, ds: Dataset): Model {
  if (!ds.residualInputs) return model;
  const last = model.layers.length - 1;
  const head = model.layers[last];
  if (head.type !== 'dense' || head.activation !== 'linear') return model;
  const mean = ds.targetMean!, std = ds.targetStd!;
  const b = Float32Array.from(mean, (m, o) => -m / std[o]);
  const layers: Layer[] = model.layers.map((l, k) => (k === last ? { ...head, w: tensorF32(head.w.shape, new Float32Array(head.w.data.length)), b: tensorF32(head.b.shape, b) } : l));
  return { ...model, layers };
}
