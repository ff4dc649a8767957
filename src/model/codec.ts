// Model file v1: bytes ⇄ model. No file system here; src/io reads and writes the files.
import { Packr, Unpackr } from 'msgpackr';
import { ModelFormatError } from './errors.js';
import type { Model } from './types.js';
import { modelToWire, parseModel } from './wire.js';

// Plain msgpack maps (no msgpackr records), so any msgpack library can read and write them.
const packr = new Packr({ useRecords: false, variableMapSize: true });
// copyBuffers: bins (e.g. in meta) must not be views into the caller's buffer.
// int64AsType 'auto': other writers may store small integers as int64/uint64, which msgpackr
// would otherwise return as BigInt (so `version: 1` written as uint64 read as 1n). msgpackr
// implements 'auto' (a number when safe, else BigInt) but its typings omit it, hence the cast.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, copyBuffers: true, int64AsType: 'auto' as 'number' });

/** Decode and validate a model file. Throws ModelFormatError, never a half-built model. */
export function decodeModel(bytes: Uint8Array): Model {
  let raw: unknown;
  try {
    raw = unpackr.unpack(bytes); // also refuses trailing bytes after the map
  } catch (e) {
    // msgpackr marks reads past the end as `incomplete`; a value thrown by an extension need not be an Error.
    const message = e instanceof Error ? e.message : String(e);
    if (e instanceof Error && (e as { incomplete?: boolean }).incomplete) {
      throw new ModelFormatError('', `truncated: the data ends in the middle of a value (${bytes.length} bytes; ${message})`);
    }
    if (message.startsWith('Data read, but end of buffer not reached')) {
      throw new ModelFormatError('', 'trailing bytes after the model map (concatenated or corrupt file?)');
    }
    throw new ModelFormatError('', `not a valid msgpack document (${message}); corrupt file?`);
  }
  return parseModel(raw);
}

/** Encode a model; validates first, so an invalid model is never written. */
export function encodeModel(model: Model): Uint8Array {
  const wire = modelToWire(model);
  parseModel(wire);
  return packr.pack(wire);
}
