// A number in a CSV cell: the one rule `train`, `predict` and `quantize` read recorded
// data with (issue 14; before it each had its own). Pure: text in, a value or the reason
// out. Callers decide what a missing value means to them (train refuses or drops the row,
// quantize leaves a target unscored, predict refuses) and name the line and column.
//
// Accepted: plain decimal notation with an optional sign, fraction and exponent, and
// surrounding whitespace: "21.5", "-3", "+3", ".5", "5.", "1e3", "1.5E-2", " 7 ".
// Missing (a gap in the recording, not a wrong value): "", "NaN", "NA", "N/A", "null",
// "none", "-" (any case). Non-finite: "Infinity", "inf" (any case, signed) and decimals too
// large for a double ("1e400"). Everything else is not a number, including what JavaScript's
// Number() would take but a sensor log never means: "0x10", "0b1", "0o7", and "1,5" (a
// decimal comma: a locale setting, refused rather than misread as 1 or 15).

export type CellNumber =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly code: 'missing' | 'non-finite' | 'not-a-number'; readonly why: string };

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const MISSING = new Set(['', 'nan', '+nan', '-nan', 'na', 'n/a', 'null', 'none', '-']);
const INFINITE = /^[+-]?(inf|infinity)$/i;
const RADIX = /^[+-]?0[xob]/i;
const DECIMAL_COMMA = /^[+-]?\d+,\d+$/;

export function parseCellNumber(cell: string): CellNumber {
  const text = cell.trim();
  const shown = JSON.stringify(cell);
  if (MISSING.has(text.toLowerCase())) return { ok: false, code: 'missing', why: `missing value ${shown}` };
  if (INFINITE.test(text)) return { ok: false, code: 'non-finite', why: `non-finite value ${shown}` };
  if (DECIMAL.test(text)) {
    const value = Number(text);
    if (Number.isFinite(value)) return { ok: true, value };
    return { ok: false, code: 'non-finite', why: `${shown} is too large for a number` };
  }
  const hint = RADIX.test(text) ? ' (only decimal notation is read)'
    : DECIMAL_COMMA.test(text) ? ' (decimal comma? write the decimal point: 1.5)'
    : '';
  return { ok: false, code: 'not-a-number', why: `${shown} is not a number${hint}` };
}
