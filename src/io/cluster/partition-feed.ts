// One owned partition: its durable pull consumer, the readings fed to the runtime whose
// acks are held, and its state checkpoint in the states bucket.
//
// Acks are held until a checkpoint covers them. A reading's outcome is published first
// (its prediction's PubAck awaited), then the partition's device states are written to
// the bucket, then the readings the written states include are acked. So an acked reading
// is always inside the newest checkpoint, and a new owner that restores it and replays
// from the consumer's ack floor re-steps exactly the readings the checkpoint lacks; any
// it already holds come back as duplicates the sequence rules drop (src/stream/sequence.ts).
//
// The checkpoint is written with compare-and-set on the revision this owner read or wrote
// last: if another instance wrote it since (it took the partition over), the write fails
// and this partition stops at once.
import type { JsMsg, PubAck } from 'nats';
import type { DeviceTable } from '../../stream/device-table.js';
import { decodeCheckpoint, encodeCheckpoint, checkpointByteBound, checkpointMismatch, type CheckpointModel, type DeviceCheckpoint } from '../state-checkpoint.js';
import { isConflict, type ClusterKv } from './kv.js';
import { checkpointKey } from './subjects.js';

/** A prediction published to JetStream, kept until its PubAck is in (retried once if it failed). */
export interface PendingPublish {
  readonly subject: string;
  readonly data: Uint8Array;
  ack: Promise<PubAck>;
}

export type FeedState = 'running' | 'draining' | 'stopped';

export interface RestoreResult {
  readonly devices: number;
  /** Why the states were not used (absent, damaged, another model), or null. */
  readonly cold: string | null;
}

export class PartitionFeed {
  state: FeedState = 'running';
  /** Readings fed and published, not yet covered by a checkpoint (not acked). */
  held: JsMsg[] = [];
  publishes: PendingPublish[] = [];
  /** Devices this partition has put in the table. */
  readonly devices = new Set<string>();
  /** Revision of the checkpoint key we read or wrote last (0: absent). */
  revision = 0;
  stopConsuming: (() => void) | null = null;
  /** The checkpoint write in progress, if any. */
  writing: Promise<void> | null = null;
  /** Consumer delivery sequence of the last message fed (0: none since the consumer was made). */
  lastDelivery = 0;

  constructor(readonly partition: number) {}

  /** Read the partition's checkpoint and put its devices into `table`. */
  async restore(kv: ClusterKv, table: DeviceTable, model: CheckpointModel): Promise<RestoreResult> {
    const got = await kv.get(checkpointKey(this.partition));
    this.revision = got?.revision ?? 0;
    if (!got) return { devices: 0, cold: 'no checkpoint yet' };
    let devices: readonly DeviceCheckpoint[];
    try {
      const c = decodeCheckpoint(got.value, checkpointByteBound(table.maxDevices, table.stateSize));
      const why = checkpointMismatch(c, model, table.stateSize);
      if (why) return { devices: 0, cold: why };
      devices = c.devices;
    } catch (e) {
      return { devices: 0, cold: (e as Error).message };
    }
    for (const d of devices) {
      table.forget(d.device); // a stale copy from an earlier ownership
      this.devices.add(d.device);
    }
    return { devices: table.restore(devices), cold: null };
  }

  /** Stop now: nothing more fed, nothing acked (the next owner replays it), devices dropped. */
  stop(table: DeviceTable | null): void {
    this.state = 'stopped';
    this.stopConsuming?.();
    this.held = [];
    this.publishes = [];
    if (table) for (const d of this.devices) table.forget(d);
    this.devices.clear();
  }

  /**
   * Take what a checkpoint now would cover: the held readings, their publishes, and the
   * partition's device states, at this instant (between two messages).
   */
  take(snapshot: readonly DeviceCheckpoint[]): { held: JsMsg[]; publishes: PendingPublish[]; devices: DeviceCheckpoint[] } {
    const held = this.held;
    const publishes = this.publishes;
    this.held = [];
    this.publishes = [];
    return { held, publishes, devices: snapshot.filter((d) => this.devices.has(d.device)) };
  }

  /** Put back what a failed checkpoint took, ahead of what came since. */
  giveBack(t: { held: JsMsg[]; publishes: PendingPublish[] }): void {
    this.held = t.held.concat(this.held);
    this.publishes = t.publishes.concat(this.publishes);
  }

  /** Write `bytes` as the partition's checkpoint (compare-and-set); 'conflict' when someone else wrote it. */
  async write(kv: ClusterKv, bytes: Uint8Array): Promise<'ok' | 'conflict'> {
    try {
      const key = checkpointKey(this.partition);
      this.revision = this.revision === 0 ? await kv.create(key, bytes) : await kv.update(key, bytes, this.revision);
      return 'ok';
    } catch (e) {
      if (isConflict(e)) return 'conflict';
      throw e;
    }
  }
}

/** The checkpoint bytes of one partition: the same format as the local checkpoint file. */
export function partitionCheckpoint(model: CheckpointModel, stateSize: number, savedAt: number, devices: readonly DeviceCheckpoint[]): Uint8Array {
  return encodeCheckpoint({ model, stateSize, savedAt, devices });
}
