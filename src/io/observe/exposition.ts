// Prometheus text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats):
// `# HELP name text`, `# TYPE name type`, then `name{label="value"} number` lines; a
// histogram as cumulative `_bucket{le=".."}` lines ending with le="+Inf", then `_sum` and
// `_count`. Written by hand: a client library would add tens of KiB to the device bundle
// for the few lines this takes.
import type { Histogram } from './histogram.js';

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels?: Labels;
  readonly value: number;
}

export interface ScalarFamily {
  /** Counters end in `_total` (checked). */
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  readonly samples: readonly Sample[];
}

export interface HistogramFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'histogram';
  readonly histogram: Histogram;
}

export type MetricFamily = ScalarFamily | HistogramFamily;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A sample value as the format writes it: Go float syntax, with NaN, +Inf and -Inf. */
export function formatValue(v: number): string {
  if (v !== v) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Label values escape backslash, double quote and line feed. */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text escapes backslash and line feed. */
function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function labelText(labels: Labels | undefined, extra?: string): string {
  const parts: string[] = [];
  if (labels) {
    for (const k of Object.keys(labels)) {
      if (!LABEL_NAME.test(k) || k.startsWith('__')) throw new Error(`metric label name "${k}" is not valid`);
      parts.push(`${k}="${escapeLabelValue(labels[k])}"`);
    }
  }
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function checkName(f: MetricFamily): void {
  if (!METRIC_NAME.test(f.name)) throw new Error(`metric name "${f.name}" is not valid`);
  if (f.type === 'counter' && !f.name.endsWith('_total')) throw new Error(`counter "${f.name}" must end in _total`);
}

/** The families as one exposition document (ends with a line feed). */
export function writeExposition(families: readonly MetricFamily[]): string {
  let out = '';
  for (const f of families) {
    checkName(f);
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    if (f.type === 'histogram') {
      const h = f.histogram;
      let cum = 0;
      for (let i = 0; i < h.bounds.length; i++) {
        cum += h.counts[i];
        out += `${f.name}_bucket{le="${formatValue(h.bounds[i])}"} ${cum}\n`;
      }
      out += `${f.name}_bucket{le="+Inf"} ${h.count}\n${f.name}_sum ${formatValue(h.sum)}\n${f.name}_count ${h.count}\n`;
    } else {
      for (const s of f.samples) out += `${f.name}${labelText(s.labels)} ${formatValue(s.value)}\n`;
    }
  }
  return out;
}
