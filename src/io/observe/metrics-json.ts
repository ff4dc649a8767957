// The metric families as one JSON document, for the retained metrics topic and the status
// page: a counter or gauge without labels is a number, one with labels an object keyed by
// the label values, a histogram {count, sum, buckets: {le: cumulative}}.
import type { MetricFamily } from './exposition.js';

export type MetricsJson = Record<string, number | Record<string, number | string> | { count: number; sum: number; buckets: Record<string, number> }>;

export function metricsJson(families: readonly MetricFamily[]): MetricsJson {
  const out: MetricsJson = {};
  for (const f of families) {
    if (f.type === 'histogram') {
      const h = f.histogram;
      const buckets: Record<string, number> = {};
      let cum = 0;
      for (let i = 0; i < h.bounds.length; i++) buckets[String(h.bounds[i])] = cum += h.counts[i];
      buckets['+Inf'] = h.count;
      out[f.name] = { count: h.count, sum: h.sum, buckets };
    } else if (f.samples.length === 1 && !f.samples[0].labels) {
      out[f.name] = f.samples[0].value;
    } else if (f.name.endsWith('_info')) {
      out[f.name] = { ...(f.samples[0]?.labels ?? {}) }; // the labels are the information
    } else {
      const by: Record<string, number> = {};
      for (const s of f.samples) by[Object.values(s.labels ?? {}).join(',')] = s.value;
      out[f.name] = by;
    }
  }
  return out;
}
