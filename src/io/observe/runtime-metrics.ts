// What `/metrics` and the metrics topic report about one runtime: the stream's counters
// (src/stream/counters.ts), the checkpoint counters, the connection, the model serving
// now, and what only the outgoing flow shows (model rejects by reason, probation, latency).
// Fed by taps on the runtime (onOutgoing, the step-latency sample hook, the client's
// reconnect event); read at scrape time, so nothing here runs per reading except the taps.
// No per-device labels: 10 000 devices must not mean 10 000 series.
import type { StreamCounters } from '../../stream/counters.js';
import type { Outgoing } from '../../stream/events.js';
import type { CheckpointCounters } from '../runtime/checkpointer.js';
import type { RunningModel } from '../runtime/options.js';
import type { MetricFamily, Sample } from './exposition.js';
import { Histogram, PREDICTION_LATENCY_BUCKETS_S, STEP_DURATION_BUCKETS_S } from './histogram.js';

/** What the observation reads from a running runtime (src/io/runtime/options.ts Runtime, or a fake). */
export interface ObservedRuntime {
  readonly counters: StreamCounters;
  readonly checkpoints: CheckpointCounters;
  connected(): boolean;
  model(): RunningModel;
}

export type ProbationState = 'none' | 'on-probation' | 'committed' | 'rolled-back';

export interface Readiness {
  readonly ready: boolean;
  /** Why not, one short phrase each (empty when ready). */
  readonly reasons: readonly string[];
}

const PROCESS_START_S = Date.now() / 1000 - process.uptime();

export class RuntimeObservation {
  readonly stepDuration = new Histogram(STEP_DURATION_BUCKETS_S);
  readonly predictionLatency = new Histogram(PREDICTION_LATENCY_BUCKETS_S);
  reconnects = 0;
  readonly rejectsByReason: Record<string, number> = {};
  probation: ProbationState = 'none';

  constructor(
    private readonly source: ObservedRuntime,
    private readonly monotonic: () => number,
  ) {
    // The stream measures each step in milliseconds; the histogram counts seconds.
    source.counters.stepLatency.onSample = (ms) => this.stepDuration.observe(ms / 1000);
  }

  /** The onOutgoing tap: one outgoing message, already handed to the client. */
  outgoing(out: Outgoing): void {
    const e = out.event;
    if (e.kind === 'prediction') {
      const at = e.origin.arrivedAt;
      if (at !== undefined) this.predictionLatency.observe((this.monotonic() - at) / 1000);
    } else if (e.kind === 'model-status') {
      if (e.status === 'rejected') {
        const code = e.code ?? 'unknown';
        this.rejectsByReason[code] = (this.rejectsByReason[code] ?? 0) + 1;
      } else if (e.status === 'accepted') this.probation = e.probation ? 'on-probation' : 'committed';
      else if (e.status === 'committed') this.probation = 'committed';
      else if (e.status === 'rolled-back') this.probation = 'rolled-back';
    }
  }

  /** Ready: connected, a model serving, and the last pushed model did not fail its probation. */
  readiness(): Readiness {
    const reasons: string[] = [];
    if (!this.source.connected()) reasons.push('not connected to the broker');
    if (!this.source.model().name) reasons.push('no model loaded');
    if (this.probation === 'rolled-back') reasons.push('the last pushed model failed its probation and was rolled back');
    return { ready: reasons.length === 0, reasons };
  }

