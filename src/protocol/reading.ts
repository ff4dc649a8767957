// Sensor readings off the wire: JSON or msgpack bytes -> a Reading, or the reason it was
// rejected. Never throws: one bad message must not take the stream down (DESIGN.md,
// "Stream and MQTT contract").
import { Unpackr } from 'msgpackr';

/** One accepted reading: values in the model's input order. */
export interface Reading {
  /** Milliseconds since the epoch, when the payload carried one. */
  readonly ts?: number;
  /** Per-device sequence number, when the payload carried one (used to drop redeliveries). */
  readonly seq?: number;
  /** One value per model input, in the model's input order. */
  readonly values: readonly number[];
}

export type RejectCode =
  | 'too-large'
  | 'empty'
  | 'invalid-json'
  | 'invalid-encoding'
  | 'invalid-msgpack'
  | 'not-a-map'
  | 'missing-input'
  | 'non-numeric'
  | 'non-finite'
  | 'bad-seq'
  | 'bad-ts';

export interface Rejection {
  readonly code: RejectCode;
  /** One line a person can act on, naming the field. */
  readonly message: string;
}

export type ParseResult = { readonly ok: true; readonly reading: Reading } | { readonly ok: false; readonly reason: Rejection };

export interface ParseOptions {
  /** Payloads longer than this many bytes are rejected before decoding. */
  readonly maxBytes?: number;
}

export const DEFAULT_MAX_BYTES = 4096;

// Plain maps, no msgpackr records: firmware in C or MicroPython writes plain msgpack.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * True when the payload is msgpack. A reading is always a map, and a msgpack map starts
 * with 0x80-0x8f (fixmap), 0xde or 0xdf; none of those bytes can start UTF-8 JSON text.
 */
export function isMsgpack(payload: Uint8Array): boolean {
  const b = payload[0];
  return (b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf;
}

function reject(code: RejectCode, message: string): ParseResult {
  return { ok: false, reason: { code, message } };
}

function decode(payload: Uint8Array): { ok: true; value: unknown } | { ok: false; result: ParseResult } {
  if (isMsgpack(payload)) {
    try {
      return { ok: true, value: unpackr.unpack(payload) };
    } catch (e) {
      return { ok: false, result: reject('invalid-msgpack', `invalid msgpack: ${(e as Error).message}`) };
    }
  }
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { ok: false, result: reject('invalid-encoding', 'payload is neither a msgpack map nor UTF-8 JSON text') };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, result: reject('invalid-json', `invalid JSON: ${(e as Error).message}`) };
  }
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v) && !(v instanceof Map);
}

/** Parse one reading payload against the model's input names. */
export function parseReading(payload: Uint8Array, inputNames: readonly string[], options: ParseOptions = {}): ParseResult {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (payload.length > maxBytes) return reject('too-large', `payload of ${payload.length} bytes is over the limit of ${maxBytes}`);
  if (payload.length === 0) return reject('empty', 'empty payload');
  const decoded = decode(payload);
  if (!decoded.ok) return decoded.result;
  const doc = decoded.value;
  if (!isMap(doc)) return reject('not-a-map', `expected a map {"ts","seq","values"}, got ${describe(doc)}`);
  const values = doc.values;
  if (!isMap(values)) return reject(values === undefined ? 'missing-input' : 'not-a-map', `"values" must be a map of ${inputNames.join(', ')}, got ${describe(values)}`);

  const out: number[] = new Array(inputNames.length);
  for (let i = 0; i < inputNames.length; i++) {
    const name = inputNames[i];
    const v = values[name];
    if (v === undefined || v === null) return reject('missing-input', `missing input "${name}" in values`);
    if (typeof v !== 'number') return reject('non-numeric', `input "${name}" is ${describe(v)}, not a number`);
    if (!Number.isFinite(v)) return reject('non-finite', `input "${name}" is ${v}`);
    out[i] = v;
  }

  let seq: number | undefined;
  if (doc.seq !== undefined && doc.seq !== null) {
    if (typeof doc.seq !== 'number' || !Number.isSafeInteger(doc.seq) || doc.seq < 0) return reject('bad-seq', `"seq" must be a non-negative integer, got ${describe(doc.seq)}`);
    seq = doc.seq;
  }
  let ts: number | undefined;
  if (doc.ts !== undefined && doc.ts !== null) {
    if (typeof doc.ts !== 'number' || !Number.isFinite(doc.ts)) return reject('bad-ts', `"ts" must be milliseconds since the epoch, got ${describe(doc.ts)}`);
    ts = doc.ts;
  }
  return { ok: true, reading: { values: out, ...(seq !== undefined ? { seq } : {}), ...(ts !== undefined ? { ts } : {}) } };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v)) return 'binary data';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${String(v)}`;
}
