// Pushed model bytes -> a verified candidate or a refusal with a reason code, at the I/O
// edge: the size bound, then the signed envelope (signature, hash, decode), all in
// src/io/model-envelope.ts. What may replace the running model is decided
// later, in the stream, between two readings.
import type { KeyObject } from 'node:crypto';
import type { ModelOfferResult } from '../../stream/events.js';
import type { Logger } from '../logger.js';
import { EnvelopeError, openEnvelope } from '../model-envelope.js';

export interface ModelVerifierOptions {
  readonly trusted: ReadonlyMap<string, KeyObject>;
  /** Largest model message accepted; larger ones are refused before decoding. */
  readonly maxBytes: number;
  readonly modelTopic?: string;
  readonly log: Logger;
}

export function modelVerifier(options: ModelVerifierOptions): (payload: Uint8Array) => ModelOfferResult {
  const { trusted, maxBytes, modelTopic, log } = options;
  let warnedUntrusted = false;
  return (payload) => {
    if (trusted.size === 0 && !warnedUntrusted) {
      warnedUntrusted = true;
      log.warn({ modelTopic }, `a model was pushed on ${modelTopic}, but no key is trusted (--trust): every pushed model is refused (said once)`);
    }
    try {
      const v = openEnvelope(payload, trusted, { maxBytes }); // the size bound comes first, before any decoding
      return { ok: true, model: v.model, sha256: v.sha256, keyId: v.keyId };
    } catch (e) {
      if (e instanceof EnvelopeError) return { ok: false, code: e.code, message: e.message };
      return { ok: false, code: 'malformed', message: String((e as Error)?.message ?? e) };
    }
  };
}
