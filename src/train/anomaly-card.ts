// The model card's "Anomaly flag" part (JSON and Markdown) from a calibration
// (anomaly-eval.ts), or the reason a forecaster has no anomaly scale. Pure.
import type { AnomalyCalibration, AnomalyOutcome, FlagScore } from './anomaly-eval.js';

const r4 = (v: number | null) => (v === null || !Number.isFinite(v) ? v : Number(v.toPrecision(4)));
const ratio = (v: number | null) => (v === null ? 'n/a' : v.toFixed(3));
const pct = (n: number, of: number) => (of > 0 ? `${((100 * n) / of).toFixed(2)} %` : 'n/a');

function flagJson(f: FlagScore): Record<string, unknown> {
  return { ...f, precision: r4(f.precision), recall: r4(f.recall), falsePositiveRate: r4(f.falsePositiveRate) };
}

/** The card's `anomaly` entry. */
export function anomalyCardJson(a: AnomalyOutcome): Record<string, unknown> {
  if (!a.ok) return { available: false, reason: a.reason };
  const c: AnomalyCalibration = a.calibration;
  return {
    available: true, score: c.score, rmse: c.rmse.map(r4), threshold: r4(c.threshold),
    thresholdRule: `the ${c.quantile} quantile of the validation scores`,
    validationReadings: c.validationReadings, validationFlagged: c.validationFlagged,
    trainingReadings: c.trainingReadings, trainingFlagged: c.trainingFlagged,
    ...(c.events ? {
      events: {
        column: c.events.column, labelledRows: c.events.labelledRows,
        validation: flagJson(c.events.validation), allReadings: flagJson(c.events.allReadings),
      },
    } : {}),
  };
}

function flagRow(what: string, f: FlagScore): string {
  return `| ${what} | ${f.readings} | ${f.labelled} | ${f.flagged} | ${f.truePositives} | ${ratio(f.precision)} | ${ratio(f.recall)} | ${ratio(f.falsePositiveRate)} |`;
}

/** The card's "Anomaly flag" section, as Markdown lines. */
export function anomalyCardMarkdown(a: AnomalyOutcome): string[] {
  const md = ['', '## Anomaly flag', ''];
  if (!a.ok) return [...md, `No anomaly scale in this model: ${a.reason}.`];
  const c = a.calibration;
  md.push(
    `\`run --anomaly\` / \`predict --anomaly\` score each reading as the ${c.score} (validation RMSE ${c.rmse.map((v) => String(r4(v))).join(', ')}),`,
    `and flag it above **${r4(c.threshold)}**, the ${c.quantile} quantile of the validation scores (\`outputs.anomaly\`; \`--anomaly-threshold\` overrides it):`,
    `${c.validationFlagged} of ${c.validationReadings} validation readings are flagged, and ${c.trainingFlagged} of ${c.trainingReadings} training readings (${pct(c.trainingFlagged, c.trainingReadings)}).`,
  );
  if (c.trainingFlagged > 2 * (1 - c.quantile) * c.trainingReadings) {
    md.push(`The threshold flags training readings ${(c.trainingFlagged / c.trainingReadings / (1 - c.quantile)).toFixed(1)}x more often than its quantile says: the validation readings are calmer than the training ones, so expect more flags in service than on validation.`);
  }
  const e = c.events;
  if (!e) return md;
  md.push('', `Against the event labels in \`${e.column}\` (${e.labelledRows} labelled rows in the data):`, '');
  md.push('| readings | scored | events | flagged | flagged events | precision | recall | false-positive rate |', '|---|---:|---:|---:|---:|---:|---:|---:|');
  md.push(flagRow('validation', e.validation), flagRow('all (training part included: optimistic)', e.allReadings));
  if (e.validation.labelled === 0) {
    md.push('', `The validation readings hold none of the ${e.labelledRows} labelled rows: recall on held-out data cannot be measured with this split.`);
  }
  return md;
}

/** One line for `train`'s summary. */
export function anomalySummary(a: AnomalyOutcome): string {
  if (!a.ok) return `anomaly flag: none (${a.reason})`;
  const c = a.calibration;
  let line = `anomaly threshold ${r4(c.threshold)} (the ${c.quantile} quantile of validation scores; ${c.validationFlagged} of ${c.validationReadings} validation readings flagged)`;
  const e = c.events;
  if (e) {
    const v = e.validation;
    line += v.labelled === 0
      ? `; validation holds none of the ${e.labelledRows} labelled ${e.column} rows, so no recall on held-out data`
      : `; against ${e.column} on validation: precision ${ratio(v.precision)}, recall ${ratio(v.recall)} (${v.labelled} labelled readings)`;
  }
  return line;
}
