// The devices the status page shows: last reading, last prediction and a small ring of
// (time, reading, forecast) points for the chart. Bounded: at most `maxDevices` devices
// are tracked (the first seen; one silent for `idleMs` gives its place to a new one) and
// each ring holds `points` entries, so 10 000 devices cost the same as `maxDevices`.
import type { Model } from '../../model/types.js';
import { argmax, outputKeys } from '../../protocol/prediction.js';
import type { PredictionEvent } from '../../stream/events.js';

export interface TrackerLimits {
  readonly maxDevices: number;
  readonly points: number;
  readonly idleMs: number;
}

export const DEFAULT_TRACKER_LIMITS: TrackerLimits = { maxDevices: 8, points: 240, idleMs: 5 * 60_000 };

/** What the chart draws for a model: the reading of input `input` against output `output`. */
export interface ChartPlan {
  /** Output charted (its name), or null when there is no output to chart. */
  readonly name: string;
  readonly output: number;
  /** The input of the same name (a forecaster's), or -1: only the output is drawn. */
  readonly input: number;
  /** Steps ahead the output forecasts (1 unless the model says). */
  readonly horizon: number;
}

const plans = new WeakMap<Model, ChartPlan>();

export function chartPlan(model: Model): ChartPlan {
  let p = plans.get(model);
  if (p) return p;
  const names = model.outputs.labels ? [] : model.outputs.names;
  const k = names.findIndex((n) => model.inputs.names.includes(n));
  const output = Math.max(0, k);
  p = { name: outputKeys(model)[output] ?? 'y0', output, input: k >= 0 ? model.inputs.names.indexOf(names[k]) : -1, horizon: model.outputs.horizon ?? 1 };
  plans.set(model, p);
  return p;
}

class DeviceRing {
  readonly ts: Float64Array;
  readonly reading: Float64Array;
  readonly forecast: Float64Array;
  /** Points ever written; the ring holds the last min(written, capacity). */
  written = 0;
  lastSeen = 0;
  lastReading: { ts: number; values: readonly number[] } | null = null;
  lastPrediction: { ts: number; y: Float32Array; label?: string; model: Model } | null = null;

  constructor(capacity: number) {
    this.ts = new Float64Array(capacity);
    this.reading = new Float64Array(capacity);
    this.forecast = new Float64Array(capacity);
  }

  push(ts: number, reading: number, forecast: number): void {
    const i = this.written % this.ts.length;
    this.ts[i] = ts;
    this.reading[i] = reading;
    this.forecast[i] = forecast;
    this.written++;
  }

  /** Points written after `from` (a `written` count), oldest first: [ts[], reading[], forecast[]]. */
  since(from: number): [number[], (number | null)[], number[]] {
    const cap = this.ts.length;
    const start = Math.max(from, this.written - cap);
    const out: [number[], (number | null)[], number[]] = [[], [], []];
    for (let n = start; n < this.written; n++) {
      const i = n % cap;
      out[0].push(this.ts[i]);
      out[1].push(Number.isNaN(this.reading[i]) ? null : this.reading[i]);
      out[2].push(this.forecast[i]);
    }
    return out;
  }
}

export interface DeviceView {
  readonly device: string;
  readonly lastReading: { readonly ts: number; readonly values: Record<string, number> } | null;
  readonly lastPrediction: { readonly ts: number; readonly y: Record<string, number>; readonly label?: string } | null;
  /** Points written so far (the cursor for the next delta). */
  readonly written: number;
  /** [ts ms[], reading[], forecast[]] since the cursor asked for. */
  readonly points: [number[], (number | null)[], number[]];
}

export class DeviceTracker {
  private readonly rings = new Map<string, DeviceRing>();
  /** Predictions of devices that could not be tracked (all places taken). */
  untracked = 0;
  // When full, idle places are looked for at most once a second, not per prediction.
  private nextIdleCheck = 0;

  constructor(readonly limits: TrackerLimits = DEFAULT_TRACKER_LIMITS) {}

  get size(): number {
    return this.rings.size;
  }

  /** One prediction (the onOutgoing tap): O(1), no allocation for untracked devices. */
  prediction(e: PredictionEvent, now: number): void {
    let ring = this.rings.get(e.device);
    if (!ring) {
      if (this.rings.size >= this.limits.maxDevices && (now < this.nextIdleCheck || !this.freeIdle(now))) {
        this.untracked++;
        return;
      }
      ring = new DeviceRing(this.limits.points);
      this.rings.set(e.device, ring);
    }
    const plan = chartPlan(e.model);
    const ts = e.reading.ts ?? e.origin.receivedAt;
    ring.lastSeen = now;
    ring.lastReading = { ts, values: e.reading.values };
    ring.lastPrediction = { ts, y: e.y, model: e.model, ...(e.model.outputs.labels ? { label: e.model.outputs.labels[argmax(e.y)] } : {}) };
    ring.push(ts, plan.input >= 0 ? e.reading.values[plan.input] : NaN, e.y[plan.output]);
  }

  private freeIdle(now: number): boolean {
    this.nextIdleCheck = now + 1000;
    for (const [d, r] of this.rings) {
      if (now - r.lastSeen > this.limits.idleMs) {
        this.rings.delete(d);
        return true;
      }
    }
    return false;
  }

  /** Every tracked device with the points after `cursors[device]` (all of them when absent). */
  views(inputNames: readonly string[], cursors?: ReadonlyMap<string, number>): DeviceView[] {
    const out: DeviceView[] = [];
    for (const [device, r] of this.rings) {
      const keys = r.lastPrediction ? outputKeys(r.lastPrediction.model) : [];
      out.push({
        device,
        lastReading: r.lastReading && { ts: r.lastReading.ts, values: Object.fromEntries(inputNames.map((n, i) => [n, r.lastReading!.values[i]])) },
        lastPrediction: r.lastPrediction && { ts: r.lastPrediction.ts, y: Object.fromEntries(keys.map((n, i) => [n, r.lastPrediction!.y[i]])), ...(r.lastPrediction.label ? { label: r.lastPrediction.label } : {}) },
        written: r.written,
        points: r.since(cursors?.get(device) ?? 0),
      });
    }
    return out;
  }
}
