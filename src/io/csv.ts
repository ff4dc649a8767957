// Reading recorded data: a CSV file with a header row into named string columns.
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { parseCellNumber, type CellNumber } from '../protocol/cell-number.js';

export interface CsvTable {
  readonly header: readonly string[];
  /** Data rows (header excluded), each as long as the header. */
  readonly rows: readonly (readonly string[])[];
  /** File line of each data row (1-based, as in an editor; blank lines counted; a quoted multi-line cell: the row's last line). */
  readonly lines: readonly number[];
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
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { skip_empty_lines: true, trim: true, relax_column_count: false, bom: true, info: true }) as unknown as typeof records;
  } catch (e) {
    throw new CsvError(`${path}: ${(e as Error).message}`);
  }
  if (records.length === 0) throw new CsvError(`${path}: empty file (expected a header row)`);
  const [head, ...data] = records;
  return { header: head.record, rows: data.map((r) => r.record), lines: data.map((r) => r.info.lines), path };
}

/** Index of each named column; throws naming the first that is missing. */
export function columnIndex(table: CsvTable, names: readonly string[]): number[] {
  return names.map((name) => {
    const i = table.header.indexOf(name);
    if (i < 0) throw new CsvError(`${table.path}: no column "${name}" (columns: ${table.header.join(', ')})`);
    return i;
  });
}

/** Where a cell is, for error messages: `data.csv: line 12, column "humidity"`. */
export function cellPlace(table: CsvTable, row: number, col: number): string {
  return `${table.path}: line ${table.lines[row]}, column "${table.header[col]}"`;
}

/** A cell read by the one number rule (src/protocol/cell-number.ts). */
export function cellNumber(table: CsvTable, row: number, col: number): CellNumber {
  return parseCellNumber(table.rows[row][col]);
}

/** A cell as a finite number; throws naming the line and column of anything else, missing included. */
export function numericCell(table: CsvTable, row: number, col: number): number {
  const n = cellNumber(table, row, col);
  if (!n.ok) throw new CsvError(`${cellPlace(table, row, col)}: ${n.why}`);
  return n.value;
}
