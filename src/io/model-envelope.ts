// Signed model envelopes: what `push` publishes on models/<name> and `run` verifies
// before a model may replace the running one.
//
//   envelope = msgpack { format: "edge-rnn-envelope", version: 1, payload: <bin>, signature: <bin 64> }
//   payload  = msgpack { name, modelVersion, createdAt, keyId, sha256: <bin 32>, model: <bin> }
//
// The signature is ed25519 over the payload bytes exactly as sent, so verification never
// depends on re-encoding. Every field that matters (model bytes, hash, name, version, key
// id, time) is inside the signed payload.
//
// Bytes from the network are bounded before anything is decoded: an envelope over
// `maxBytes` is refused by its length, and each msgpack map must end exactly where its
// bytes end, checked here. msgpackr's own trailing-bytes check JSON.stringifies the whole
// decoded value into its error (issue 13: a 100 MiB envelope plus one byte took 5 GB),
// so we decode in its sequential mode and compare the end position ourselves.
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { Packr, Unpackr } from 'msgpackr';
import { decodeModel } from '../model/codec.js';
import { ModelFormatError } from '../model/errors.js';
import type { Model } from '../model/types.js';
import { keyId } from './keys.js';

export const ENVELOPE_FORMAT = 'edge-rnn-envelope';
export const ENVELOPE_VERSION = 1;
/** Largest envelope accepted by default (bytes); models here are KB to a few hundred KB. */
export const DEFAULT_ENVELOPE_MAX_BYTES = 4 * 1024 * 1024;

const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

export type EnvelopeRejectCode =
  | 'too-large' // more bytes than the configured cap: refused before decoding
  | 'malformed' // not an envelope at all, trailing bytes, or a field missing / of the wrong type
  | 'unsigned' // no signature, or no trusted keys configured
  | 'unknown-key' // signed by a key we do not trust
  | 'bad-signature' // signature does not verify: bytes were changed after signing
  | 'hash-mismatch' // model bytes do not match the signed sha256
  | 'bad-model' // model bytes do not decode as a valid model
  | 'metadata-mismatch'; // signed name / modelVersion disagree with the model inside

export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  constructor(
    readonly code: EnvelopeRejectCode,
    message: string,
  ) {
    super(message);
  }
}

export interface EnvelopeLimits {
  /** Bytes; default DEFAULT_ENVELOPE_MAX_BYTES. */
  readonly maxBytes?: number;
}

export interface EnvelopeInfo {
  readonly name: string;
  readonly modelVersion: number;
  readonly createdAt: string;
  readonly keyId: string;
  readonly sha256: string;
}

export interface VerifiedModel extends EnvelopeInfo {
  readonly model: Model;
  readonly modelBytes: Uint8Array;
}

