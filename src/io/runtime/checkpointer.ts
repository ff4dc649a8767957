// When state checkpoints are read and written: restored once at start (when they belong
// to the model now serving), then written every `intervalMs` and once more at a clean
// stop. A write is one synchronous encode + atomic file replace between two messages, so
// the file is always a consistent picture of every device at one instant.
import type { Logger } from '../logger.js';
import {
  checkpointByteBound, checkpointMismatch, readCheckpoint, writeCheckpoint,
  type CheckpointModel, type DeviceCheckpoint,
} from '../state-checkpoint.js';

/** What the device table offers to checkpoints. */
export interface CheckpointTable {
  readonly stateSize: number;
  readonly maxDevices: number;
  /** Every device, least recently seen first. */
  snapshot(): DeviceCheckpoint[];
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
  /** Write now (e.g. at stop); false if it failed (logged). */
  flush(): boolean;
  stop(): void;
}

export function checkpointer(o: CheckpointerOptions): Checkpointer {
  let table: CheckpointTable | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  const flush = (): boolean => {
    if (!table) return false;
    try {
      const devices = table.snapshot();
      const bytes = writeCheckpoint(o.dir, { model: o.model(), stateSize: table.stateSize, savedAt: o.now(), devices });
      o.counters.checkpointWrites++;
      o.log.debug({ dir: o.dir, bytes, devices: devices.length }, 'state checkpoint written');
      return true;
    } catch (e) {
      o.counters.checkpointWriteErrors++;
      o.log.error({ dir: o.dir, err: (e as Error).message }, 'could not write the state checkpoint; a restart will cold-start the devices');
      return false;
    }
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
        timer = setInterval(flush, o.intervalMs);
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
