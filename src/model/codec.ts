// Model file v1: bytes ⇄ model. No file system here; src/io reads and writes the files.
import { Packr, Unpackr } from 'msgpackr';
import { ModelFormatError } from './errors.js';
import type { Model } from './types.js';
import { modelToWire, parseModel } from './wire.js';

// Plain msgpack maps (no msgpackr records), so any msgpack library can read and write them.
const packr = new Packr({ useRecords: false, variableMapSize: true });
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** Decode and validate a model file. Throws ModelFormatError, never a half-built model. */
export function decodeModel(bytes: Uint8Array): Model {
  let raw: unknown;
  try {
    raw = unpackr.unpack(bytes); // also refuses trailing bytes after the map
  } catch (e) {
    throw new ModelFormatError('', `not a valid msgpack document (${(e as Error).message ?? e}); truncated or corrupt file?`);
  }
  return parseModel(raw);
}

/** Encode a model; validates first, so an invalid model is never written. */
export function encodeModel(model: Model): Uint8Array {
  const wire = modelToWire(model);
  parseModel(wire);
  return packr.pack(wire);
}
