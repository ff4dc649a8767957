import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { keyId, readPrivateKey, readPublicKey, writeKeyPair } from '../../src/io/keys.js';
import { EnvelopeError, openEnvelope, sealModel } from '../../src/io/model-envelope.js';
import { encodeModel, initModel, seededRandom } from '../../src/model/index.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });

function pair() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey, privateKey, id: keyId(publicKey) };
}

const signer = pair();
const stranger = pair();
const trusted = new Map<string, KeyObject>([[signer.id, signer.publicKey]]);
const model = initModel({ name: 'mote', modelVersion: 3, inputs: ['t', 'h'], outputs: ['t', 'h'], cell: 'gru', hiddenSizes: [4], dense: [{ size: 2, activation: 'linear' }] }, 5);
const modelBytes = encodeModel(model);

/** An envelope signed by `key` over a payload we build by hand, to reach checks past the signature. */
function craft(payload: Record<string, unknown>, key = signer.privateKey): Uint8Array {
  const bytes = packr.pack(payload);
  return packr.pack({ format: 'edge-rnn-envelope', version: 1, payload: bytes, signature: sign(null, bytes, key) });
}

function payloadFor(bytes: Uint8Array, over: Record<string, unknown> = {}) {
  return { name: 'mote', modelVersion: 3, createdAt: '2026-11-26T00:00:00Z', keyId: signer.id, sha256: createHash('sha256').update(bytes).digest(), model: bytes, ...over };
}

function rejectCode(bytes: Uint8Array): string {
  try {
    openEnvelope(bytes, trusted);
  } catch (e) {
    if (e instanceof EnvelopeError) return e.code;
    throw e;
  }
  return 'accepted';
}

describe('signed model envelope', () => {
  it('round-trips: a sealed model opens to the same model bytes and metadata', () => {
    const env = sealModel(modelBytes, signer.privateKey, '2026-11-26T12:00:00Z');
    const v = openEnvelope(env, trusted);
    expect(Buffer.from(v.modelBytes).equals(Buffer.from(modelBytes))).toBe(true);
    expect(v).toMatchObject({ name: 'mote', modelVersion: 3, keyId: signer.id, createdAt: '2026-11-26T12:00:00Z' });
    expect(v.sha256).toBe(createHash('sha256').update(modelBytes).digest('hex'));
    expect(v.model.layers[0].type).toBe('gru');
  });

  it('rejects a bare model, a missing signature, and no trusted keys as unsigned', () => {
    expect(rejectCode(modelBytes)).toBe('unsigned');
    const env = packr.pack({ format: 'edge-rnn-envelope', version: 1, payload: packr.pack(payloadFor(modelBytes)) });
    expect(rejectCode(env)).toBe('unsigned');
    expect(() => openEnvelope(sealModel(modelBytes, signer.privateKey), new Map())).toThrow(/no trusted keys/);
  });

  it('rejects a model signed by an unknown key', () => {
    const env = craft(payloadFor(modelBytes, { keyId: stranger.id }), stranger.privateKey);
    expect(rejectCode(env)).toBe('unknown-key');
  });

  it('rejects a trusted key id with a signature made by another key', () => {
    expect(rejectCode(craft(payloadFor(modelBytes), stranger.privateKey))).toBe('bad-signature');
  });

  it('rejects tampered model bytes and tampered metadata (the signature covers both)', () => {
    const env = sealModel(modelBytes, signer.privateKey);
    const outer = packr.unpack(env) as { payload: Uint8Array; signature: Uint8Array };
    const body = packr.unpack(outer.payload) as Record<string, unknown>;
    const tamperedModel = Uint8Array.from(body.model as Uint8Array);
    tamperedModel[tamperedModel.length - 5] ^= 0x01;
    for (const change of [{ model: tamperedModel }, { modelVersion: 99 }, { name: 'other' }, { createdAt: '1999-01-01T00:00:00Z' }]) {
      const forged = packr.pack({ ...outer, payload: packr.pack({ ...body, ...change }) });
      expect(rejectCode(forged)).toBe('bad-signature');
    }
  });

  it('rejects a signed payload whose hash does not match the model', () => {
    const wrong = createHash('sha256').update('something else').digest();
    expect(rejectCode(craft(payloadFor(modelBytes, { sha256: wrong })))).toBe('hash-mismatch');
  });

  it('rejects a signed payload whose model does not decode, and refuses to seal one', () => {
    const junk = modelBytes.slice(0, modelBytes.length - 10);
    expect(rejectCode(craft(payloadFor(junk)))).toBe('bad-model');
    expect(() => sealModel(junk, signer.privateKey)).toThrow(EnvelopeError);
  });

  it('rejects signed metadata that disagrees with the model inside', () => {
    expect(rejectCode(craft(payloadFor(modelBytes, { modelVersion: 4 })))).toBe('metadata-mismatch');
    expect(rejectCode(craft(payloadFor(modelBytes, { name: 'impostor' })))).toBe('metadata-mismatch');
  });

  it('rejects every one of 1000 single-byte flips anywhere in the envelope', () => {
    const env = sealModel(modelBytes, signer.privateKey);
    const rand = seededRandom(42);
    const codes = new Set<string>();
    for (let k = 0; k < 1000; k++) {
      const bad = Uint8Array.from(env);
      const pos = Math.floor(rand() * bad.length);
      bad[pos] ^= 1 + Math.floor(rand() * 255); // never a no-op flip
      const code = rejectCode(bad);
      expect(code, `flip at byte ${pos}`).not.toBe('accepted');
      codes.add(code);
    }
    expect(codes.has('bad-signature')).toBe(true);
  });
});

describe('key files', () => {
  it('writes an ed25519 pair with a 0600 private key and refuses to overwrite it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-rnn-keys-'));
    const files = writeKeyPair(dir);
    expect(statSync(files.privatePath).mode & 0o777).toBe(0o600);
    const pub = readPublicKey(files.publicPath);
    expect(keyId(pub)).toBe(files.keyId);
    const env = sealModel(modelBytes, readPrivateKey(files.privatePath));
    expect(openEnvelope(env, new Map([[files.keyId, pub]])).modelVersion).toBe(3);
    expect(() => writeKeyPair(dir)).toThrow(/refusing to overwrite/);
    expect(() => readPublicKey(files.privatePath)).toThrow(/is a private key/);
    expect(() => readPrivateKey(join(dir, 'missing.pem'))).toThrow(/cannot read private key/);
  });
});
