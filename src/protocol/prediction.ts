// Predictions on the wire: {"device","seq","ts","steps","model":{"name","version"},"y":{...}}
// (+ "label","p" for classification), as JSON (DESIGN.md, "Stream and MQTT contract").
// `steps`: readings the device state has seen since its last reset, this one included, so
// a consumer can tell a cold-start prediction (steps 1, 2, …) from a warm one (issue 12).
// `anomaly` (run --anomaly, issue 15): {"score","flag"}, both null until the reading has a
// forecast to be compared with (docs/runtime.md, "Anomaly scores").
// `window` (windowed models, issue 19): {"first","last"}, the seqs of the first and last
// readings of the window the result is for (null when the readings carried none).
import type { Model } from '../model/types.js';

/** A reading scored against its forecast: both null while no forecast for it is pending (warm-up). */
export interface AnomalyResult {
  readonly score: number | null;
  readonly flag: boolean | null;
}

/** The seqs of a windowed result's first and last readings; null where a reading had no seq. */
export interface WindowSeqs {
  readonly first: number | null;
  readonly last: number | null;
}

/** The result of every reading that has no forecast to be scored against. */
export const NOT_SCORED: AnomalyResult = Object.freeze({ score: null, flag: null });

/** A score as JSON: 6 significant digits are plenty to compare with a threshold. */
export function scoreJson(v: number): number {
  return Number(v.toPrecision(6));
}

/** The reading a prediction is for, and the steps of its device state. */
export interface PredictionInput {
  readonly device: string;
  readonly seq?: number;
  readonly ts?: number;
  /** Steps of the device state since its last reset (left out when absent). */
  readonly steps?: number;
  /** run --anomaly: the reading scored against its forecast (left out when absent). */
  readonly anomaly?: AnomalyResult;
  /** A windowed model's result: the window's first and last seqs (left out when absent). */
  readonly window?: WindowSeqs;
}

export interface Prediction extends PredictionInput {
  readonly model: { readonly name: string; readonly version: number };
  /** Output name (regression) or class label (classification) -> value. */
  readonly y: Readonly<Record<string, number>>;
  readonly label?: string;
  readonly p?: number;
}

/**
 * A float32 value as a decimal with 9 significant digits (trailing zeros dropped), which
 * always reads back as the same float32: the session computes in f32. Not the shortest
 * such decimal (f32(0.1) prints as 0.100000001).
 */
export function f32Json(v: number): number {
  return Number.isFinite(v) ? Number(Math.fround(v).toPrecision(9)) : v;
}

/**
 * JSON.stringify(f32Json(v)) without the round trip through a number: toPrecision(9)
 * already has the digits, and in fixed notation (which it and String pick for the same
 * exponents, 1e-6 up to 1e9) the shortest form is those digits without trailing zeros,
 * since no shorter decimal lies within half an ulp of a 9-digit one. Exponent forms take
 * the long way. Four times faster, and a prediction has one per output.
 */
export function f32JsonText(v: number): string | undefined {
  const f = Math.fround(v); // beyond float32's range this is ±Infinity: JSON null
  if (typeof v !== 'number' || !Number.isFinite(f)) return JSON.stringify(f32Json(v));
  const t = f.toPrecision(9);
  if (t.includes('e')) return String(Number(t));
  let end = t.length;
  if (t.includes('.')) {
    while (t.charCodeAt(end - 1) === 48 /* 0 */) end--;
    if (t.charCodeAt(end - 1) === 46 /* . */) end--;
  }
  return end === t.length ? t : t.slice(0, end);
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

/** Builds the prediction document for output y of `model`. */
export function buildPrediction(model: Model, input: PredictionInput, y: ArrayLike<number>): Prediction {
  const keys = outputKeys(model);
  const out: Record<string, number> = {};
  for (let k = 0; k < keys.length; k++) out[keys[k]] = f32Json(y[k]);
  const base = {
    device: input.device,
    ...(input.seq !== undefined ? { seq: input.seq } : {}),
    ...(input.ts !== undefined ? { ts: input.ts } : {}),
    ...(input.steps !== undefined ? { steps: input.steps } : {}),
    model: { name: model.name, version: model.modelVersion },
    y: out,
  };
  const anomaly = input.anomaly ? { anomaly: { score: input.anomaly.score === null ? null : scoreJson(input.anomaly.score), flag: input.anomaly.flag } } : {};
  const window = input.window ? { window: { first: input.window.first, last: input.window.last } } : {};
  if (!model.outputs.labels) return { ...base, ...anomaly, ...window };
  const best = argmax(y);
  return { ...base, label: model.outputs.labels[best], p: f32Json(y[best]), ...anomaly, ...window };
}

/** `,"anomaly":{"score":…,"flag":…}` as JSON.stringify writes it. */
function anomalyText(a: AnomalyResult): string {
  return a.score === null ? `,"anomaly":{"score":null,"flag":${a.flag}}` : `,"anomaly":{"score":${jsonValue(scoreJson(a.score))},"flag":${a.flag}}`;
}

/** A number as JSON.stringify writes it (undefined: the key is left out). */
function jsonValue(v: unknown): string | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : JSON.stringify(v);
}

