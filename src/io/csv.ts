// Reading recorded data: a CSV file with a header row into named string columns.
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

export interface CsvTable {
  readonly header: readonly string[];
  /** Data rows (header excluded), each as long as the header. */
  readonly rows: readonly (readonly string[])[];
  readonly path: string;
}

export class CsvError extends Error {
  override readonly name = 'CsvError';
}

export function readCsv(path: string): CsvTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CsvError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseCsv(text, path);
}

export function parseCsv(text: string, path = '<csv>'): CsvTable {
  let records: string[][];
  try {
    records = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: false, bom: true });
  } catch (e) {
    throw new CsvError(`${path}: ${(e as Error).message}`);
  }
  if (records.length === 0) throw new CsvError(`${path}: empty file (expected a header row)`);
  const [header, ...rows] = records;
  return { header, rows, path };
}

/** Index of each named column; throws naming the first that is missing. */
export function columnIndex(table: CsvTable, names: readonly string[]): number[] {
  return names.map((name) => {
    const i = table.header.indexOf(name);
    if (i < 0) throw new CsvError(`${table.path}: no column "${name}" (columns: ${table.header.join(', ')})`);
    return i;
  });
}

/** A cell as a finite number; throws naming the row (1-based, as in an editor) and column. */
export function numericCell(table: CsvTable, row: number, col: number): number {
  const cell = table.rows[row][col];
  const v = cell === '' ? NaN : Number(cell);
  if (!Number.isFinite(v)) {
    throw new CsvError(`${table.path}: line ${row + 2}, column "${table.header[col]}": ${JSON.stringify(cell)} is not a finite number`);
  }
  return v;
}
