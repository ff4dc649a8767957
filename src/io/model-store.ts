// Pushed models and their lifecycle on disk, so a restart comes back with the last model
// that committed, and remembers what must never run again (issue 13).
//
//   <dir>/committed.envelope   the last committed model, as the signed envelope it came in
//   <dir>/previous.envelope    the committed one before it (the fallback if that is damaged)
//   <dir>/candidate.envelope   the model on probation; never served at start
//   <state file>               lifecycle.json (default <dir>/lifecycle.json): the lifecycle
//                              state of src/stream/model-lifecycle.ts, rewritten at every
//                              transition; it holds the anti-rollback floor
//
// Without an envelope folder (--model-store none) the state file alone is kept, so the
// floor survives restarts even then. Envelopes, not bare models: at start each file is
// verified again against the trusted keys, so a truncated or altered file is detected like
// a tampered push. Every write is atomic (temp file in the same folder, fsync, rename,
// fsync the folder): after a power cut a file is the old one or the new one.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { syncDir, writeFileAtomic } from './atomic-file.js';
import { dirname, join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { Model } from '../model/types.js';
import type { ModelStatusEvent } from '../stream/events.js';
import { initialState, LifecycleError, parseLifecycleState, transition, wasRolledBack, type LifecycleState, type ModelRef } from '../stream/model-lifecycle.js';
import { sameInputs } from '../model/same-inputs.js';
import type { Logger } from './logger.js';
import { EnvelopeError, openEnvelope, type VerifiedModel } from './model-envelope.js';

export class ModelStore {
  readonly committed: string | null;
  readonly previous: string | null;
  readonly candidate: string | null;
  readonly stateFile: string;
  private state: LifecycleState | null = null;

  /** `dir` null: no envelopes kept, only the lifecycle state in `stateFile`. */
  constructor(readonly dir: string | null, stateFile?: string) {
    if (dir === null && stateFile === undefined) throw new Error('ModelStore: give a folder or a state file');
    this.committed = dir === null ? null : join(dir, 'committed.envelope');
    this.previous = dir === null ? null : join(dir, 'previous.envelope');
    this.candidate = dir === null ? null : join(dir, 'candidate.envelope');
    this.stateFile = stateFile ?? join(dir!, 'lifecycle.json');
  }

  /** The persisted lifecycle state; missing or damaged reads as null (`why` says which). */
  read(): { readonly state: LifecycleState | null; readonly why?: string } {
    let text: string;
    try {
      text = readFileSync(this.stateFile, 'utf8');
    } catch (e) {
      return { state: null, why: (e as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : `cannot read it: ${(e as Error).message}` };
    }
    try {
      const state = parseLifecycleState(JSON.parse(text));
      return state ? { state } : { state: null, why: 'not a lifecycle state' };
    } catch {
      return { state: null, why: 'not JSON' };
    }
  }

  /**
   * The runtime starts serving `serving`: replays the start transition over the persisted
   * state (a probation left open is dropped, with its envelope), persists and returns it.
   */
  begin(serving: ModelRef, log?: Logger): LifecycleState {
    const { state, why } = this.read();
    if (why) log?.warn({ path: this.stateFile, reason: why }, `model lifecycle state ${this.stateFile} is unusable (${why}); its anti-rollback floor is lost`);
    const p = state?.probation;
    if (p) log?.warn(p, `${p.name} v${p.version} was on probation at the stop: never committed, not served`);
    this.state = transition(state ?? initialState(serving), { type: 'start', serving });
    if (this.candidate) rmSync(this.candidate, { force: true });
    // Nothing persisted yet (no push ever): the first transition writes the file, so a run
    // that never sees a push leaves no files behind.
    if (state || why) this.persist();
    return this.state;
  }

  /** One model status event of the stream: accepted, committed and rolled-back are transitions. */
  record(e: ModelStatusEvent): void {
    if (!this.state) throw new LifecycleError('ModelStore.record before begin');
    switch (e.status) {
      case 'accepted': {
        // The envelope first: a crash before the state is written leaves a stray candidate, dropped at start.
        if (this.candidate && e.origin.payload) {
          mkdirSync(this.dir!, { recursive: true });
          writeFileAtomic(this.candidate, e.origin.payload);
        }
        this.state = transition(this.state, { type: 'accept', model: { name: e.name!, version: e.version!, ...(e.sha256 ? { sha256: e.sha256 } : {}) } });
        if (e.probation === undefined) return; // committed at once: the next event says so
        break;
      }
      case 'committed':
        // Envelopes first: after a crash in between, committed.envelope is a version the
        // state has not committed, and the start-up serves the previous one (chooseStartModel).
        if (this.candidate && existsSync(this.candidate)) {
          if (existsSync(this.committed!)) renameSync(this.committed!, this.previous!);
          renameSync(this.candidate, this.committed!);
          syncDir(this.dir!);
        }
        this.state = transition(this.state, { type: 'commit' });
        break;
      case 'rolled-back':
        this.state = transition(this.state, { type: 'roll-back' });
        if (this.candidate) rmSync(this.candidate, { force: true });
        break;
      default:
        return;
    }
    this.persist();
  }

  private persist(): void {
    mkdirSync(dirname(this.stateFile), { recursive: true });
    writeFileAtomic(this.stateFile, JSON.stringify(this.state, null, 1) + '\n');
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
 * --model file, else the file. Only a model the lifecycle state says committed is served
 * (its version at most the highest committed, never rolled back): a model on probation at
 * the stop is not. A stored model that is missing, truncated, altered, signed by a key no
 * longer trusted, of another name or inputs, or not committed, is skipped with a log line
 * naming why: a damaged store never stops the runtime.
 */
export function chooseStartModel(
  file: { readonly model: Model; readonly sha256: string },
  store: ModelStore | undefined,
  trusted: ReadonlyMap<string, KeyObject>,
  log: Logger,
): StartModel {
  const fromFile: StartModel = { model: file.model, sha256: file.sha256, source: 'file' };
  if (!store) return fromFile;
  const state = store.read().state;
  let skipped = false;
  for (const path of [store.committed, store.previous]) {
    if (path === null || !existsSync(path)) continue;
    let why: string | null = null;
    let v: VerifiedModel | null = null;
    try {
      if (trusted.size === 0) why = 'no trusted keys (--trust) to verify it with';
      else {
        v = openEnvelope(readFileSync(path), trusted);
        const top = state?.floor[v.name]?.committed?.version;
        if (v.name !== file.model.name) why = `it is "${v.name}", --model is "${file.model.name}"`;
        else if (!sameInputs(v.model, file.model)) why = 'its inputs differ from the --model file';
        else if (state && wasRolledBack(state, v.name, v.modelVersion)) why = `v${v.modelVersion} was rolled back`;
        else if (top === undefined || v.modelVersion > top) why = `v${v.modelVersion} never committed (${store.stateFile})`;
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
