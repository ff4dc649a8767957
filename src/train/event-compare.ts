// A windowed event classifier against a per-reading (causal) one on the same validation
// readings (issue 19). Both are scored per reading against the reading's own label:
//   decision at reading e: the causal model's class at e; the windowed model's class of its
//   latest window ending at or before e (with hop 1: the window ending at e).
//   precision, recall, F1 of the event class over the compared readings.
//   decision delay of an event (a run of consecutive event readings among them, onset = its
//   first): readings from the onset to the first positive decision at or after it, looked for
//   until `grace` readings after the event's last reading; an event without one is missed.
// Pure: the caller runs the models and hands in their decisions.

export interface SeriesDecisions {
  readonly device: string;
  /** Readings compared, in order (indices into the series). */
  readonly readings: Int32Array;
  /** 1 where the reading is labelled an event, per series reading. */
  readonly event: Uint8Array;
  /** 1 where the model decided "event", per series reading (read at `readings` only). */
  readonly decision: Uint8Array;
}

export interface EventScore {
  readonly model: string;
  readonly readings: number;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly precision: number | null;
  readonly recall: number | null;
  readonly f1: number | null;
  readonly events: number;
  readonly detected: number;
  /** Delay of each detected event, in readings, in series order. */
  readonly delays: readonly number[];
  readonly meanDelay: number | null;
  readonly maxDelay: number | null;
}

export function scoreEvents(model: string, series: readonly SeriesDecisions[], grace: number): EventScore {
  let tp = 0, fp = 0, fn = 0, readings = 0, events = 0;
  const delays: number[] = [];
  for (const s of series) {
    const r = s.readings;
    for (let k = 0; k < r.length; k++) {
      const e = r[k], truth = s.event[e] === 1, said = s.decision[e] === 1;
      readings++;
      if (truth && said) tp++;
      else if (said) fp++;
      else if (truth) fn++;
    }
    // Events: runs of consecutive event readings among the compared ones.
    for (let k = 0; k < r.length; k++) {
      if (s.event[r[k]] !== 1 || (k > 0 && r[k - 1] === r[k] - 1 && s.event[r[k - 1]] === 1)) continue;
      events++;
      let last = k;
      while (last + 1 < r.length && r[last + 1] === r[last] + 1 && s.event[r[last + 1]] === 1) last++;
      // Look on through consecutive compared readings only (a validation block's end stops it).
      for (let j = k; j < r.length && r[j] <= r[last] + grace && (j === k || r[j] === r[j - 1] + 1); j++) {
        if (s.decision[r[j]] === 1) { delays.push(r[j] - r[k]); break; }
      }
    }
  }
  const precision = tp + fp > 0 ? tp / (tp + fp) : null;
  const recall = tp + fn > 0 ? tp / (tp + fn) : null;
  const f1 = precision !== null && recall !== null ? (precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0) : null;
  return {
    model, readings, tp, fp, fn, precision, recall, f1, events, detected: delays.length, delays,
    meanDelay: delays.length ? delays.reduce((a, b) => a + b, 0) / delays.length : null,
    maxDelay: delays.length ? Math.max(...delays) : null,
  };
}

export interface EventComparison {
  readonly eventLabel: string;
  readonly grace: number;
  readonly windowed: EventScore;
  readonly causal: EventScore;
  /** Which has the higher event F1 (ties: "tie"). */
  readonly winner: 'windowed' | 'causal' | 'tie';
}

export function compareEvents(eventLabel: string, grace: number, windowed: EventScore, causal: EventScore): EventComparison {
  const a = windowed.f1 ?? 0, b = causal.f1 ?? 0;
  return { eventLabel, grace, windowed, causal, winner: a > b ? 'windowed' : b > a ? 'causal' : 'tie' };
}

const r4 = (v: number | null) => (v === null ? null : Number(v.toPrecision(4)));
const cell = (v: number | null) => (v === null ? 'n/a' : String(r4(v)));

export function eventComparisonJson(c: EventComparison): Record<string, unknown> {
  const row = (s: EventScore) => ({ ...s, precision: r4(s.precision), recall: r4(s.recall), f1: r4(s.f1), meanDelay: r4(s.meanDelay) });
  return { eventLabel: c.eventLabel, graceReadings: c.grace, winner: c.winner, windowed: row(c.windowed), causal: row(c.causal) };
}

export function eventComparisonMarkdown(c: EventComparison): string[] {
  const rows = [c.windowed, c.causal].map((s, i) =>
    `| ${i === 0 ? 'this model (windowed)' : `\`${s.model}\` (per reading)`} | ${s.readings} | ${cell(s.precision)} | ${cell(s.recall)} | ${cell(s.f1)} | ${s.detected}/${s.events} | ${cell(s.meanDelay)} | ${cell(s.maxDelay)} |`);
  const verdict = c.winner === 'tie' ? 'Tie on event F1.' : `**${c.winner === 'windowed' ? 'This windowed model' : `The per-reading \`${c.causal.model}\``} wins on event F1.**`;
  return [
    '## Against the per-reading model', '',
    `Both models on the same validation readings, each reading scored against its own label (event class \`${c.eventLabel}\`). ` +
    'The windowed model\'s decision at a reading is that of its latest window ending there or before; the per-reading model\'s is its class at that reading. ' +
    `Decision delay: readings from an event's onset (its first labelled reading) to the first positive decision, looked for until ${c.grace} readings after the event's last reading; an event without one is missed.`,
    '',
    '| model | readings | precision | recall | F1 | events detected | mean delay (readings) | max delay |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows, '', verdict,
  ];
}

/** Two lines for the CLI summary. */
export function eventSummary(c: EventComparison): string[] {
  return [c.windowed, c.causal].map((s) => `event ${c.eventLabel} (${s === c.windowed ? 'windowed' : s.model}): precision ${cell(s.precision)}, recall ${cell(s.recall)}, F1 ${cell(s.f1)}, detected ${s.detected}/${s.events}, mean delay ${cell(s.meanDelay)} readings`)
    .concat([`winner on event F1: ${c.winner === 'windowed' ? 'this windowed model' : c.winner === 'causal' ? c.causal.model : 'tie'}`]);
}
