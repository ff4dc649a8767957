// Counters the stream operators bump and the health line / tests read. Plain numbers in
// one object: cheap to bump on the hot path, easy to snapshot.

/** The last `capacity` samples, for percentiles over a recent window. */
export class LatencyWindow {
  private readonly samples: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(readonly capacity = 4096) {
    this.samples = new Float64Array(capacity);
  }

  add(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.capacity;
    if (this.filled < this.capacity) this.filled++;
  }

  get count(): number {
    return this.filled;
  }

  /** Nearest-rank percentile (q in 0..1) of the window, or NaN when empty. */
  percentile(q: number): number {
    if (this.filled === 0) return NaN;
    const sorted = this.samples.slice(0, this.filled).sort();
    const rank = Math.min(this.filled - 1, Math.max(0, Math.ceil(q * this.filled) - 1));
    return sorted[rank];
  }
}

export interface StreamCounters {
  /** Messages that entered the stream. */
  received: number;
  /** Readings that parsed and had a device id. */
  readings: number;
  predictions: number;
  deadLetters: number;
  /** Dead letters by reason code. */
  readonly deadByReason: Record<string, number>;
  /** A `seq` already seen within the device's recent window (a redelivery), dropped. */
  duplicates: number;
  /** Readings a windowed model took into a device's window without ending it (its result comes at the hop). */
  inWindow: number;
  /** Readings a device skipped: its `seq` jumped past the last one + 1 (lost upstream). */
  missedReadings: number;
  /** States reset because of a gap longer than resetAfter (a new epoch). */
  resets: number;
  /** New epochs because a device's seq fell back (it rebooted): src/stream/sequence.ts. */
  reboots: number;
  /** New epochs because a seq jump far ahead was confirmed by the next reading. */
  seqResyncs: number;
  /** Readings stepped with values clamped into the model's range (guard policy `clamp`). */
  clamped: number;
  /** Predictions whose anomaly flag was raised (run --anomaly). */
  anomalyFlags: number;
  /** States reset because the state or output went non-finite. */
  nonFiniteResets: number;
  /** States evicted because there were more than maxDevices devices. */
  evictions: number;
  /** Device states held right now. */
  devices: number;
  /** The largest number of device states ever held at once. */
  peakDevices: number;
  /** Pushed models swapped in, refused, and rolled back after failing probation. */
  swaps: number;
  modelRejects: number;
  rollbacks: number;
  /** Device states reset by a swap (recurrent shapes changed) or a rollback. */
  swapResets: number;
  /** Calls of session.stepBatch, and readings stepped through it. */
  batches: number;
  batchedReadings: number;
  /** Reconnects on which the broker had lost this runtime's persistent session (queued readings gone). */
  sessionLosses: number;
  /** Step latency in milliseconds per reading (when a clock is given). */
  readonly stepLatency: LatencyWindow;
}

export function createCounters(): StreamCounters {
  return {
    received: 0, readings: 0, predictions: 0, deadLetters: 0, deadByReason: {},
    duplicates: 0, inWindow: 0, missedReadings: 0, resets: 0, reboots: 0, seqResyncs: 0, clamped: 0, anomalyFlags: 0, nonFiniteResets: 0, evictions: 0, devices: 0, peakDevices: 0,
    swaps: 0, modelRejects: 0, rollbacks: 0, swapResets: 0,
    batches: 0, batchedReadings: 0, sessionLosses: 0,
    stepLatency: new LatencyWindow(),
  };
}

export function countDeadLetter(counters: StreamCounters, code: string): void {
  counters.deadLetters++;
  counters.deadByReason[code] = (counters.deadByReason[code] ?? 0) + 1;
}