/**
 * The parts of a model's prediction document that do not change per reading, so that
 * encoding one is string concatenation rather than building and stringifying nested
 * objects (the hot path of `run`: one per reading).
 */
interface PredictionTemplate {
  /** `,"model":{"name":…,"version":…},"y":{` */
  readonly head: string;
  /** `"key":` per y entry, in the order JSON.stringify writes them. */
  readonly keyJson: readonly string[];
  /** The y index each entry takes its value from. */
  readonly keyIndex: readonly number[];
  readonly labels: readonly string[] | undefined;
}

const templates = new WeakMap<Model, PredictionTemplate>();

function templateOf(model: Model): PredictionTemplate {
  let t = templates.get(model);
  if (t) return t;
  // Let the engine decide the key order and which keys survive, as it does for the object
  // buildPrediction makes: integer-like keys ("0", "12") come first, a repeated key keeps
  // its first place and its last value.
  const keys = outputKeys(model);
  const order: Record<string, number> = {};
  for (let k = 0; k < keys.length; k++) order[keys[k]] = k;
  const emitted = Object.keys(order);
  t = {
    head: `,"model":${JSON.stringify({ name: model.name, version: model.modelVersion })},"y":{`,
    keyJson: emitted.map((k) => `${JSON.stringify(k)}:`),
    keyIndex: emitted.map((k) => order[k]),
    labels: model.outputs.labels,
  };
  templates.set(model, t);
  return t;
}

/**
 * The prediction as UTF-8 JSON bytes: exactly JSON.stringify(buildPrediction(...)),
 * written from a per-model template (test/protocol/prediction.test.ts checks the two agree).
 */
export function encodePrediction(model: Model, input: PredictionInput, y: ArrayLike<number>): Uint8Array {
  const t = templateOf(model);
  let s = `{"device":${JSON.stringify(input.device)}`;
  if (input.seq !== undefined) s += `,"seq":${jsonValue(input.seq)}`;
  if (input.ts !== undefined) s += `,"ts":${jsonValue(input.ts)}`;
  if (input.steps !== undefined) s += `,"steps":${jsonValue(input.steps)}`;
  s += t.head;
  let first = true;
  for (let k = 0; k < t.keyJson.length; k++) {
    const v = f32JsonText(y[t.keyIndex[k]]);
    if (v === undefined) continue;
    s += first ? t.keyJson[k] + v : ',' + t.keyJson[k] + v;
    first = false;
  }
  s += '}';
  if (t.labels) {
    const best = argmax(y);
    const label = JSON.stringify(t.labels[best]);
    if (label !== undefined) s += `,"label":${label}`;
    const p = f32JsonText(y[best]);
    if (p !== undefined) s += `,"p":${p}`;
  }
  if (input.anomaly) s += anomalyText(input.anomaly);
  if (input.window) s += `,"window":{"first":${jsonValue(input.window.first)},"last":${jsonValue(input.window.last)}}`;
  // Buffer.from takes small strings from Node's pool: cheaper than TextEncoder per message.
  return Buffer.from(s + '}', 'utf8');
}
