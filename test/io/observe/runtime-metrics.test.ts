// The runtime's metrics from its counters and its outgoing flow: readiness, probation,
// rejects by reason, the step and latency histograms, listen-address parsing.
import { describe, expect, it } from 'vitest';
import { parseListenAddress } from '../../../src/io/observe/listen-address.js';
import { RuntimeObservation, type ObservedRuntime } from '../../../src/io/observe/runtime-metrics.js';
import { writeExposition } from '../../../src/io/observe/exposition.js';
import { createCounters, countDeadLetter } from '../../../src/stream/counters.js';
import type { ModelStatusEvent, Outgoing, PredictionEvent } from '../../../src/stream/events.js';
import { parsePrometheus, sampleValue } from '../../helpers/prometheus.js';

function fake(): ObservedRuntime & { up: boolean } {
  const counters = createCounters();
  const f = {
    counters, up: true,
    checkpoints: { checkpointRestored: 0, checkpointColdStarts: 0, checkpointWrites: 2, checkpointWriteErrors: 0 },
    connected: () => f.up,
    model: () => ({ name: 'm', version: 3, sha256: 'ab' }),
  };
  return f;
}

const status = (s: Partial<ModelStatusEvent>): Outgoing => ({ topic: null, payload: null, event: { kind: 'model-status', status: 'accepted', running: { name: 'm', version: 3 }, origin: { receivedAt: 0 }, ...s } as ModelStatusEvent });

describe('RuntimeObservation', () => {
  it('is ready only when connected and the last pushed model did not fail its probation', () => {
    const src = fake();
    const obs = new RuntimeObservation(src, () => 0);
    expect(obs.readiness()).toEqual({ ready: true, reasons: [] });
    src.up = false;
    expect(obs.readiness().reasons).toEqual(['not connected to the broker']);
    src.up = true;
    obs.outgoing(status({ status: 'accepted', probation: { minReadings: 10, minDevices: 1, minStepsPerDevice: 1, zLimit: 10 } }));
    expect(obs.probation).toBe('on-probation');
    expect(obs.readiness().ready).toBe(true);
    obs.outgoing(status({ status: 'rolled-back', code: 'implausible-output' }));
    expect(obs.readiness()).toEqual({ ready: false, reasons: ['the last pushed model failed its probation and was rolled back'] });
    obs.outgoing(status({ status: 'accepted' })); // no probation: committed at once
    expect(obs.probation).toBe('committed');
    expect(obs.readiness().ready).toBe(true);
  });

  it('counts rejects by reason, times predictions from arrival and steps from the stream, and exposes the counters', () => {
    const src = fake();
    let t = 100;
    const obs = new RuntimeObservation(src, () => t);
    obs.outgoing(status({ status: 'rejected', code: 'bad-signature' }));
    obs.outgoing(status({ status: 'rejected', code: 'bad-signature' }));
    obs.outgoing(status({ status: 'rejected', code: 'not-newer' }));
    const prediction = { kind: 'prediction', origin: { receivedAt: 0, arrivedAt: 98.5 } } as unknown as PredictionEvent;
    obs.outgoing({ topic: 'p', payload: null, event: prediction }); // 1.5 ms
    t = 103;
    obs.outgoing({ topic: 'p', payload: null, event: prediction }); // 4.5 ms
    src.counters.stepLatency.add(0.02); // 20 µs
    src.counters.received = 7;
    countDeadLetter(src.counters, 'late');
    src.counters.reboots = 2;
    const m = parsePrometheus(writeExposition(obs.families()));
    expect(sampleValue(m, 'edge_rnn_model_rejects_total', { reason: 'bad-signature' })).toBe(2);
    expect(sampleValue(m, 'edge_rnn_model_rejects_total', { reason: 'not-newer' })).toBe(1);
    expect(m.get('edge_rnn_prediction_latency_seconds')!.metrics[0].buckets).toMatchObject({ '0.001': '0', '0.0025': '1', '0.005': '2' });
    expect(Number(m.get('edge_rnn_prediction_latency_seconds')!.metrics[0].sum)).toBeCloseTo(0.006, 12);
    expect(m.get('edge_rnn_step_duration_seconds')!.metrics[0].buckets).toMatchObject({ '0.00001': '0', '0.000025': '1' });
    expect(sampleValue(m, 'edge_rnn_messages_received_total')).toBe(7);
    expect(sampleValue(m, 'edge_rnn_dead_letters_total', { reason: 'late' })).toBe(1);
    expect(sampleValue(m, 'edge_rnn_state_resets_total', { cause: 'reboot' })).toBe(2);
    expect(sampleValue(m, 'edge_rnn_checkpoint_writes_total')).toBe(2);
    expect(m.get('edge_rnn_model_info')!.metrics[0].labels).toEqual({ name: 'm', version: '3', sha256: 'ab' });
  });
});

describe('parseListenAddress', () => {
  it('takes HOST:PORT, [v6]:PORT and a bare port, and names what is wrong otherwise', () => {
    expect(parseListenAddress('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseListenAddress('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListenAddress('9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(() => parseListenAddress('localhost')).toThrow(/is not HOST:PORT/);
    expect(() => parseListenAddress('h:70000')).toThrow(/above 65535/);
  });
});
