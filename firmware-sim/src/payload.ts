// Reading payloads as sensor firmware writes them: {"ts","seq","values":{...}} in JSON or
// plain msgpack maps (no msgpackr records: C and MicroPython firmware write plain maps).
import { Packr } from 'msgpackr';
import type { Rng } from './rng.js';

export type PayloadFormat = 'json' | 'msgpack';
export const PAYLOAD_FORMATS: readonly PayloadFormat[] = ['json', 'msgpack'];

export interface ReadingDoc {
  readonly ts: number;
  readonly seq: number;
  readonly values: Readonly<Record<string, number>>;
}

// variableMapSize: the smallest map header (fixmap), as a hand-written C encoder writes it.
const packr = new Packr({ useRecords: false, variableMapSize: true });
const encoder = new TextEncoder();

// JSON has no NaN; firmware printing floats with printf("%f") or ArduinoJson 5/6 writes a
// bare `NaN` token, which is what a NaN fault sends in JSON mode.
function jsonNumber(v: number): string {
  return Number.isFinite(v) ? JSON.stringify(v) : String(v);
}

export function encodeReading(doc: ReadingDoc, format: PayloadFormat): Uint8Array {
  if (format === 'msgpack') {
    const bytes = packr.pack({ ts: doc.ts, seq: doc.seq, values: { ...doc.values } });
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice();
  }
  const values = Object.entries(doc.values).map(([k, v]) => `${JSON.stringify(k)}:${jsonNumber(v)}`).join(',');
  return encoder.encode(`{"ts":${jsonNumber(doc.ts)},"seq":${doc.seq},"values":{${values}}}`);
}

/** How a malformed payload is broken. Each one is an invalid reading for the runtime. */
export type MalformedKind = 'truncated' | 'garbage' | 'wrong-type';
export const MALFORMED_KINDS: readonly MalformedKind[] = ['truncated', 'garbage', 'wrong-type'];

/**
 * A broken payload for `doc`: cut short (a lost packet tail), binary garbage (a bad
 * buffer), or a value sent as a string (a firmware bug).
 */
export function malformedPayload(doc: ReadingDoc, format: PayloadFormat, kind: MalformedKind, rng: Rng): Uint8Array {
  switch (kind) {
    case 'truncated': {
      const full = encodeReading(doc, format);
      // Keep 1 .. len-2 bytes: never the whole document, and never the empty payload.
      const keep = 1 + Math.floor(rng() * Math.max(1, full.length - 2));
      return full.slice(0, keep);
    }
    case 'garbage': {
      const n = 8 + Math.floor(rng() * 24);
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(rng() * 256);
      // 0xc1 is never used in msgpack and cannot start UTF-8 text: not JSON, not a map.
      out[0] = 0xc1;
      return out;
    }
    case 'wrong-type': {
      const names = Object.keys(doc.values);
      const name = names[Math.floor(rng() * names.length)];
      const values: Record<string, unknown> = { ...doc.values, [name]: String(doc.values[name]) };
      if (format === 'msgpack') {
        const bytes = packr.pack({ ts: doc.ts, seq: doc.seq, values });
        return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice();
      }
      return encoder.encode(JSON.stringify({ ts: doc.ts, seq: doc.seq, values }));
    }
  }
}
