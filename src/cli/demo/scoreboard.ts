// What the demo shows and sums up, from the messages on the broker: per device the last
// reading, the last prediction and its error; in total readings, predictions, dead
// letters and the mean absolute error of predictions against the readings that arrived
// later. A forecaster with outputs.horizon k predicts at seq s the reading at seq s + k.
import type { Model } from '../../model/types.js';
import { parseReading } from '../../protocol/reading.js';

export interface DeviceRow {
  readonly device: string;
  /** Messages on the device's reading topic (valid or not). */
  messages: number;
  lastSeq?: number;
  /** Last valid reading, by input name. */
  lastReading?: Record<string, number>;
  predictions: number;
  /** Last prediction and the seq it is for (seq + horizon). */
  lastPrediction?: Record<string, number>;
  lastPredictionFor?: number;
  /** Absolute error per scored output of the latest prediction whose target has arrived. */
  lastError?: Record<string, number>;
  deadLetters: number;
}

export interface Summary {
  readonly readings: number;
  readonly predictions: number;
  readonly deadLetters: number;
  readonly deadByReason: Readonly<Record<string, number>>;
  readonly devices: number;
  readonly horizon: number;
  /** Predictions compared with the reading they forecast. */
  readonly scored: number;
  /** Mean absolute error per scored output name (NaN when nothing was scored). */
  readonly mae: Readonly<Record<string, number>>;
}

/** Prediction document fields the scoreboard reads. */
interface PredictionDoc {
  device?: unknown;
  seq?: unknown;
  y?: unknown;
}

export class Scoreboard {
  readonly rows = new Map<string, DeviceRow>();
  readonly horizon: number;
  /** Output names that are also inputs: the ones that can be scored against readings. */
  readonly scoredNames: readonly string[];
  private readonly inputNames: readonly string[];
  // Per device: seq -> values, both sides kept until matched (bounded below).
  private readonly readingsBySeq = new Map<string, Map<number, number[]>>();
  private readonly predictionsBySeq = new Map<string, Map<number, number[]>>();
  private readings = 0;
  private predictions = 0;
  private deadLetters = 0;
  private readonly deadByReason: Record<string, number> = {};
  private scored = 0;
  private readonly absSum: number[];

  constructor(model: Model, private readonly keep = 4096) {
    this.inputNames = model.inputs.names;
    const outputs = model.outputs.labels ? [] : model.outputs.names;
    this.scoredNames = outputs.filter((n) => this.inputNames.includes(n));
    // A forecaster says how far ahead; a plain regression on the inputs predicts the next one.
    this.horizon = model.outputs.horizon ?? 1;
    this.absSum = this.scoredNames.map(() => 0);
  }

  private row(device: string): DeviceRow {
    let r = this.rows.get(device);
    if (!r) this.rows.set(device, (r = { device, messages: 0, predictions: 0, deadLetters: 0 }));
    return r;
  }

  /** A message on a reading topic. */
  reading(device: string, payload: Uint8Array): void {
    this.readings++;
    const row = this.row(device);
    row.messages++;
    const parsed = parseReading(payload, this.inputNames);
    if (!parsed.ok) return;
    const { values, seq } = parsed.reading;
    row.lastReading = Object.fromEntries(this.inputNames.map((n, i) => [n, values[i]]));
    if (seq === undefined) return;
    row.lastSeq = seq;
    const scored = this.scoredNames.map((n) => values[this.inputNames.indexOf(n)]);
    const pending = this.predictionsBySeq.get(device)?.get(seq);
    if (pending) {
      this.score(row, pending, scored);
      this.predictionsBySeq.get(device)!.delete(seq);
    } else remember(this.readingsBySeq, device, seq, scored, this.keep);
  }

  /** A prediction message. */
  prediction(payload: Uint8Array): void {
    let doc: PredictionDoc;
    try {
      doc = JSON.parse(Buffer.from(payload).toString('utf8')) as PredictionDoc;
    } catch {
      return;
    }
    if (typeof doc.device !== 'string' || typeof doc.y !== 'object' || doc.y === null) return;
    this.predictions++;
    const row = this.row(doc.device);
    row.predictions++;
    const y = doc.y as Record<string, number>;
    row.lastPrediction = { ...y };
    if (typeof doc.seq !== 'number') return;
    const target = doc.seq + this.horizon;
    row.lastPredictionFor = target;
    const predicted = this.scoredNames.map((n) => y[n]);
    const arrived = this.readingsBySeq.get(doc.device)?.get(target);
    if (arrived) {
      this.score(row, predicted, arrived);
      this.readingsBySeq.get(doc.device)!.delete(target);
    } else remember(this.predictionsBySeq, doc.device, target, predicted, this.keep);
  }

  /** A dead-letter message (the runtime's JSON with reason and device). */
  deadLetter(payload: Uint8Array): void {
    this.deadLetters++;
    try {
      const doc = JSON.parse(Buffer.from(payload).toString('utf8')) as { reason?: unknown; device?: unknown };
      const reason = typeof doc.reason === 'string' ? doc.reason : 'unknown';
      this.deadByReason[reason] = (this.deadByReason[reason] ?? 0) + 1;
      if (typeof doc.device === 'string') this.row(doc.device).deadLetters++;
    } catch {
      this.deadByReason.unknown = (this.deadByReason.unknown ?? 0) + 1;
    }
  }

  private score(row: DeviceRow, predicted: number[], actual: number[]): void {
    const err: Record<string, number> = {};
    for (let i = 0; i < this.scoredNames.length; i++) {
      const e = Math.abs(predicted[i] - actual[i]);
      this.absSum[i] += e;
      err[this.scoredNames[i]] = e;
    }
    this.scored++;
    row.lastError = err;
  }

  summary(): Summary {
    return {
      readings: this.readings,
      predictions: this.predictions,
      deadLetters: this.deadLetters,
      deadByReason: { ...this.deadByReason },
      devices: this.rows.size,
      horizon: this.horizon,
      scored: this.scored,
      mae: Object.fromEntries(this.scoredNames.map((n, i) => [n, this.scored ? this.absSum[i] / this.scored : NaN])),
    };
  }
}

// Keeps the newest `keep` entries per device (readings a prediction never claims, e.g.
// the first k of each device, would otherwise pile up for the whole run).
function remember(store: Map<string, Map<number, number[]>>, device: string, seq: number, values: number[], keep: number): void {
  let m = store.get(device);
  if (!m) store.set(device, (m = new Map()));
  m.set(seq, values);
  if (m.size > keep) m.delete(m.keys().next().value as number);
}
