// Per-device state checkpoints, so a restart (upgrade, crash, power cut) carries every
// device on from where it was instead of from a zero state.
//
//   <state-dir>/devices.state   msgpack {
//     format: "edge-rnn-state", version: 1,
//     model: { name, version, sha256 },   the model whose states these are
//     stateSize,                          floats per device state
//     savedAt,                            ms since the epoch
//     devices: [[id, lastSeq, epoch, steps, lastTime, lastTs, seqBits <bin u32 LE> | null,
//                state <bin f32 LE>], ...]   least recently seen first; times in ms or null
//   }
//
// Written whole and atomically (temp file, fsync, rename: src/io/atomic-file.ts), so a
// power cut leaves the old file or the new one. Read with the same care as a model file:
// size bound first, then every field checked; a damaged file is refused with a reason
// and the runtime starts cold.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Unpackr } from 'msgpackr';
import type { DeviceSnapshot } from '../stream/device-table.js';
import { writeFileAtomicAsync } from './atomic-file.js';
import { CheckpointWriter } from './checkpoint-writer.js';

export const CHECKPOINT_FORMAT = 'edge-rnn-state';
export const CHECKPOINT_VERSION = 1;
/** Bytes a device may cost beyond its state floats and id (numbers, framing, seq bits), for the size bound. */
const PER_DEVICE_OVERHEAD = 64 + 8192;
const MAX_ID_BYTES = 1024;

/** One device's state and sequence history (the device table's snapshot). */
export type DeviceCheckpoint = DeviceSnapshot;

export interface CheckpointModel {
  readonly name: string;
  readonly version: number;
  readonly sha256?: string;
}

export interface Checkpoint {
  readonly model: CheckpointModel;
  readonly stateSize: number;
  readonly savedAt: number;
  readonly devices: readonly DeviceCheckpoint[];
}

export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

/** The most bytes a valid checkpoint of `maxDevices` states of `stateSize` floats can have. */
export function checkpointByteBound(maxDevices: number, stateSize: number, maxIdBytes = MAX_ID_BYTES): number {
  return 4096 + maxDevices * (stateSize * 4 + PER_DEVICE_OVERHEAD + maxIdBytes);
}

/** What a checkpoint is written from: the devices are visited, not copied (views valid during the visit). */
export interface CheckpointSource {
  readonly model: CheckpointModel;
  readonly stateSize: number;
  readonly savedAt: number;
  forEachDevice(visit: (d: DeviceCheckpoint) => void): void;
}

/** Encodes `c` with `writer`; the bytes are a view of the writer's buffer, valid until its next use. */
export function encodeCheckpointWith(writer: CheckpointWriter, c: CheckpointSource): Uint8Array {
  const { name, version, sha256 } = c.model;
  writer.begin({ format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, model: { name, version, ...(sha256 ? { sha256 } : {}) }, stateSize: c.stateSize, savedAt: c.savedAt });
  c.forEachDevice((d) => writer.device(d));
  return writer.end();
}

