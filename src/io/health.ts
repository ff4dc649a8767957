// The periodic one-line health summary: rates since the last line, devices, dead
// letters, step latency p50/p99 over the recent window.
import type { StreamCounters } from '../stream/counters.js';

export interface HealthSnapshot {
  readonly readingsPerS: number;
  readonly predictionsPerS: number;
  /** Predictions flagged by run --anomaly since start. */
  readonly anomalyFlags: number;
  readonly devices: number;
  readonly deadLetters: number;
  readonly duplicates: number;
  /** Readings a windowed model took into a window without ending it (0 for other models). */
  readonly inWindow: number;
  readonly missedReadings: number;
  readonly resets: number;
  readonly reboots: number;
  readonly evictions: number;
  /** Dead letters by reason code (late, seq-jump, out-of-range, …). */
  readonly deadByReason: Readonly<Record<string, number>>;
  readonly swaps: number;
  readonly modelRejects: number;
  readonly rollbacks: number;
  /** Reconnects that found the broker had lost our session (readings queued meanwhile are gone). */
  readonly sessionLosses: number;
  /** Step latency in microseconds (NaN before the first step). */
  readonly stepP50Us: number;
  readonly stepP99Us: number;
}

/** Returns a function that snapshots the counters, with rates over the time since its last call. */
export function healthMeter(counters: StreamCounters, now: () => number): () => HealthSnapshot {
  let lastT = now();
  let lastReceived = counters.received;
  let lastPredictions = counters.predictions;
  return () => {
    const t = now();
    const dt = Math.max(1e-3, (t - lastT) / 1000);
    const snap: HealthSnapshot = {
      readingsPerS: (counters.received - lastReceived) / dt,
      predictionsPerS: (counters.predictions - lastPredictions) / dt,
      anomalyFlags: counters.anomalyFlags,
      devices: counters.devices,
      deadLetters: counters.deadLetters,
      duplicates: counters.duplicates,
      inWindow: counters.inWindow,
      missedReadings: counters.missedReadings,
      resets: counters.resets,
      reboots: counters.reboots,
      evictions: counters.evictions,
      deadByReason: { ...counters.deadByReason },
      swaps: counters.swaps,
      modelRejects: counters.modelRejects,
      rollbacks: counters.rollbacks,
      sessionLosses: counters.sessionLosses,
      stepP50Us: counters.stepLatency.percentile(0.5) * 1000,
      stepP99Us: counters.stepLatency.percentile(0.99) * 1000,
    };
    lastT = t;
    lastReceived = counters.received;
    lastPredictions = counters.predictions;
    return snap;
  };
}

export function formatHealth(h: HealthSnapshot): string {
  const us = (v: number) => (Number.isNaN(v) ? '-' : `${v.toFixed(0)}µs`);
  // The reasons behind the dead letters, largest first: `late 3, out-of-range 1`.
  const reasons = Object.entries(h.deadByReason).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  return (
    `health: ${h.readingsPerS.toFixed(1)} readings/s, ${h.predictionsPerS.toFixed(1)} predictions/s, ` +
    (h.anomalyFlags ? `${h.anomalyFlags} anomaly flags, ` : '') +
    `${h.devices} devices, ${h.deadLetters} dead letters${reasons ? ` (${reasons})` : ''}, ${h.duplicates} duplicates, ${h.inWindow ? `${h.inWindow} in-window, ` : ''}${h.missedReadings} missed, ` +
    `${h.resets} gap resets, ${h.reboots} reboots, ` +
    `${h.swaps} model swaps (${h.modelRejects} rejected, ${h.rollbacks} rolled back), ${h.sessionLosses} broker session losses, step p50 ${us(h.stepP50Us)} p99 ${us(h.stepP99Us)}`
  );
}
