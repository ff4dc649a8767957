// Model files on disk. Decoding and validation live in src/model; this adds the path to
// every error so a user knows which file is wrong.
import { readFileSync, writeFileSync } from 'node:fs';
import { decodeModel, encodeModel } from '../model/codec.js';
import { ModelFormatError } from '../model/errors.js';
import type { Model } from '../model/types.js';

export class ModelFileError extends Error {
  override readonly name = 'ModelFileError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

export function readModelFile(path: string): { model: Model; bytes: Uint8Array } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ModelFileError(path, `cannot read model ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? (e as Error).message}`);
  }
  try {
    return { model: decodeModel(bytes), bytes };
  } catch (e) {
    if (e instanceof ModelFormatError) throw new ModelFileError(path, `${path} is not a valid edge-rnn model: ${e.message}`);
    throw e;
  }
}

export function writeModelFile(path: string, model: Model): Uint8Array {
  const bytes = encodeModel(model);
  writeFileSync(path, bytes);
  return bytes;
}
