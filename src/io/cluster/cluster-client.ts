// `edge-rnn run --cluster`: the runtime's client seam (src/io/runtime/client.ts) over a
// NATS JetStream cluster instead of one MQTT broker, so the same runtime (intake, the
// inference line, publisher, status, pushed models) serves the partitions this instance
// owns. What it maps:
//   subscribe(reading topics)  -> join the members, own partitions (partition-owner.ts),
//                                 one durable consumer per owned partition (partition-runner.ts)
//   handleMessage(packet, done)-> a reading of part.<p>.sensors.<dev>.reading, seen as
//                                 sensors/<dev>/reading; `done` holds its ack for the checkpoint
//   subscribe(model topic)     -> the last pushed model of models.<name> (a stream keeping
//                                 one message per subject: retained), then every new push
//   publish(predictions/...)   -> JetStream publish, PubAck awaited before the checkpoint
//   publish(anything else)     -> core NATS publish (status, dead letters, model status)
// An MQTT client of the NATS MQTT listener sees the same topics and payloads.
import { EventEmitter } from 'node:events';
import type { IClientOptions, IClientPublishOptions, IClientSubscribeOptions, IConnackPacket, IPublishPacket, ISubscriptionGrant } from 'mqtt';
import { connect, DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JsMsg, type NatsConnection } from 'nats';
import type { DeviceTable } from '../../stream/device-table.js';
import type { Logger } from '../logger.js';
import type { RuntimeClient } from '../runtime/client.js';
import type { CheckpointModel } from '../state-checkpoint.js';
import { natsKv } from './kv.js';
import { Leases } from './leases.js';
import { memberKey, Membership } from './membership.js';
import type { PartitionFeed, PendingPublish } from './partition-feed.js';
import { PartitionOwner } from './partition-owner.js';
import { newClusterCounters, PartitionRunner, type ClusterCounters } from './partition-runner.js';
import { ClusterSetupError, ensureClusterResources } from './resources.js';
import { LEASES_BUCKET, MEMBERS_BUCKET, MODELS_STREAM, parsePartitioned, STATES_BUCKET, subjectOf } from './subjects.js';

export interface ClusterSettings {
  /** nats:// URLs of the cluster's nodes (any subset; the client learns the rest). */
  readonly servers: readonly string[];
  readonly instance: string;
  /** Partitions of the server mapping (every instance and the mapping agree). */
  readonly partitions: number;
  readonly leaseTtlMs: number;
  readonly checkpointIntervalMs: number;
  /** Stream and bucket replicas when this instance creates them. */
  readonly replicas: number;
  readonly log: Logger;
}

const READING_TOPIC = 'sensors/+/reading';

