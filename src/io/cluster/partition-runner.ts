// The I/O behind the partition owner's hooks: on start, restore the partition's states
// and (re)create its durable consumer at the ack floor; every checkpoint period, write
// each busy partition's checkpoint and ack what it covers (partition-feed.ts); on
// release, a last checkpoint and acks; on loss, stop at once.
//
// Why the consumer is recreated at its ack floor on every takeover: readings the last
// owner had received but not acked would otherwise come back only after ack_wait (30 s
// or more); a consumer created at ack floor + 1 delivers them at once. The same happens
// when a delivery goes missing (the node we were connected to died with messages in
// flight: the next message's delivery sequence skips): the server would redeliver the
// lost ones after ack_wait, *behind* newer readings of the same devices, where the
// sequence rules can only call them late. Recreated at the ack floor, they come in order;
// the readings fed since the floor come again as duplicates, which the rules drop.
import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg, type NatsConnection } from 'nats';
import type { DeviceTable } from '../../stream/device-table.js';
import type { Logger } from '../logger.js';
import type { CheckpointModel } from '../state-checkpoint.js';
import type { ClusterKv } from './kv.js';
import { PartitionFeed, partitionCheckpoint, type FeedState, type PendingPublish } from './partition-feed.js';
import type { PartitionHooks } from './partition-owner.js';
import { consumerName, partitionFilter, READINGS_STREAM } from './subjects.js';

export interface ClusterCounters {
  partitionsStarted: number;
  partitionsReleased: number;
  partitionsLost: number;
  devicesRestored: number;
  coldPartitions: number;
  checkpointWrites: number;
  checkpointConflicts: number;
  checkpointErrors: number;
  /** Readings acked (each after the checkpoint that covers it). */
  acked: number;
  publishRetries: number;
  /** Consumers recreated at their ack floor after a missing delivery. */
  resyncs: number;
}

export const newClusterCounters = (): ClusterCounters => ({
  partitionsStarted: 0, partitionsReleased: 0, partitionsLost: 0, devicesRestored: 0, coldPartitions: 0,
  checkpointWrites: 0, checkpointConflicts: 0, checkpointErrors: 0, acked: 0, publishRetries: 0, resyncs: 0,
});

export interface RunnerOptions {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly states: ClusterKv;
  readonly table: () => DeviceTable | null;
  readonly model: () => CheckpointModel;
  /** Feeds one reading to the runtime; `done` runs once its outcome is handed to the client. */
  readonly feed: (feed: PartitionFeed, msg: JsMsg) => void;
  /** A checkpoint compare-and-set failed: someone else owns the partition now. */
  readonly onConflict: (partition: number) => void;
  readonly holds: (partition: number) => boolean;
  readonly ackWaitMs: number;
  readonly log: Logger;
  readonly counters: ClusterCounters;
  readonly now: () => number;
}

const NS_PER_MS = 1_000_000;
/** Readings a partition may have in flight unacked (a checkpoint period's worth, with room). */
const MAX_ACK_PENDING = 50_000;

export class PartitionRunner implements PartitionHooks {
  readonly feeds = new Map<number, PartitionFeed>();

  constructor(private readonly o: RunnerOptions) {}

  async start(p: number): Promise<void> {
    const { log, counters } = this.o;
    const table = this.o.table();
    if (!table) throw new Error('the runtime has no device table yet');
    const feed = new PartitionFeed(p);
    feed.state = 'stopped'; // nothing is fed until the consumer is ready
    this.feeds.set(p, feed);
    const restored = await feed.restore(this.o.states, table, this.o.model());
    counters.devicesRestored += restored.devices;
    if (restored.cold) counters.coldPartitions++;
    const start = await this.consumeFrom(feed);
    if ((feed.state as FeedState) !== 'running') return;
    counters.partitionsStarted++;
    log.info({ partition: p, restored: restored.devices, cold: restored.cold, fromStreamSeq: start }, `partition ${p}: serving (${restored.devices} device states restored${restored.cold ? `; cold: ${restored.cold}` : ''})`);
  }