  families(): MetricFamily[] {
    const c = this.source.counters;
    const k = this.source.checkpoints;
    const m = this.source.model();
    const counter = (name: string, help: string, value: number): MetricFamily => ({ name, help, type: 'counter', samples: [{ value }] });
    const gauge = (name: string, help: string, value: number): MetricFamily => ({ name, help, type: 'gauge', samples: [{ value }] });
    const byLabel = (label: string, counts: Readonly<Record<string, number>>): Sample[] => Object.keys(counts).sort().map((v) => ({ labels: { [label]: v }, value: counts[v] }));
    const mem = process.memoryUsage();
    return [
      counter('edge_rnn_messages_received_total', 'Messages that entered the stream (readings and anything on the reading topics).', c.received),
      counter('edge_rnn_readings_total', 'Readings that parsed and named a device.', c.readings),
      counter('edge_rnn_predictions_total', 'Predictions published (one per accepted reading).', c.predictions),
      { name: 'edge_rnn_dead_letters_total', help: 'Messages published as dead letters, by reason code.', type: 'counter', samples: byLabel('reason', c.deadByReason) },
      counter('edge_rnn_duplicates_total', 'Readings dropped because their seq was seen already (redeliveries).', c.duplicates),
      counter('edge_rnn_missed_readings_total', "Readings a device skipped: its seq jumped past the last one + 1.", c.missedReadings),
      { name: 'edge_rnn_state_resets_total', help: 'Device states reset, by cause.', type: 'counter', samples: [
        { labels: { cause: 'gap' }, value: c.resets }, { labels: { cause: 'reboot' }, value: c.reboots },
        { labels: { cause: 'seq-resync' }, value: c.seqResyncs }, { labels: { cause: 'non-finite' }, value: c.nonFiniteResets },
        { labels: { cause: 'model-swap' }, value: c.swapResets },
      ] },
      counter('edge_rnn_device_evictions_total', 'Device states evicted because more than --max-devices devices were seen.', c.evictions),
      counter('edge_rnn_clamped_readings_total', 'Readings stepped with values clamped into the training range (--guard clamp).', c.clamped),
      counter('edge_rnn_anomaly_flags_total', 'Predictions whose anomaly flag was raised (--anomaly).', c.anomalyFlags),
      gauge('edge_rnn_devices', 'Device states held now.', c.devices),
      gauge('edge_rnn_devices_peak', 'Most device states held at once since start.', c.peakDevices),
      { name: 'edge_rnn_step_duration_seconds', help: 'Time to step one reading through the model.', type: 'histogram', histogram: this.stepDuration },
      { name: 'edge_rnn_prediction_latency_seconds', help: 'From a reading arriving to its prediction handed to the MQTT client.', type: 'histogram', histogram: this.predictionLatency },
      counter('edge_rnn_step_batches_total', 'Batched step calls (readings that arrived together).', c.batches),
      { name: 'edge_rnn_model_info', help: 'The model serving now (value 1).', type: 'gauge', samples: [{ labels: { name: m.name, version: String(m.version), sha256: m.sha256 ?? '' }, value: 1 }] },
      counter('edge_rnn_model_swaps_total', 'Pushed models swapped in.', c.swaps),
      { name: 'edge_rnn_model_rejects_total', help: 'Pushed models refused, by reason code.', type: 'counter', samples: byLabel('reason', this.rejectsByReason) },
      counter('edge_rnn_model_rollbacks_total', 'Pushed models rolled back after failing their probation.', c.rollbacks),
      gauge('edge_rnn_model_on_probation', '1 while a pushed model is on probation.', this.probation === 'on-probation' ? 1 : 0),
      gauge('edge_rnn_mqtt_connected', '1 while connected to the broker.', this.source.connected() ? 1 : 0),
      counter('edge_rnn_mqtt_reconnects_total', 'Reconnect attempts to the broker.', this.reconnects),
      counter('edge_rnn_mqtt_session_losses_total', 'Reconnects on which the broker had lost our persistent session.', c.sessionLosses),
      counter('edge_rnn_checkpoint_writes_total', 'Device state checkpoints written.', k.checkpointWrites),
      counter('edge_rnn_checkpoint_write_errors_total', 'Device state checkpoint writes that failed.', k.checkpointWriteErrors),
      gauge('process_resident_memory_bytes', 'Resident memory size.', mem.rss),
      gauge('nodejs_heap_used_bytes', 'V8 heap in use.', mem.heapUsed),
      gauge('process_start_time_seconds', 'Start time of the process since the epoch.', Math.round(PROCESS_START_S)),
    ];
  }
}
