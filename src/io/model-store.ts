// Pushed models on disk, so a restart comes back with the last good one.
//
//   <dir>/current.envelope    the last accepted model, as the signed envelope it came in
//   <dir>/previous.envelope   the one before it (the fallback if current is damaged)
//   <dir>/rolled-back.json    [{name, version}] that failed probation: never accepted again
//
// Envelopes, not bare models: at start each file is verified again against the trusted
// keys, so a truncated or altered file is detected like a tampered push. Every write is
// atomic (temp file in the same folder, fsync, rename, fsync the folder): after a power
// cut the file is the old one or the new one, never half of each.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { Model } from '../model/types.js';
import { sameInputs } from '../stream/model-slot.js';
import type { Logger } from './logger.js';
import { EnvelopeError, openEnvelope, type VerifiedModel } from './model-envelope.js';

export interface RolledBack {
  readonly name: string;
  readonly version: number;
}

/** Writes `bytes` to `path` atomically: temp file, fsync, rename over, fsync the folder. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncDir(dirname(path));
}

function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a folder; the rename itself is still atomic.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export class ModelStore {
  readonly current: string;
  readonly previous: string;
  readonly rolledBackFile: string;

  constructor(readonly dir: string) {
    this.current = join(dir, 'current.envelope');
    this.previous = join(dir, 'previous.envelope');
    this.rolledBackFile = join(dir, 'rolled-back.json');
  }

  /** Keep an accepted envelope: the current one becomes the previous, this one the current. */
  save(envelope: Uint8Array): void {
    mkdirSync(this.dir, { recursive: true });
    // Write the new file first, then swap names: a crash in between leaves the old
    // current as previous, and the start-up falls back to it.
    const incoming = join(this.dir, 'incoming.envelope');
    writeFileAtomic(incoming, envelope);
    if (existsSync(this.current)) renameSync(this.current, this.previous);
    renameSync(incoming, this.current);
    syncDir(this.dir);
  }

  /** The current model failed probation: the previous one is current again (or none is). */
  rollBack(failed: RolledBack): void {
    mkdirSync(this.dir, { recursive: true });
    const list = this.rolledBack();
    if (!list.some((r) => r.name === failed.name && r.version === failed.version)) {
      writeFileAtomic(this.rolledBackFile, JSON.stringify([...list, failed], null, 1) + '\n');
    }
    if (existsSync(this.previous)) renameSync(this.previous, this.current);
    else rmSync(this.current, { force: true });
    syncDir(this.dir);
  }

  /** Versions that failed probation before; a damaged list reads as empty. */
  rolledBack(): RolledBack[] {
    try {
      const doc = JSON.parse(readFileSync(this.rolledBackFile, 'utf8')) as unknown;
      if (!Array.isArray(doc)) return [];
      return doc.filter((r): r is RolledBack => typeof r?.name === 'string' && Number.isSafeInteger(r?.version));
    } catch {
      return [];
    }
  }
}

export interface StartModel {
  readonly model: Model;
  /** sha256 (hex) of the model bytes. */
  readonly sha256: string;
  readonly source: 'store' | 'file';
  /** The store file it came from. */
  readonly path?: string;
  readonly info?: VerifiedModel;
}

/**
 * The model to start with: the newest usable stored model when it is newer than the
 * --model file, else the file. A stored model that is missing, truncated, altered, signed
 * by a key no longer trusted, of another name or inputs, or rolled back before, is skipped
 * with a log line naming why: a damaged store never stops the runtime.
 */
export function chooseStartModel(
  file: { readonly model: Model; readonly sha256: string },
  store: ModelStore | undefined,
  trusted: ReadonlyMap<string, KeyObject>,
  log: Logger,
): StartModel {
  const fromFile: StartModel = { model: file.model, sha256: file.sha256, source: 'file' };
  if (!store) return fromFile;
  const refused = new Set(store.rolledBack().map((r) => `${r.name}@${r.version}`));
  let skipped = false;
  for (const path of [store.current, store.previous]) {
    if (!existsSync(path)) continue;
    let why: string | null = null;
    let v: VerifiedModel | null = null;
    try {
      if (trusted.size === 0) why = 'no trusted keys (--trust) to verify it with';
      else {
        v = openEnvelope(readFileSync(path), trusted);
        if (v.name !== file.model.name) why = `it is "${v.name}", --model is "${file.model.name}"`;
        else if (!sameInputs(v.model, file.model)) why = 'its inputs differ from the --model file';
        else if (refused.has(`${v.name}@${v.modelVersion}`)) why = `v${v.modelVersion} was rolled back`;
      }
    } catch (e) {
      why = e instanceof EnvelopeError ? `${e.code}: ${e.message}` : `cannot read it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    }
    if (why || !v) {
      log.warn({ path, reason: why }, `stored model ${path} is unusable (${why}); falling back to the previous good one`);
      skipped = true;
      continue;
    }
    if (v.modelVersion <= file.model.modelVersion) {
      log.info({ path, stored: v.modelVersion, file: file.model.modelVersion }, `stored model v${v.modelVersion} is not newer than --model v${file.model.modelVersion}; serving --model`);
      return fromFile;
    }
    log.info({ path, name: v.name, version: v.modelVersion, sha256: v.sha256, keyId: v.keyId }, `serving the stored pushed model ${v.name} v${v.modelVersion} from ${path}`);
    return { model: v.model, sha256: v.sha256, source: 'store', path, info: v };
  }
  if (skipped) log.warn({ name: file.model.name, version: file.model.modelVersion }, `no usable stored model; serving --model ${file.model.name} v${file.model.modelVersion}`);
  return fromFile;
}
