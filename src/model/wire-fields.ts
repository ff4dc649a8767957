// Readers for one field of a decoded model v1 wire object (wire.ts): each returns the value
// with its type, or throws a ModelFormatError naming the field and saying what it got.
import { ModelFormatError } from './errors.js';

export type Obj = Record<string, unknown>;

export function fail(field: string, reason: string): never {
  throw new ModelFormatError(field, reason);
}

/** A short description of a wrong value for an error message (never the whole value). */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${String(v)}`;
}

export function obj(v: unknown, field: string): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || v instanceof Uint8Array) {
    fail(field, `expected a map, got ${describe(v)}`);
  }
  return v as Obj;
}

/** `o[key]`, which must be present; `field` is the path of `o` ("" at the top). */
export function get(o: Obj, key: string, field: string): unknown {
  if (!Object.prototype.hasOwnProperty.call(o, key) || o[key] === undefined) {
    fail(field ? `${field}.${key}` : key, 'missing');
  }
  return o[key];
}

export function optional(o: Obj, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

export function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || v.length === 0) fail(field, `expected a non-empty string, got ${describe(v)}`);
  return v;
}

export function posInt(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
    fail(field, `expected a positive integer, got ${describe(v)}`);
  }
  return v;
}

export function oneOf<T extends string>(v: unknown, allowed: readonly T[], field: string): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    fail(field, `unknown value ${describe(v)} (expected one of ${allowed.join(', ')})`);
  }
  return v as T;
}

/** A non-empty list of distinct non-empty names. */
export function strList(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length === 0) fail(field, `expected a non-empty list of names, got ${describe(v)}`);
  const out = v.map((s, i) => str(s, `${field}[${i}]`));
  const dup = out.find((s, i) => out.indexOf(s) !== i);
  if (dup !== undefined) fail(field, `duplicate name ${JSON.stringify(dup)}`);
  return out;
}

export function bytes(v: unknown, field: string): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(field, `expected binary data, got ${describe(v)}`);
  return v;
}

/**
 * meta is free-form, but plain msgpack data, so any reader can read it and a decoded model
 * re-encodes: no msgpackr-only extensions (Set, RegExp, Error, out-of-range BigInt...), no cycles.
 */
export function checkPlainData(v: unknown, field: string, depth: number): void {
  if (depth > 32) fail(field, 'nested more than 32 levels deep');
  if (v === null || v === undefined || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return;
  if (typeof v === 'bigint' && v >= -(2n ** 63n) && v < 2n ** 64n) return;
  if (v instanceof Uint8Array) return;
  if (v instanceof Date && Number.isFinite(v.getTime())) return; // the msgpack timestamp extension
  if (Array.isArray(v)) {
    v.forEach((x, i) => checkPlainData(x, `${field}[${i}]`, depth + 1));
    return;
  }
  const proto = typeof v === 'object' ? Object.getPrototypeOf(v) : undefined;
  if (proto === Object.prototype || proto === null) {
    for (const [k, x] of Object.entries(v as Obj)) checkPlainData(x, `${field}.${k}`, depth + 1);
    return;
  }
  fail(field, `expected plain data (map, list, string, number, boolean, nil, bin or timestamp), got ${v?.constructor?.name ?? typeof v}`);
}
