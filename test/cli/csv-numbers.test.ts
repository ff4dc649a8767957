// train, predict and quantize read a number in a CSV by the same rule (issue 14), and each
// error names the file, the line as an editor shows it (blank lines count) and the column.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { predictInputsFromCsv } from '../../src/cli/commands/predict.js';
import { compareDataFromCsv } from '../../src/cli/commands/quantize.js';
import { columnsFromCsv } from '../../src/cli/commands/train.js';
import { parseCsv, type CsvTable } from '../../src/io/csv.js';
import { readModelFile } from '../../src/io/model-file.js';
import { initModel } from '../../src/model/init.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const { model } = readModelFile(join(ROOT, 'models/example-lstm.msgpack')); // inputs and outputs: temperature, humidity

// Line 1 header, line 3 blank, so data row 2 sits on line 5.
const csvWith = (cell: string): CsvTable => parseCsv(`temperature,humidity\n20.5,40\n\n21,41\n${cell},42\n22,43\n`, 'd.csv');

const readers: Record<string, (t: CsvTable) => number[]> = {
  train: (t) => Array.from(columnsFromCsv(t, { inputs: ['temperature', 'humidity'] }).inputs[0]),
  predict: (t) => Array.from(predictInputsFromCsv(model, t).inputs.filter((_, i) => i % 2 === 0)),
  quantize: (t) => Array.from(compareDataFromCsv(model, t).inputs.filter((_, i) => i % 2 === 0)),
};

describe.each(Object.entries(readers))('%s reads CSV numbers by the shared rule', (_, read) => {
  it('accepts decimal notation with sign, exponent and padding', () => {
    for (const [cell, v] of [['1e1', 10], ['+3', 3], [' 7.5 ', 7.5], ['.5', 0.5], ['-2.5E+1', -25]] as const) {
      expect(read(csvWith(cell))[2]).toBe(Math.fround(v));
    }
  });

  it('refuses hexadecimal, a decimal comma and text, naming line 5 and the column', () => {
    expect(() => read(csvWith('0x10'))).toThrow(/^d\.csv: line 5, column "temperature": "0x10" is not a number \(only decimal notation is read\)$/);
    expect(() => read(csvWith('"1,5"'))).toThrow(/^d\.csv: line 5, column "temperature": "1,5" is not a number \(decimal comma\?/);
    expect(() => read(csvWith('warm'))).toThrow(/^d\.csv: line 5, column "temperature": "warm" is not a number$/);
  });

  it('refuses a missing or infinite input, naming its line', () => {
    for (const cell of ['', 'NaN', 'Infinity', '1e400']) expect(() => read(csvWith(cell)), cell).toThrow(/^d\.csv: line 5, column "temperature": /);
  });
});

describe('what each command does with a missing value', () => {
  it('train skips the row with --drop-invalid and counts it; text stays an error', () => {
    const cols = columnsFromCsv(csvWith('NaN'), { inputs: ['temperature', 'humidity'], dropInvalid: true });
    expect(Array.from(cols.inputs[0])).toEqual([20.5, 21, 22]);
    expect(cols.dropped).toBe(1);
    expect(() => columnsFromCsv(csvWith('abc'), { inputs: ['temperature'], dropInvalid: true })).toThrow(/line 5, column "temperature": "abc" is not a number/);
  });

  it('quantize leaves a missing or infinite target unscored (NaN) and refuses a target that is text', () => {
    const m = initModel({ name: 'q', inputs: ['temperature', 'humidity'], outputs: ['dew'], cell: 'gru', hiddenSizes: [4], dense: [{ size: 1, activation: 'linear' }] }, 1);
    const table = (cell: string) => parseCsv(`temperature,humidity,dew\n20,40,6.5\n21,41,${cell}\n`, 'q.csv');
    for (const cell of ['', 'NA', 'inf']) expect(Array.from(compareDataFromCsv(m, table(cell)).targets!), cell).toEqual([6.5, NaN]);
    expect(() => compareDataFromCsv(m, table('0x2A'))).toThrow(/^q\.csv: line 3, column "dew": "0x2A" is not a number/);
  });
});