  /** (Re)creates the partition's durable consumer at its ack floor + 1 and consumes it; returns that stream sequence. */
  private async consumeFrom(feed: PartitionFeed): Promise<number> {
    const { jsm, js } = this.o;
    const p = feed.partition;
    let start = 1;
    try {
      const info = await jsm.consumers.info(READINGS_STREAM, consumerName(p));
      start = info.ack_floor.stream_seq + 1;
      await jsm.consumers.delete(READINGS_STREAM, consumerName(p));
    } catch (e) {
      if (!/consumer not found/i.test(String((e as Error).message))) throw e;
    }
    await jsm.consumers.add(READINGS_STREAM, {
      durable_name: consumerName(p), filter_subject: partitionFilter(p),
      ack_policy: AckPolicy.Explicit, ack_wait: this.o.ackWaitMs * NS_PER_MS, max_ack_pending: MAX_ACK_PENDING, max_deliver: -1,
      ...(start > 1 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start } : { deliver_policy: DeliverPolicy.All }),
    });
    if (this.feeds.get(p) !== feed || !this.o.holds(p)) return start; // lost meanwhile
    const consumer = await js.consumers.get(READINGS_STREAM, consumerName(p));
    feed.state = 'running';
    feed.lastDelivery = 0;
    // Short pulls: after a consumer leader moves (node crash) a lost pull is noticed within seconds.
    const messages = await consumer.consume({ max_messages: 1000, expires: 5000, callback: (m) => this.deliver(feed, m) });
    feed.stopConsuming = () => messages.stop();
    if (feed.state !== 'running') messages.stop();
    return start;
  }

  private deliver(feed: PartitionFeed, m: JsMsg): void {
    if (feed.state !== 'running') return;
    const d = m.info.deliverySequence;
    if (feed.lastDelivery > 0 && d <= feed.lastDelivery) return; // the same delivery again (a consumer leader change): fed already
    if (feed.lastDelivery > 0 && d !== feed.lastDelivery + 1) return this.resync(feed, d);
    feed.lastDelivery = d;
    this.o.feed(feed, m);
  }

  /** A delivery went missing: consume again from the ack floor, so the lost readings come in order. */
  private resync(feed: PartitionFeed, got: number): void {
    const p = feed.partition;
    this.o.log.warn({ partition: p, expected: feed.lastDelivery + 1, got }, `partition ${p}: a delivery went missing; consuming again from the ack floor`);
    this.o.counters.resyncs++;
    feed.state = 'stopped';
    feed.stopConsuming?.();
    const retry = (): void => {
      if (this.feeds.get(p) !== feed) return;
      this.consumeFrom(feed).catch((e: Error) => {
        this.o.log.warn({ partition: p, err: e.message }, `partition ${p}: could not consume again; retrying`);
        setTimeout(retry, 500);
      });
    };
    retry();
  }

  async release(p: number): Promise<void> {
    const feed = this.feeds.get(p);
    if (!feed) return;
    feed.state = 'draining';
    feed.stopConsuming?.();
    await feed.writing;
    await this.checkpoint(feed);
    feed.stop(this.o.table());
    this.feeds.delete(p);
    this.o.counters.partitionsReleased++;
    this.o.log.info({ partition: p }, `partition ${p}: released to its new owner`);
  }

  lost(p: number): void {
    const feed = this.feeds.get(p);
    if (!feed) return;
    feed.stop(this.o.table());
    this.feeds.delete(p);
    this.o.counters.partitionsLost++;
    this.o.log.warn({ partition: p }, `partition ${p}: lease lost, stopped (its unacked readings are replayed by the next owner)`);
  }

  /** One checkpoint round over every partition with readings to cover. */
  async checkpointAll(): Promise<void> {
    const busy = [...this.feeds.values()].filter((f) => f.state !== 'stopped' && f.held.length > 0 && !f.writing);
    await Promise.all(busy.map((f) => this.checkpoint(f)));
  }

  private checkpoint(feed: PartitionFeed): Promise<void> {
    const table = this.o.table();
    if (!table || feed.state === 'stopped' || feed.held.length === 0) return Promise.resolve();
    const taken = feed.take(table.snapshot());
    const bytes = partitionCheckpoint(this.o.model(), table.stateSize, this.o.now(), taken.devices);
    const run = this.cover(feed, taken, bytes).finally(() => (feed.writing = null));
    feed.writing = run;
    return run;
  }

  private async cover(feed: PartitionFeed, taken: { held: JsMsg[]; publishes: PendingPublish[] }, bytes: Uint8Array): Promise<void> {
    const { counters, log } = this.o;
    const p = feed.partition;
    try {
      await this.confirm(taken.publishes);
      const r = await feed.write(this.o.states, bytes);
      if (r === 'conflict') {
        counters.checkpointConflicts++;
        log.warn({ partition: p }, `partition ${p}: another instance wrote its checkpoint; stopping it here`);
        this.o.onConflict(p);
        return;
      }
      counters.checkpointWrites++;
      // Ack only while the lease is still ours (its local deadline comes before anyone else can take it).
      if (feed.state === 'stopped' || !this.o.holds(p)) return;
      for (const m of taken.held) m.ack();
      counters.acked += taken.held.length;
    } catch (e) {
      counters.checkpointErrors++;
      log.warn({ partition: p, err: (e as Error).message }, `partition ${p}: checkpoint not written; its readings stay unacked until the next one`);
      if (feed.state !== 'stopped') feed.giveBack(taken);
    }
  }

  /** Every publish's PubAck; a failed one is published again once (a duplicate at worst). */
  private async confirm(publishes: PendingPublish[]): Promise<void> {
    const results = await Promise.allSettled(publishes.map((x) => x.ack));
    const failed = publishes.filter((_, i) => results[i].status === 'rejected');
    if (failed.length === 0) return;
    this.o.counters.publishRetries += failed.length;
    for (const f of failed) f.ack = this.o.js.publish(f.subject, f.data);
    await Promise.all(failed.map((f) => f.ack)); // still failing: the checkpoint waits for the next round
  }
}
