// Bounded envelope decoding (issue 13): an envelope is size-capped before any decoding,
// trailing bytes after the map are refused by our own end-position check, and no decoded
// value is ever stringified into an error. Reproduced before the fix: a 100 MiB envelope
// plus one trailing byte made msgpackr JSON.stringify the whole value (5 GB RSS).
import { execFile } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { keyId } from '../../src/io/keys.js';
import { DEFAULT_ENVELOPE_MAX_BYTES, EnvelopeError, openEnvelope, readEnvelopeInfo, sealModel } from '../../src/io/model-envelope.js';
import { encodeModel, initModel } from '../../src/model/index.js';

const exec = promisify(execFile);
const packr = new Packr({ useRecords: false, variableMapSize: true });
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const trusted = new Map<string, KeyObject>([[keyId(publicKey), publicKey]]);
const model = initModel({ name: 'mote', modelVersion: 3, inputs: ['t'], outputs: ['t'], cell: 'gru', hiddenSizes: [4], dense: [{ size: 1, activation: 'linear' }] }, 5);

function refusal(bytes: Uint8Array, options?: { maxBytes?: number }): EnvelopeError {
  try {
    openEnvelope(bytes, trusted, options);
  } catch (e) {
    if (e instanceof EnvelopeError) return e;
    throw e;
  }
  throw new Error('accepted');
}

/** An envelope-shaped map with a `size`-byte payload (not signed: framing is what is tested). */
function bulky(size: number): Uint8Array {
  return packr.pack({ format: 'edge-rnn-envelope', version: 1, payload: Buffer.alloc(size, 7), signature: Buffer.alloc(64) });
}
const withTrailingByte = (b: Uint8Array) => Buffer.concat([b, Buffer.from([0xc0])]);

describe('bounded envelope decoding', () => {
  it('the default cap is a few MB', () => {
    expect(DEFAULT_ENVELOPE_MAX_BYTES).toBeGreaterThanOrEqual(1 << 20);
    expect(DEFAULT_ENVELOPE_MAX_BYTES).toBeLessThanOrEqual(16 << 20);
  });

  it('refuses a few-MB envelope plus one trailing byte as malformed, without decoded data in the message', () => {
    const e = refusal(withTrailingByte(bulky(3 << 20)), { maxBytes: 8 << 20 });
    expect(e.code).toBe('malformed');
    expect(e.message).toMatch(/1 byte after the envelope/);
    expect(e.message.length).toBeLessThan(200);
    expect(e.message).not.toMatch(/edge-rnn-envelope|\{"/);
  });

  it('refuses trailing bytes after a real signed envelope and after its payload', () => {
    const env = sealModel(encodeModel(model), privateKey);
    expect(openEnvelope(env, trusted).modelVersion).toBe(3);
    expect(refusal(withTrailingByte(env)).code).toBe('malformed');
    const outer = packr.unpack(Uint8Array.from(env)) as { payload: Uint8Array };
    const padded = packr.pack({ ...outer, payload: withTrailingByte(Buffer.from(outer.payload)) });
    const e = refusal(padded);
    expect(e.code).toBe('malformed');
    expect(e.message).toMatch(/payload/);
  });

  it('refuses an envelope over the cap as too-large before decoding, naming both sizes', () => {
    const e = refusal(bulky(2000), { maxBytes: 1000 });
    expect(e.code).toBe('too-large');
    expect(e.message).toMatch(/\d+ bytes.*limit of 1000 bytes/);
    // Not msgpack at all, but over the cap: the size is checked first.
    expect(refusal(new Uint8Array(1001).fill(0xc1), { maxBytes: 1000 }).code).toBe('too-large');
  });

  it('reads the unverified name and version of an envelope with the same bounds', () => {
    const env = sealModel(encodeModel(model), privateKey);
    expect(readEnvelopeInfo(env)).toMatchObject({ name: 'mote', modelVersion: 3 });
    expect(() => readEnvelopeInfo(withTrailingByte(env))).toThrow(EnvelopeError);
    expect(() => readEnvelopeInfo(bulky(2000), { maxBytes: 1000 })).toThrow(/too-large|limit/);
  });

  // A child process with a small heap, so a regression aborts instead of swapping the machine.
  // The bound is generous: building the 100 MiB input holds about three copies of it, plus
  // node and tsx (about 380 MB measured); the defect took 5 GB.
  it('a 100 MiB envelope plus one trailing byte is refused with bounded memory, with and without the cap', async () => {
    const RSS_BOUND_MB = 600;
    const script = `
      import { Packr } from 'msgpackr';
      import { readFileSync } from 'node:fs';
      import { openEnvelope, EnvelopeError } from ${JSON.stringify(new URL('../../src/io/model-envelope.ts', import.meta.url).pathname)};
      const packr = new Packr({ useRecords: false, variableMapSize: true });
      const env = packr.pack({ format: 'edge-rnn-envelope', version: 1, payload: Buffer.alloc(100 * 1024 * 1024, 7), signature: Buffer.alloc(64) });
      const bytes = Buffer.concat([env, Buffer.from([0xc0])]);
      const codes = [];
      for (const options of [undefined, { maxBytes: 200 * 1024 * 1024 }]) {
        try { openEnvelope(bytes, new Map(), options); codes.push('accepted'); }
        catch (e) { codes.push(e instanceof EnvelopeError ? e.code : 'threw ' + e); }
      }
      const hwm = /VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
      process.stdout.write(JSON.stringify({ codes, peakMB: hwm ? Number(hwm[1]) / 1024 : null }));
    `;
    const { stdout } = await exec(process.execPath, ['--max-old-space-size=256', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../../', import.meta.url).pathname, maxBuffer: 1 << 20,
    });
    const result = JSON.parse(stdout) as { codes: string[]; peakMB: number | null };
    expect(result.codes).toEqual(['too-large', 'malformed']);
    if (result.peakMB !== null) expect(result.peakMB).toBeLessThan(RSS_BOUND_MB);
  }, 60_000);
});
