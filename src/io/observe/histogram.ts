// A Prometheus-style histogram with fixed bucket bounds: observe() is a short scan over a
// dozen bounds and two additions, no allocation, so it can sit on the per-reading path.

/** Step duration of one reading (seconds): 5 µs .. 100 ms; a Pi steps an LSTM 64 in ~20-200 µs. */
export const STEP_DURATION_BUCKETS_S: readonly number[] = [5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1];

/** Reading arrival -> prediction handed to the MQTT client (seconds): 100 µs .. 2.5 s. */
export const PREDICTION_LATENCY_BUCKETS_S: readonly number[] = [1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5];

export class Histogram {
  /** Upper bounds, ascending (the implicit last bucket is +Inf). */
  readonly bounds: Float64Array;
  /** Observations per bucket, not cumulative: [bounds.length + 1], the last one above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    for (let i = 0; i < bounds.length; i++) {
      if (!Number.isFinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) throw new RangeError(`histogram bounds must be finite and strictly ascending, got ${bounds.join(', ')}`);
    }
    this.bounds = Float64Array.from(bounds);
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** One observation; a NaN is ignored (it would poison the sum). */
  observe(v: number): void {
    if (v !== v) return;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]) i++; // le: a value equal to a bound falls in that bucket
    this.counts[i]++;
    this.sum += v;
    this.count++;
  }

  /** Cumulative count of observations <= bounds[i] (i = bounds.length: all of them). */
  cumulative(i: number): number {
    let n = 0;
    for (let k = 0; k <= i; k++) n += this.counts[k];
    return n;
  }
}
