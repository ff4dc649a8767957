// The one rule for a number in a CSV cell (issue 14), as a table: what is a value, what is a
// gap in the recording, what is refused.
import { describe, expect, it } from 'vitest';
import { parseCellNumber } from '../../src/protocol/cell-number.js';

const value: [string, number][] = [
  ['21.5', 21.5], ['-3', -3], ['+3', 3], ['0', 0], ['007', 7], ['.5', 0.5], ['5.', 5],
  ['1e3', 1000], ['1E3', 1000], ['1.5e-2', 0.015], ['-2.5E+1', -25], [' 7 ', 7], ['\t42\t', 42],
  ['1e308', 1e308], ['4.9e-324', 5e-324],
];
const missing = ['', '   ', 'NaN', 'nan', '-nan', '+NaN', 'NA', 'n/a', 'N/A', 'null', 'NULL', 'none', 'None', '-'];
const nonFinite = ['Infinity', '-Infinity', '+Infinity', 'inf', '-INF', 'infinity', '1e400', '-1e400'];
const notANumber: [string, RegExp?][] = [
  ['0x10', /only decimal notation/], ['0X1f', /only decimal notation/], ['0b101', /only decimal notation/], ['0o17', /only decimal notation/],
  ['1,5', /decimal comma/], ['-1,25', /decimal comma/],
  ['abc'], ['1.2.3'], ['1 000'], ['1_000'], ['e5'], ['1e'], ['+'], ['.'], ['--1'], ['12abc'], ['\u22123'], ['[1]'], ['true'],
];

describe('parseCellNumber', () => {
  it.each(value)('%j is the number %d', (cell, v) => {
    expect(parseCellNumber(cell)).toEqual({ ok: true, value: v });
  });

  it.each(missing)('%j is a missing value', (cell) => {
    const r = parseCellNumber(cell);
    expect(r).toMatchObject({ ok: false, code: 'missing' });
    expect(!r.ok && r.why).toContain(JSON.stringify(cell));
  });

  it.each(nonFinite)('%j is non-finite', (cell) => {
    expect(parseCellNumber(cell)).toMatchObject({ ok: false, code: 'non-finite' });
  });

  it.each(notANumber)('%j is not a number', (cell, hint) => {
    const r = parseCellNumber(cell);
    expect(r).toMatchObject({ ok: false, code: 'not-a-number' });
    expect(!r.ok && r.why).toContain(`${JSON.stringify(cell)} is not a number`);
    if (hint) expect(!r.ok && r.why).toMatch(hint);
  });

  it('reads what JavaScript would misread the same way every time, e.g. no hex and no empty-is-zero', () => {
    // Number() would give 16, 0 and 0 for these: the rule must not.
    for (const cell of ['0x10', '', ' ']) expect(parseCellNumber(cell).ok).toBe(false);
    expect(parseCellNumber('-0')).toEqual({ ok: true, value: -0 });
  });
});
