// Model format v1 under corruption: every prefix of a small model file and thousands of seeded
// byte flips either decode to a valid model or throw ModelFormatError — never a TypeError,
// RangeError or anything else (and never hang: the vitest timeout bounds each test).
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, modelToWire, ModelFormatError, parseModel, type Model } from '../../src/model/index.js';
import { prng, smallInt8Gru, smallLstm, smallWindowedBiGru } from './model-builders.js';

interface Tally {
  decoded: number;
  refused: number;
  /** Anything else: the input (as hex) and what was thrown. */
  bad: string[];
}

function attempt(bytes: Uint8Array, label: string, tally: Tally): void {
  let model: Model;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    if (e instanceof ModelFormatError) tally.refused++;
    else tally.bad.push(`${label}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    return;
  }
  try {
    parseModel(modelToWire(model)); // what decoded is a whole, valid model
    encodeModel(model);
    tally.decoded++;
  } catch (e) {
    tally.bad.push(`${label}: decoded, but the model is invalid: ${e instanceof Error ? e.message : String(e)}`);
  }
}

const models: [string, Model][] = [
  ['f32 lstm regression', smallLstm()], ['int8 gru classifier', smallInt8Gru()],
  ['windowed bidirectional gru classifier', smallWindowedBiGru()],
];

describe.each(models)('model format v1 fuzz: %s', (_, model) => {
  // A plain Uint8Array copy: encodeModel returns a Buffer, whose slice() is a view, not a copy.
  const good = new Uint8Array(encodeModel(model));

  it('is a small file (a few KB), so the exhaustive loops stay fast', () => {
    expect(good.length).toBeGreaterThan(500);
    expect(good.length).toBeLessThan(4096);
  });

  it('every truncation is refused with ModelFormatError', () => {
    const tally: Tally = { decoded: 0, refused: 0, bad: [] };
    for (let n = 0; n < good.length; n++) attempt(good.slice(0, n), `prefix ${n}`, tally);
    expect(tally.bad.slice(0, 5)).toEqual([]);
    // A prefix is never a whole model: nothing may decode.
    expect(tally.decoded).toBe(0);
    expect(tally.refused).toBe(good.length);
  });

  it('seeded random single-byte flips decode to valid models or throw ModelFormatError', () => {
    const rand = prng(0x5eed);
    const tally: Tally = { decoded: 0, refused: 0, bad: [] };
    for (let k = 0; k < 3000; k++) {
      const bytes = good.slice();
      const at = Math.floor(rand() * bytes.length);
      // Half random bytes, half single-bit flips (the classic storage corruption).
      bytes[at] = k % 2 ? Math.floor(rand() * 256) : bytes[at] ^ (1 << Math.floor(rand() * 8));
      attempt(bytes, `flip ${k}: byte ${at} -> 0x${bytes[at].toString(16)}`, tally);
    }
    expect(tally.bad.slice(0, 5)).toEqual([]);
    // Both outcomes happen: flips inside weights decode, flips in the structure are refused.
    expect(tally.decoded).toBeGreaterThan(100);
    expect(tally.refused).toBeGreaterThan(100);
  });

  it('every byte position set to a few structural values is handled', () => {
    // Values that change msgpack types and lengths: nil, an unused code, map/array/str/bin headers.
    const tally: Tally = { decoded: 0, refused: 0, bad: [] };
    for (let at = 0; at < good.length; at++) {
      for (const v of [0x00, 0xc0, 0xc1, 0x80, 0x90, 0xa0, 0xc4, 0xdd]) {
        const bytes = good.slice();
        bytes[at] = v;
        attempt(bytes, `byte ${at} -> 0x${v.toString(16)}`, tally);
      }
    }
    expect(tally.bad.slice(0, 5)).toEqual([]);
  });

  it('seeded random multi-byte corruption decodes to valid models or throws ModelFormatError', () => {
    const rand = prng(0xc0ffee);
    const tally: Tally = { decoded: 0, refused: 0, bad: [] };
    for (let k = 0; k < 1000; k++) {
      let bytes = good.slice();
      const flips = 2 + Math.floor(rand() * 6);
      for (let f = 0; f < flips; f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      // Sometimes also cut the end off or append junk.
      if (k % 5 === 1) bytes = bytes.slice(0, Math.floor(rand() * bytes.length));
      if (k % 5 === 2) bytes = Uint8Array.from([...bytes, ...Array.from({ length: 1 + (k % 7) }, () => Math.floor(rand() * 256))]);
      attempt(bytes, `multi ${k}`, tally);
    }
    expect(tally.bad.slice(0, 5)).toEqual([]);
    expect(tally.refused).toBeGreaterThan(100);
  });

  it('seeded structural mutations of the wire object (values of the wrong type, deleted keys, swapped subtrees) are handled', () => {
    // Byte flips rarely keep the msgpack valid while changing a value's type; these do.
    const packr = new Packr({ useRecords: false });
    const rand = prng(0xab1e);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const weird = (): unknown => pick<() => unknown>([
      () => null, () => true, () => 0, () => -1, () => 2.5, () => 1e300, () => NaN, () => 2 ** 53, () => 2n ** 64n - 1n,
      () => '', () => 'lstm', () => 'f32', () => [], () => [4, 4], () => [-1], () => ({}), () => ({ dtype: 'i8' }),
      () => new Uint8Array(Math.floor(rand() * 9)),
    ])();
    const paths = (v: unknown, path: (string | number)[] = []): (string | number)[][] =>
      v === null || typeof v !== 'object' || v instanceof Uint8Array
        ? [path]
        : [path, ...Object.entries(v).flatMap(([k, x]) => paths(x, [...path, Array.isArray(v) ? Number(k) : k]))];
    const tally: Tally = { decoded: 0, refused: 0, bad: [] };
    for (let k = 0; k < 1500; k++) {
      const wire = modelToWire(model) as Record<string, unknown>;
      const all = paths(wire).filter((p) => p.length > 0);
      const edits = 1 + Math.floor(rand() * 2);
      const done: string[] = [];
      for (let e = 0; e < edits; e++) {
        const path = pick(all);
        const parent = path.slice(0, -1).reduce<any>((o, key) => o?.[key], wire);
        if (parent === null || typeof parent !== 'object') continue;
        const key = path[path.length - 1];
        const r = rand();
        if (r < 0.15 && !Array.isArray(parent)) delete parent[key];
        else if (r < 0.3) parent[key] = structuredClone(pick(all).reduce<any>((o, kk) => o?.[kk], wire) ?? null);
        else parent[key] = weird();
        done.push(`${path.join('.')}${r < 0.15 ? ' deleted' : ''}`);
      }
      attempt(packr.pack(wire), `mutation ${k}: ${done.join(', ')}`, tally);
    }
    expect(tally.bad.slice(0, 5)).toEqual([]);
    expect(tally.refused).toBeGreaterThan(500);
  });
});
