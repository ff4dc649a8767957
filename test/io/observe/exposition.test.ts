// The exposition writer and the histogram: exact text for hand-built families, and the same
// text read back by an independent parser (parse-prometheus-text-format).
import { describe, expect, it } from 'vitest';
import { escapeLabelValue, formatValue, writeExposition, type MetricFamily } from '../../../src/io/observe/exposition.js';
import { Histogram } from '../../../src/io/observe/histogram.js';
import { metricsJson } from '../../../src/io/observe/metrics-json.js';
import { parsePrometheus, sampleValue } from '../../helpers/prometheus.js';

describe('Histogram', () => {
  it('puts each value in the first bucket whose bound it does not exceed (le), the rest in +Inf', () => {
    const h = new Histogram([1, 2, 5]);
    for (const v of [0.5, 1, 1.5, 2, 4.9, 5, 7, 100]) h.observe(v);
    // hand-counted: <=1: 0.5, 1; (1,2]: 1.5, 2; (2,5]: 4.9, 5; above: 7, 100
    expect([...h.counts]).toEqual([2, 2, 2, 2]);
    expect([0, 1, 2, 3].map((i) => h.cumulative(i))).toEqual([2, 4, 6, 8]);
    expect(h.count).toBe(8);
    expect(h.sum).toBeCloseTo(0.5 + 1 + 1.5 + 2 + 4.9 + 5 + 7 + 100, 12);
  });

  it('ignores NaN and refuses bounds that are not strictly ascending', () => {
    const h = new Histogram([1]);
    h.observe(NaN);
    expect(h.count).toBe(0);
    expect(h.sum).toBe(0);
    expect(() => new Histogram([1, 1])).toThrow(/strictly ascending/);
    expect(() => new Histogram([Infinity])).toThrow(/finite/);
  });
});

describe('writeExposition', () => {
  const h = new Histogram([0.001, 0.01]);
  for (const v of [0.0005, 0.002, 0.003, 0.5]) h.observe(v);
  const families: MetricFamily[] = [
    { name: 'edge_rnn_readings_total', help: 'Readings.\nTwo lines \\ here', type: 'counter', samples: [{ value: 42 }] },
    { name: 'edge_rnn_dead_letters_total', help: 'By reason.', type: 'counter', samples: [{ labels: { reason: 'invalid-json' }, value: 3 }, { labels: { reason: 'odd"one\\\n' }, value: 1 }] },
    { name: 'edge_rnn_devices', help: 'Held.', type: 'gauge', samples: [{ value: NaN }] },
    { name: 'edge_rnn_latency_seconds', help: 'Latency.', type: 'histogram', histogram: h },
  ];

  it('writes HELP, TYPE, samples, escaped labels and cumulative buckets', () => {
    expect(writeExposition(families)).toBe([
      '# HELP edge_rnn_readings_total Readings.\\nTwo lines \\\\ here',
      '# TYPE edge_rnn_readings_total counter',
      'edge_rnn_readings_total 42',
      '# HELP edge_rnn_dead_letters_total By reason.',
      '# TYPE edge_rnn_dead_letters_total counter',
      'edge_rnn_dead_letters_total{reason="invalid-json"} 3',
      'edge_rnn_dead_letters_total{reason="odd\\"one\\\\\\n"} 1',
      '# HELP edge_rnn_devices Held.',
      '# TYPE edge_rnn_devices gauge',
      'edge_rnn_devices NaN',
      '# HELP edge_rnn_latency_seconds Latency.',
      '# TYPE edge_rnn_latency_seconds histogram',
      'edge_rnn_latency_seconds_bucket{le="0.001"} 1',
      'edge_rnn_latency_seconds_bucket{le="0.01"} 3',
      'edge_rnn_latency_seconds_bucket{le="+Inf"} 4',
      `edge_rnn_latency_seconds_sum ${0.0005 + 0.002 + 0.003 + 0.5}`,
      'edge_rnn_latency_seconds_count 4',
      '',
    ].join('\n'));
  });

  it('is read back the same by parse-prometheus-text-format', () => {
    const parsed = parsePrometheus(writeExposition(families));
    expect(parsed.get('edge_rnn_readings_total')?.type).toBe('COUNTER');
    expect(sampleValue(parsed, 'edge_rnn_readings_total')).toBe(42);
    expect(sampleValue(parsed, 'edge_rnn_dead_letters_total', { reason: 'invalid-json' })).toBe(3);
    expect(sampleValue(parsed, 'edge_rnn_dead_letters_total', { reason: 'odd"one\\\n' })).toBe(1);
    const hist = parsed.get('edge_rnn_latency_seconds')!;
    expect(hist.type).toBe('HISTOGRAM');
    expect(hist.metrics[0].buckets).toEqual({ '0.001': '1', '0.01': '3', '+Inf': '4' });
    expect(Number(hist.metrics[0].count)).toBe(4);
  });

  it('refuses a counter without _total and names that are not valid', () => {
    expect(() => writeExposition([{ name: 'edge_rnn_readings', help: '', type: 'counter', samples: [] }])).toThrow(/_total/);
    expect(() => writeExposition([{ name: 'edge-rnn', help: '', type: 'gauge', samples: [] }])).toThrow(/not valid/);
    expect(() => writeExposition([{ name: 'a', help: '', type: 'gauge', samples: [{ labels: { 'bad-label': 'x' }, value: 1 }] }])).toThrow(/label name/);
  });

  it('formats special values and escapes label values as the format says', () => {
    expect([formatValue(Infinity), formatValue(-Infinity), formatValue(NaN), formatValue(1e-7), formatValue(3)]).toEqual(['+Inf', '-Inf', 'NaN', '1e-7', '3']);
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });

  it('metricsJson gives the same numbers as a JSON document', () => {
    const doc = metricsJson(families);
    expect(doc.edge_rnn_readings_total).toBe(42);
    expect(doc.edge_rnn_dead_letters_total).toEqual({ 'invalid-json': 3, 'odd"one\\\n': 1 });
    expect(doc.edge_rnn_latency_seconds).toEqual({ count: 4, sum: 0.0005 + 0.002 + 0.003 + 0.5, buckets: { '0.001': 1, '0.01': 3, '+Inf': 4 } });
  });
});
