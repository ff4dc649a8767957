// The envelope path under corruption (issue 13): every truncation, thousands of seeded byte
// flips, structural byte values at every position, trailing bytes and oversized variants of
// a real signed envelope. Each is refused with an EnvelopeError carrying a reason code:
// never accepted, never another exception, never a message with decoded data in it. Time
// is bounded by the vitest timeout; memory by the size cap (the 100 MiB case runs in a
// small-heap child process in model-envelope-bounds.test.ts).
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyId } from '../../src/io/keys.js';
import { EnvelopeError, openEnvelope, readEnvelopeInfo, sealModel, type EnvelopeLimits } from '../../src/io/model-envelope.js';
import { encodeModel, initModel } from '../../src/model/index.js';
import { prng } from '../model/model-builders.js';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const trusted = new Map<string, KeyObject>([[keyId(publicKey), publicKey]]);
const model = initModel({ name: 'mote', modelVersion: 2, inputs: ['t', 'h'], outputs: ['t'], cell: 'lstm', hiddenSizes: [6], dense: [{ size: 1, activation: 'linear' }] }, 9);
// A plain copy: sealModel returns a Buffer, whose slice() would be a view.
const good = new Uint8Array(sealModel(encodeModel(model), privateKey, '2026-12-01T00:00:00Z'));

interface Tally {
  readonly codes: Map<string, number>;
  /** Accepted mutants and anything thrown that is not an EnvelopeError, with the case. */
  readonly bad: string[];
}
const tally = (): Tally => ({ codes: new Map(), bad: [] });

function attempt(bytes: Uint8Array, label: string, t: Tally, limits?: EnvelopeLimits): void {
  try {
    openEnvelope(bytes, trusted, limits);
    t.bad.push(`${label}: accepted`);
  } catch (e) {
    if (!(e instanceof EnvelopeError)) {
      t.bad.push(`${label}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      return;
    }
    // Decoded data never goes into a message (msgpackr's own trailing-bytes error did that).
    if (e.message.length > 300 || e.message.includes('{"')) t.bad.push(`${label}: message ${e.message.slice(0, 120)}`);
    t.codes.set(e.code, (t.codes.get(e.code) ?? 0) + 1);
  }
  // The unverified reader used by `push` shares the bounds: refusals only, of the same kind.
  try {
    readEnvelopeInfo(bytes, limits);
  } catch (e) {
    if (!(e instanceof EnvelopeError)) t.bad.push(`${label}: readEnvelopeInfo threw ${String(e)}`);
  }
}

// 30 s: a loaded 2-core CI machine took 8 s for the structural loop (5 s default); a decoding
// blow-up would still take far longer.
describe('model envelope fuzz', { timeout: 30_000 }, () => {
  it('the real envelope opens, and is small enough for exhaustive loops', () => {
    expect(openEnvelope(good, trusted).modelVersion).toBe(2);
    expect(good.length).toBeLessThan(8192);
  });

  it('every truncation is refused with a reason', () => {
    const t = tally();
    for (let n = 0; n < good.length; n++) attempt(good.slice(0, n), `prefix ${n}`, t);
    expect(t.bad.slice(0, 5)).toEqual([]);
    expect([...t.codes.values()].reduce((a, b) => a + b, 0)).toBe(good.length);
  });

  it('3000 seeded single-byte changes are each refused with a reason', () => {
    const rand = prng(0xe5e1);
    const t = tally();
    for (let k = 0; k < 3000; k++) {
      const bytes = good.slice();
      const at = Math.floor(rand() * bytes.length);
      // Half single-bit flips, half random (never equal) bytes.
      bytes[at] = k % 2 ? bytes[at] ^ (1 << Math.floor(rand() * 8)) : bytes[at] ^ (1 + Math.floor(rand() * 255));
      attempt(bytes, `flip ${k}: byte ${at} -> 0x${bytes[at].toString(16)}`, t);
    }
    expect(t.bad.slice(0, 5)).toEqual([]);
    // The framing checks and the signature check are both reached.
    expect(t.codes.get('bad-signature')).toBeGreaterThan(100);
    expect(t.codes.get('malformed')).toBeGreaterThan(10);
  });

  it('structural byte values (nil, unused, map/array/str/bin/32-bit length headers) at every position are refused', () => {
    const t = tally();
    for (let at = 0; at < good.length; at++) {
      for (const v of [0x00, 0xc0, 0xc1, 0x80, 0x90, 0xa0, 0xc6, 0xdb, 0xdd, 0xdf]) {
        if (good[at] === v) continue;
        const bytes = good.slice();
        bytes[at] = v;
        attempt(bytes, `byte ${at} -> 0x${v.toString(16)}`, t);
      }
    }
    expect(t.bad.slice(0, 5)).toEqual([]);
  });

  it('trailing bytes (1 to 64, random) are refused as malformed', () => {
    const rand = prng(0x7a11);
    const t = tally();
    for (let n = 1; n <= 64; n++) {
      const tail = Array.from({ length: n }, () => Math.floor(rand() * 256));
      attempt(Uint8Array.from([...good, ...tail]), `${n} trailing bytes`, t);
    }
    expect(t.bad.slice(0, 5)).toEqual([]);
    expect(t.codes.get('malformed')).toBe(64);
  });

  it('oversized variants are refused as too-large by length, whatever they contain', () => {
    const rand = prng(0x0b16);
    const t = tally();
    const limits = { maxBytes: good.length - 1 };
    attempt(good, 'the real envelope over a cap one byte smaller', t, limits);
    for (let k = 0; k < 50; k++) {
      const junk = Uint8Array.from({ length: good.length + k }, () => Math.floor(rand() * 256));
      attempt(junk, `junk of ${junk.length} bytes`, t, limits);
    }
    expect(t.bad.slice(0, 5)).toEqual([]);
    expect(t.codes.get('too-large')).toBe(51);
  });

  it('seeded multi-byte corruption with cuts and appended junk is refused with a reason', () => {
    const rand = prng(0xface);
    const t = tally();
    for (let k = 0; k < 1000; k++) {
      let bytes = good.slice();
      const flips = 2 + Math.floor(rand() * 6);
      for (let f = 0; f < flips; f++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256);
      if (k % 3 === 1) bytes = bytes.slice(0, Math.floor(rand() * bytes.length));
      if (k % 3 === 2) bytes = Uint8Array.from([...bytes, ...Array.from({ length: 1 + (k % 9) }, () => Math.floor(rand() * 256))]);
      attempt(bytes, `multi ${k}`, t);
    }
    expect(t.bad.slice(0, 5)).toEqual([]);
  });
});
