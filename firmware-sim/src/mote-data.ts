// The real data set: Suthaharan et al., single-hop TelosB motes (firmware-sim/data/README.md).
// Columns reading,mote_id,indoor,humidity,temperature,label; one series per mote, in file order.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { parseCellNumber } from '../../src/protocol/cell-number.js';

/** The shipped data file. */
export const MOTE_DATA_PATH = fileURLToPath(new URL('../data/suthaharan-single-hop.csv', import.meta.url));

/** The motes report about every 5 s. */
export const MOTE_PERIOD_MS = 5000;

export interface MoteSeries {
  readonly mote: string;
  readonly indoor: boolean;
  readonly temperature: readonly number[];
  readonly humidity: readonly number[];
}

export class MoteDataError extends Error {
  override readonly name = 'MoteDataError';
}

/** Reads the mote CSV: one series per mote id, sorted by id. */
export function loadMoteSeries(path: string = MOTE_DATA_PATH): MoteSeries[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new MoteDataError(`cannot read mote data ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const rows = parse(text, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  const byMote = new Map<string, { indoor: boolean; temperature: number[]; humidity: number[] }>();
  rows.forEach((row, i) => {
    const mote = row.mote_id;
    // The CSV number rule that train, predict and quantize read this file with.
    const t = parseCellNumber(row.temperature ?? '');
    const h = parseCellNumber(row.humidity ?? '');
    if (mote === undefined || mote === '' || !t.ok || !h.ok) {
      throw new MoteDataError(`${path}: row ${i + 2} needs mote_id, temperature and humidity (got ${JSON.stringify(row)})`);
    }
    let s = byMote.get(mote);
    if (!s) byMote.set(mote, (s = { indoor: row.indoor === '1', temperature: [], humidity: [] }));
    s.temperature.push(t.value);
    s.humidity.push(h.value);
  });
  if (byMote.size === 0) throw new MoteDataError(`${path}: no readings`);
  return [...byMote.entries()]
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .map(([mote, s]) => ({ mote, ...s }));
}