function sha256(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** Seal model bytes (already validated by the caller) into a signed envelope. */
export function sealModel(modelBytes: Uint8Array, privateKey: KeyObject, createdAt = new Date().toISOString()): Uint8Array {
  let model: Model;
  try {
    model = decodeModel(modelBytes);
  } catch (e) {
    throw new EnvelopeError('bad-model', `refusing to sign a model that does not decode: ${(e as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new EnvelopeError('malformed', 'signing needs an ed25519 private key');
  const id = keyId(createPublicKey(privateKey));
  const payload = packr.pack({
    name: model.name, modelVersion: model.modelVersion, createdAt, keyId: id,
    sha256: sha256(modelBytes), model: modelBytes,
  });
  const signature = sign(null, payload, privateKey);
  return packr.pack({ format: ENVELOPE_FORMAT, version: ENVELOPE_VERSION, payload, signature });
}

function field<T>(o: Record<string, unknown>, key: string, check: (v: unknown) => v is T, what: string): T {
  const v = o[key];
  if (!check(v)) throw new EnvelopeError('malformed', `envelope field "${key}" must be ${what}`);
  return v;
}
const isBin = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/** Refuses more than `maxBytes` by length alone, before any decoding. */
export function checkEnvelopeSize(length: number, limits: EnvelopeLimits = {}): void {
  const max = limits.maxBytes ?? DEFAULT_ENVELOPE_MAX_BYTES;
  if (length > max) throw new EnvelopeError('too-large', `envelope is ${length} bytes, over the limit of ${max} bytes`);
}

/** Exactly one msgpack map filling `bytes`; the error never carries decoded data. */
function unpackMap(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  let end = -1;
  try {
    unpackr.unpackMultiple(bytes, (v: unknown, _start?: number, stop?: number) => {
      value = v;
      end = stop ?? -1;
      return false; // the first value only: what follows is counted, not decoded
    });
  } catch (e) {
    throw new EnvelopeError('malformed', `${what} is not valid msgpack (${String((e as Error)?.message ?? e).slice(0, 80)})`);
  }
  if (end < 0) throw new EnvelopeError('malformed', `${what} is empty`);
  const extra = bytes.length - end;
  if (extra > 0) throw new EnvelopeError('malformed', `${extra} byte${extra === 1 ? '' : 's'} after the ${what}: trailing data is refused`);
  if (!isMap(value)) throw new EnvelopeError('malformed', `${what} is not a msgpack map`);
  return value;
}

/** The outer map, checked for format and version; `payload` is the signed bytes. */
function openFrame(bytes: Uint8Array, limits: EnvelopeLimits): Record<string, unknown> & { payload: Uint8Array } {
  checkEnvelopeSize(bytes.length, limits);
  const env = unpackMap(bytes, 'envelope');
  if (env.format !== ENVELOPE_FORMAT) {
    if (env.format === 'edge-rnn') throw new EnvelopeError('unsigned', 'a bare model, not a signed envelope');
    throw new EnvelopeError('malformed', `not a model envelope (format ${shortView(env.format)})`);
  }
  if (env.version !== ENVELOPE_VERSION) throw new EnvelopeError('malformed', `unknown envelope version ${shortView(env.version)}`);
  return { ...env, payload: field(env, 'payload', isBin, 'binary') };
}

/** A short, bounded description of an unexpected value for an error message. */
function shortView(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 40));
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return `a ${v instanceof Uint8Array ? 'binary' : Array.isArray(v) ? 'list' : typeof v}`;
}

/** What an envelope says about itself, unverified. */
export interface ClaimedEnvelope {
  readonly name: string;
  readonly modelVersion: number;
  /** Hex sha256 of the model bytes, as the payload claims. */
  readonly sha256: string;
}

/**
 * Name, version and hash an envelope claims, with the same bounds as openEnvelope but
 * WITHOUT checking the signature: for `push` (comparing with what the broker retains,
 * recognising its verdicts), never for deciding what runs.
 */
export function readEnvelopeInfo(bytes: Uint8Array, limits: EnvelopeLimits = {}): ClaimedEnvelope {
  const body = unpackMap(openFrame(bytes, limits).payload, 'envelope payload');
  return {
    name: field(body, 'name', isStr, 'a name'),
    modelVersion: field(body, 'modelVersion', isPosInt, 'a positive integer'),
    sha256: Buffer.from(field(body, 'sha256', isBin, 'a sha256 digest')).toString('hex'),
  };
}

/**
 * Verify an envelope against trusted public keys (by key id) and return the model.
 * Checks, in order: size, framing, signature by a trusted key, hash, model decode, metadata.
 */
export function openEnvelope(bytes: Uint8Array, trusted: ReadonlyMap<string, KeyObject>, limits: EnvelopeLimits = {}): VerifiedModel {
  const env = openFrame(bytes, limits);
  const payload = env.payload;
  if (env.signature === undefined) throw new EnvelopeError('unsigned', 'envelope has no signature');
  const signature = field(env, 'signature', isBin, 'binary');
  if (trusted.size === 0) throw new EnvelopeError('unsigned', 'no trusted keys configured (--trust)');

  // The key id is read from the payload before the signature is checked; it only picks
  // which trusted key to try, and a forged id simply fails verification below.
  const body = unpackMap(payload, 'envelope payload');
  const kid = field(body, 'keyId', isStr, 'a key id');
  const key = trusted.get(kid);
  if (!key) throw new EnvelopeError('unknown-key', `signed by key ${kid}, which is not trusted`);
  let ok = false;
  try {
    ok = signature.length === 64 && verify(null, payload, key, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new EnvelopeError('bad-signature', `signature does not verify against trusted key ${kid}: the envelope was altered after signing`);

  const modelBytes = field(body, 'model', isBin, 'binary');
  const digest = field(body, 'sha256', isBin, 'a sha256 digest');
  if (!sha256(modelBytes).equals(digest)) throw new EnvelopeError('hash-mismatch', 'model bytes do not match the signed sha256');
  let model: Model;
  try {
    model = decodeModel(modelBytes);
  } catch (e) {
    if (e instanceof ModelFormatError) throw new EnvelopeError('bad-model', `pushed model does not decode: ${e.message}`);
    throw e;
  }
  const name = field(body, 'name', isStr, 'a name');
  const modelVersion = field(body, 'modelVersion', isPosInt, 'a positive integer');
  if (name !== model.name || modelVersion !== model.modelVersion) {
    throw new EnvelopeError('metadata-mismatch', `envelope says ${name} v${modelVersion}, the model inside is ${model.name} v${model.modelVersion}`);
  }
  const createdAt = field(body, 'createdAt', isStr, 'a timestamp');
  return { model, modelBytes, name, modelVersion, createdAt, keyId: kid, sha256: Buffer.from(digest).toString('hex') };
}