/** `f` again after a transient failure (time-outs while the cluster elects leaders), for up to a minute; a setup mismatch is final. */
async function retryTransient<T>(f: () => Promise<T>, log: Logger): Promise<T> {
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      if (e instanceof ClusterSetupError || Date.now() > until) throw e;
      log.info({ err: (e as Error).message }, 'cluster: setup not through yet; retrying');
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
const monotonic = () => performance.now();

export class ClusterClient extends EventEmitter implements RuntimeClient {
  connected = false;
  readonly options: IClientOptions = { reconnectPeriod: 0 };
  handleMessage: RuntimeClient['handleMessage'] = (_p, done) => done();
  readonly counters: ClusterCounters = newClusterCounters();
  readonly member: string;
  private nc: NatsConnection | null = null;
  private js: JetStreamClient | null = null;
  private owner: PartitionOwner | null = null;
  private runner: PartitionRunner | null = null;
  private table: DeviceTable | null = null;
  private model: () => CheckpointModel = () => ({ name: '?', version: 0 });
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private models: ConsumerMessages | null = null;
  /** The prediction publish just made: the ack that follows it is its reading's (publisher: publish, then ack). */
  private lastPublish: PendingPublish | null = null;
  private booted: Promise<void>;

  constructor(private readonly s: ClusterSettings) {
    super();
    this.member = memberKey(s.instance);
    this.booted = this.boot().catch((e: Error) => {
      s.log.error({ err: e.message }, `cluster: ${e.message}`);
      this.emit('error', Object.assign(new Error(e.message), { code: 0x87 })); // fatal: the runtime stops
    });
  }

  /** The runtime's device table (its onTable hook) and the model serving now (its checkpoints name it). */
  attach(table: DeviceTable, model: () => CheckpointModel): void {
    this.table = table;
    this.model = model;
  }

  private async boot(): Promise<void> {
    const s = this.s;
    const nc = await connect({ servers: [...s.servers], name: `edge-rnn-${this.member}`, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 10_000 });
    this.nc = nc;
    // Setup with a patient timeout (stream creation is a cluster-wide vote, and every
    // instance may be doing it at once); then leases, heartbeats and checkpoints with a
    // short one, so a renewal that cannot get through fails well before its deadline.
    const setupJs = nc.jetstream({ timeout: 10_000 });
    const setupJsm = await nc.jetstreamManager({ timeout: 10_000, checkAPI: false });
    await retryTransient(() => ensureClusterResources(setupJs, setupJsm, { partitions: s.partitions, leaseTtlMs: s.leaseTtlMs, replicas: s.replicas }), s.log);
    const shortMs = Math.max(1000, Math.floor(s.leaseTtlMs / 4));
    const js = nc.jetstream({ timeout: shortMs });
    this.js = js;
    const jsm = await nc.jetstreamManager({ timeout: 10_000, checkAPI: false });
    const shortJsm = await nc.jetstreamManager({ timeout: shortMs, checkAPI: false });
    const bind = (name: string) => js.views.kv(name, { bindOnly: true });
    const buckets = { members: await bind(MEMBERS_BUCKET), leases: await bind(LEASES_BUCKET), states: await bind(STATES_BUCKET) };
    const leases = new Leases(natsKv(buckets.leases, LEASES_BUCKET, shortJsm), this.member, { now: monotonic }, s.leaseTtlMs);
    this.runner = new PartitionRunner({
      nc, js, jsm, states: natsKv(buckets.states, STATES_BUCKET, shortJsm), table: () => this.table, model: () => this.model(),
      feed: (feed, msg) => this.feed(feed, msg), onConflict: (p) => this.owner?.lose(p), holds: (p) => leases.holds(p),
      ackWaitMs: Math.max(30_000, 10 * s.checkpointIntervalMs), log: s.log, counters: this.counters, now: () => Date.now(),
    });
    this.owner = new PartitionOwner({
      partitions: s.partitions, membership: new Membership(natsKv(buckets.members, MEMBERS_BUCKET, shortJsm), this.member), leases, hooks: this.runner,
      now: monotonic, settleMs: s.leaseTtlMs / 4,
      onError: (what, err) => s.log.warn({ what, err: (err as Error).message }, `cluster: ${what} failed`),
    });
    void this.watchStatus(nc);
    this.connected = true;
    this.emit('connect', { cmd: 'connack', sessionPresent: true, returnCode: 0 } as IConnackPacket);
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const st of nc.status()) {
      if (st.type === 'disconnect') {
        this.connected = false;
        this.emit('offline');
      } else if (st.type === 'reconnect') {
        this.connected = true;
        this.s.log.info({ server: st.data }, 'cluster: reconnected');
      }
    }
  }

  private feed(feed: PartitionFeed, msg: JsMsg): void {
    const parsed = parsePartitioned(msg.subject);
    if (!parsed) return msg.term(); // not a reading subject: never redeliver it
    const device = parsed.topic.split('/')[1];
    if (device) feed.devices.add(device);
    this.lastPublish = null;
    const packet = { cmd: 'publish', topic: parsed.topic, payload: Buffer.from(msg.data.buffer, msg.data.byteOffset, msg.data.byteLength), qos: 1, dup: false, retain: false } as IPublishPacket;
    this.handleMessage(packet, (err) => {
      if (err || feed.state === 'stopped') return; // stopping: left unacked, redelivered to the next owner
      feed.held.push(msg);
      if (this.lastPublish) feed.publishes.push(this.lastPublish);
      this.lastPublish = null;
    });
  }

  subscribe(topics: string[], _opts: IClientSubscribeOptions, callback: (err: Error | null, granted?: ISubscriptionGrant[]) => void): this {
    void this.booted.then(async () => {
      const readings = topics.filter((t) => t.startsWith('sensors/'));
      const bad = readings.filter((t) => t !== READING_TOPIC);
      if (bad.length) throw new Error(`cluster mode reads ${READING_TOPIC} (the server mapping partitions it); ${bad.join(', ')} is not partitioned`);
      const modelTopic = topics.find((t) => t.startsWith('models/'));
      if (modelTopic && !this.models) await this.watchModels(modelTopic);
      if (readings.length && this.timers.length === 0) this.startOwning();
      callback(null, topics.map((topic) => ({ topic, qos: 1 })));
    }).catch((e: Error) => callback(e));
    return this;
  }

  private startOwning(): void {
    const { leaseTtlMs, checkpointIntervalMs } = this.s;
    const every = (ms: number, f: () => void) => {
      const t = setInterval(f, ms);
      this.timers.push(t);
    };
    void this.owner!.tick();
    every(leaseTtlMs / 4, () => void this.owner!.tick());
    every(Math.max(50, leaseTtlMs / 20), () => this.owner!.checkDeadlines());
    every(checkpointIntervalMs, () => void this.runner!.checkpointAll());
  }

  /**
   * The last pushed model (the stream keeps one per subject), then every new one, in the
   * runtime's ordered flow. The filter is a string: nats.js sends an array as
   * filter_subjects, which nats-server 2.9 does not know (the consumer never starts).
   */
  private async watchModels(topic: string): Promise<void> {
    const consumer = await this.js!.consumers.get(MODELS_STREAM, { filterSubjects: subjectOf(topic), deliver_policy: DeliverPolicy.LastPerSubject });
    // Short pulls: an ordered consumer has one replica; if its node dies it is remade within seconds.
    this.models = await consumer.consume({
      expires: 5000,
      callback: (m) => this.handleMessage({ cmd: 'publish', topic, payload: Buffer.from(m.data), qos: 1, dup: false, retain: true } as IPublishPacket, () => undefined),
    });
  }

  publish(topic: string, message: string | Buffer, _opts: IClientPublishOptions, callback?: (err?: Error) => void): this {
    const nc = this.nc;
    const data = typeof message === 'string' ? Buffer.from(message) : message;
    if (!nc || nc.isClosed()) {
      callback?.(new Error('not connected to the cluster'));
      return this;
    }
    const subject = subjectOf(topic);
    if (subject.startsWith('predictions.')) {
      const ack = this.js!.publish(subject, data);
      ack.then(() => callback?.(), (e: Error) => callback?.(e));
      this.lastPublish = { subject, data, ack };
    } else {
      nc.publish(subject, data);
      callback?.();
    }
    return this;
  }

  async publishAsync(topic: string, message: string | Buffer, opts: IClientPublishOptions): Promise<unknown> {
    return new Promise<void>((resolve, reject) => this.publish(topic, message, opts, (e) => (e ? reject(e) : resolve())));
  }

  /**
   * Clean stop: every partition released (last checkpoint, acks, lease back), then drain.
   * `force` (the runtime's second try, after 5 s): close now; what was not acked is replayed
   * by the next owners.
   */
  async endAsync(force = false): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    if (!force) {
      await this.booted;
      this.models?.stop();
      await this.owner?.stop();
      const drained = await Promise.race([this.nc?.drain().then(() => true, () => false), new Promise<false>((r) => setTimeout(() => r(false), 3000).unref())]);
      if (drained) {
        this.connected = false;
        return;
      }
    }
    await this.nc?.close().catch(() => undefined);
    this.connected = false;
  }
}
