// When state checkpoints are read and written: restored once at start (when they belong
// to the model now serving), then written every `intervalMs` and once more at a clean
// stop. A write encodes every device synchronously between two messages (so the file is
// a consistent picture of one instant) and then writes and fsyncs off the event loop; a
// period that comes while the last write is still going is skipped.
import type { Logger } from '../logger.js';
import { CheckpointWriter } from '../checkpoint-writer.js';
import {
  checkpointByteBound, checkpointMismatch, readCheckpoint, writeCheckpoint,
  type CheckpointModel, type DeviceCheckpoint,
} from '../state-checkpoint.js';

/** What the device table offers to checkpoints. */
export interface CheckpointTable {
  readonly stateSize: number;
  readonly maxDevices: number;
  /** Every device, least recently seen first, as views valid only during `visit`. */
  forEachSnapshot(visit: (d: DeviceCheckpoint) => void): void;
  /** Put devices back (least recently seen first); returns how many were restored. */
  restore(devices: readonly DeviceCheckpoint[]): number;
}

export interface CheckpointCounters {
  /** Device states restored from a checkpoint at start. */
  checkpointRestored: number;
  /** Starts without usable checkpoint (missing, damaged, other model). */
  checkpointColdStarts: number;
  checkpointWrites: number;
  checkpointWriteErrors: number;
}

export interface CheckpointerOptions {
  readonly dir: string;
  readonly intervalMs: number;
  readonly log: Logger;
  readonly counters: CheckpointCounters;
  /** The model serving now (its states are the ones written). */
  readonly model: () => CheckpointModel;
  readonly now: () => number;
}

export interface Checkpointer {
  /** Restore into `table` (once, before the first reading) and start the periodic writes. */
  attach(table: CheckpointTable): void;
  /** Write now (e.g. at stop), after any write in progress; false if it failed (logged). */
  flush(): Promise<boolean>;
  stop(): void;
}

export function checkpointer(o: CheckpointerOptions): Checkpointer {
  let table: CheckpointTable | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let writing: Promise<boolean> | null = null;
  // One buffer for every write (they never overlap): the checkpoint makes no garbage.
  const writer = new CheckpointWriter();
  const write = async (t: CheckpointTable): Promise<boolean> => {
    try {
      let devices = 0;
      const forEachDevice = (visit: (d: DeviceCheckpoint) => void) => t.forEachSnapshot((d) => (devices++, visit(d)));
      const bytes = await writeCheckpoint(o.dir, { model: o.model(), stateSize: t.stateSize, savedAt: o.now(), forEachDevice }, writer);
      o.counters.checkpointWrites++;
      o.log.debug({ dir: o.dir, bytes, devices }, 'state checkpoint written');
      return true;
    } catch (e) {
      o.counters.checkpointWriteErrors++;
      o.log.error({ dir: o.dir, err: (e as Error).message }, 'could not write the state checkpoint; a restart will cold-start the devices');
      return false;
    } finally {
      writing = null;
    }
  };
  const tick = (): void => {
    if (table && !writing) writing = write(table);
  };
  const flush = async (): Promise<boolean> => {
    if (!table) return false;
    if (writing) await writing;
    writing = write(table);
    return writing;
  };
  return {
    attach(t) {
      table = t;
      const loaded = readCheckpoint(o.dir, checkpointByteBound(t.maxDevices, t.stateSize));
      const why = loaded.ok ? checkpointMismatch(loaded.checkpoint, o.model(), t.stateSize) : loaded.reason;
      if (loaded.ok && why === null) {
        const n = t.restore(loaded.checkpoint.devices);
        o.counters.checkpointRestored += n;
        o.log.info({ dir: o.dir, devices: n, savedAt: new Date(loaded.checkpoint.savedAt).toISOString() }, `restored ${n} device states from the checkpoint`);
      } else {
        o.counters.checkpointColdStarts++;
        const missing = !loaded.ok && loaded.missing;
        o.log[missing ? 'info' : 'warn']({ dir: o.dir, reason: why }, `starting every device cold: ${why}`);
      }
      if (o.intervalMs > 0) {
        timer = setInterval(tick, o.intervalMs);
        timer.unref();
      }
    },
    flush,
    stop() {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