const sourceOf = (c: Checkpoint | CheckpointSource): CheckpointSource =>
  'forEachDevice' in c ? c : { ...c, forEachDevice: (visit) => c.devices.forEach((d) => visit(d)) };

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  return encodeCheckpointWith(new CheckpointWriter(), sourceOf(c));
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Bytes -> checkpoint, or CheckpointError naming the first thing wrong. `maxBytes` is checked before decoding. */
export function decodeCheckpoint(bytes: Uint8Array, maxBytes: number): Checkpoint {
  if (bytes.length > maxBytes) throw new CheckpointError(`checkpoint is ${bytes.length} bytes, over the ${maxBytes}-byte bound for this model and --max-devices`);
  let doc: unknown;
  try {
    // unpackMultiple sees trailing bytes as a second value instead of msgpackr's
    // "end of buffer" error, which would stringify the whole decoded document.
    const values: unknown[] = [];
    unpackr.unpackMultiple(bytes, (v: unknown) => void values.push(v));
    if (values.length !== 1) throw new CheckpointError(`checkpoint holds ${values.length} msgpack values, expected 1 (truncated or appended to?)`);
    doc = values[0];
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`checkpoint is not valid msgpack (truncated?): ${String((e as Error).message).slice(0, 120)}`);
  }
  const d = doc as Record<string, unknown>;
  if (typeof d !== 'object' || d === null || d.format !== CHECKPOINT_FORMAT) throw new CheckpointError(`not an edge-rnn state checkpoint (format field is not "${CHECKPOINT_FORMAT}")`);
  if (d.version !== CHECKPOINT_VERSION) throw new CheckpointError(`checkpoint version ${String(d.version)} is not supported (this runtime reads version ${CHECKPOINT_VERSION})`);
  const m = d.model as Record<string, unknown> | undefined;
  if (typeof m?.name !== 'string' || !isCount(m.version) || (m.sha256 !== undefined && typeof m.sha256 !== 'string')) throw new CheckpointError('checkpoint model: needs name (string), version (integer), optional sha256');
  if (!isCount(d.stateSize) || d.stateSize === 0) throw new CheckpointError('checkpoint stateSize: needs a positive integer');
  if (typeof d.savedAt !== 'number' || !Number.isFinite(d.savedAt)) throw new CheckpointError('checkpoint savedAt: needs a number (ms)');
  if (!Array.isArray(d.devices)) throw new CheckpointError('checkpoint devices: needs an array');
  const stateSize = d.stateSize;
  const seen = new Set<string>();
  const devices = d.devices.map((r: unknown, i: number): DeviceCheckpoint => {
    const at = `checkpoint devices[${i}]`;
    if (!Array.isArray(r) || r.length !== 8) throw new CheckpointError(`${at}: needs [id, lastSeq, epoch, steps, lastTime, lastTs, seqBits, state]`);
    const [device, lastSeq, epoch, steps, lastTime, lastTs, seqBits, state] = r as unknown[];
    if (typeof device !== 'string' || device.length === 0 || device.length > MAX_ID_BYTES) throw new CheckpointError(`${at}: device id must be a string of 1..${MAX_ID_BYTES} characters`);
    if (seen.has(device)) throw new CheckpointError(`${at}: device "${device}" appears twice`);
    seen.add(device);
    if (!(lastSeq === -1 || isCount(lastSeq)) || !isCount(epoch) || !isCount(steps)) throw new CheckpointError(`${at}: lastSeq, epoch and steps must be integers`);
    const time = (t: unknown, what: string): number => {
      if (t === null) return NaN;
      if (typeof t !== 'number' || !Number.isFinite(t)) throw new CheckpointError(`${at}: ${what} must be a number or null`);
      return t;
    };
    if (seqBits !== null && (!(seqBits instanceof Uint8Array) || seqBits.byteLength % 4 !== 0 || seqBits.byteLength > 8192)) throw new CheckpointError(`${at}: seqBits must be null or whole 32-bit words (at most 8192 bytes)`);
    if (!(state instanceof Uint8Array) || state.byteLength !== stateSize * 4) throw new CheckpointError(`${at}: state must be ${stateSize * 4} bytes (${stateSize} float32)`);
    // Copy out of msgpackr's buffer: its views can sit at unaligned offsets.
    const floats = new Float32Array(stateSize);
    new Uint8Array(floats.buffer).set(state);
    for (let k = 0; k < stateSize; k++) if (!Number.isFinite(floats[k])) throw new CheckpointError(`${at}: state holds a non-finite value`);
    const bits = seqBits === null ? undefined : new Uint32Array(seqBits.byteLength / 4);
    if (bits) new Uint8Array(bits.buffer).set(seqBits as Uint8Array);
    return {
      device, lastSeq: lastSeq as number, epoch: epoch as number, steps: steps as number,
      lastTime: time(lastTime, 'lastTime'), lastTs: time(lastTs, 'lastTs'), state: floats, ...(bits ? { seqBits: bits } : {}),
    };
  });
  return { model: { name: m.name, version: m.version as number, ...(m.sha256 ? { sha256: m.sha256 as string } : {}) }, stateSize, savedAt: d.savedAt, devices };
}

/** The checkpoint file of a state folder. */
export const checkpointPath = (dir: string): string => join(dir, 'devices.state');

/**
 * Encodes `c` now (a consistent picture between two messages) and writes it off the
 * event loop; resolves with the bytes written. One write at a time per folder, and per
 * `writer` (its buffer holds the bytes until the write is done).
 */
export async function writeCheckpoint(dir: string, c: Checkpoint | CheckpointSource, writer = new CheckpointWriter()): Promise<number> {
  const bytes = encodeCheckpointWith(writer, sourceOf(c));
  mkdirSync(dir, { recursive: true });
  await writeFileAtomicAsync(checkpointPath(dir), bytes);
  return bytes.length;
}

export type LoadedCheckpoint =
  | { readonly ok: true; readonly checkpoint: Checkpoint }
  | { readonly ok: false; readonly reason: string; readonly missing?: boolean };

/** Reads the checkpoint of `dir`; never throws: a missing or damaged file is a reason to start cold. */
export function readCheckpoint(dir: string, maxBytes: number): LoadedCheckpoint {
  const path = checkpointPath(dir);
  try {
    const size = statSync(path).size;
    if (size > maxBytes) return { ok: false, reason: `${path} is ${size} bytes, over the ${maxBytes}-byte bound` };
    return { ok: true, checkpoint: decodeCheckpoint(readFileSync(path), maxBytes) };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, reason: `no checkpoint at ${path}`, missing: true };
    if (e instanceof CheckpointError) return { ok: false, reason: `${path}: ${e.message}` };
    return { ok: false, reason: `cannot read ${path}: ${code ?? (e as Error).message}` };
  }
}

/** Why a checkpoint's states do not fit the model now serving, or null when they do. */
export function checkpointMismatch(c: Checkpoint, model: CheckpointModel, stateSize: number): string | null {
  if (c.model.name !== model.name || c.model.version !== model.version) return `it holds states of ${c.model.name} v${c.model.version}, the runtime serves ${model.name} v${model.version}`;
  if (c.model.sha256 && model.sha256 && c.model.sha256 !== model.sha256) return 'it holds states of another build of the same model version (sha256 differs)';
  if (c.stateSize !== stateSize) return `its states have ${c.stateSize} floats, the model's have ${stateSize}`;
  return null;
}
