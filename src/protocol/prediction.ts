// Predictions on the wire: {"device","seq","ts","model":{"name","version"},"y":{...}}
// (+ "label","p" for classification), as JSON (DESIGN.md, "Stream and MQTT contract").
import type { Model } from '../model/types.js';

export interface Prediction {
  readonly device: string;
  readonly seq?: number;
  readonly ts?: number;
  readonly model: { readonly name: string; readonly version: number };
  /** Output name (regression) or class label (classification) -> value. */
  readonly y: Readonly<Record<string, number>>;
  readonly label?: string;
  readonly p?: number;
}

/** Shortest decimal that reads back as the same float32: the session computes in f32. */
export function f32Json(v: number): number {
  return Number.isFinite(v) ? Number(Math.fround(v).toPrecision(9)) : v;
}

/** The index of the largest output, for classification. */
export function argmax(y: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < y.length; k++) if (y[k] > y[best]) best = k;
  return best;
}

/** Names of the model's output vector entries: class labels or regression output names. */
export function outputKeys(model: Model): readonly string[] {
  return model.outputs.labels ?? model.outputs.names;
}

export interface PredictionInput {
  readonly device: string;
  readonly seq?: number;
  readonly ts?: number;
}

/** Builds the prediction document for output y of `model`. */
export function buildPrediction(model: Model, input: PredictionInput, y: ArrayLike<number>): Prediction {
  const keys = outputKeys(model);
  const out: Record<string, number> = {};
  for (let k = 0; k < keys.length; k++) out[keys[k]] = f32Json(y[k]);
  const base = {
    device: input.device,
    ...(input.seq !== undefined ? { seq: input.seq } : {}),
    ...(input.ts !== undefined ? { ts: input.ts } : {}),
    model: { name: model.name, version: model.modelVersion },
    y: out,
  };
  if (!model.outputs.labels) return base;
  const best = argmax(y);
  return { ...base, label: model.outputs.labels[best], p: f32Json(y[best]) };
}

const encoder = new TextEncoder();

/** The prediction as UTF-8 JSON bytes. */
export function encodePrediction(model: Model, input: PredictionInput, y: ArrayLike<number>): Uint8Array {
  return encoder.encode(JSON.stringify(buildPrediction(model, input, y)));
}
