// One simulated sensor node on the wire, behaving like ESP32 firmware: its own MQTT
// client id, a retained status with a last will, reconnect with exponential backoff and
// jitter, and an outbox that buffers readings while offline (the seq counter lives in
// the plan, so it survives reconnects).
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { rngFor, type Rng } from './rng.js';

export interface NodeLog {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  debug(fields: object, msg: string): void;
}

export const silentLog: NodeLog = { info() {}, warn() {}, debug() {} };

export interface SimNodeOptions {
  readonly broker: string;
  readonly device: string;
  readonly clientId: string;
  /** Retained "online" on connect; the last will sets it "offline". */
  readonly statusTopic: string;
  readonly qos: 0 | 1;
  readonly mqttVersion: 4 | 5;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  /** Seeds the backoff jitter. */
  readonly seed: number;
  readonly username?: string;
  readonly password?: string;
  readonly log?: NodeLog;
}

interface OutMessage {
  readonly topic: string;
  readonly payload: Buffer;
}

export interface NodeStats {
  /** Messages handed to the client and confirmed (QoS 1: PUBACK; QoS 0: written). */
  sent: number;
  failed: number;
  connects: number;
  /** Connections lost or dropped on purpose. */
  disconnects: number;
}

export class SimNode {
  readonly client: MqttClient;
  readonly stats: NodeStats = { sent: 0, failed: 0, connects: 0, disconnects: 0 };
  private readonly outbox: OutMessage[] = [];
  private inflight = 0;
  private holdOffline = false; // a disconnect fault: stay away until the timer ends
  private stopping = false;
  private drops: Promise<void> = Promise.resolve();
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];
  private readonly jitter: Rng;
  private readonly log: NodeLog;
  /** Resolves on the first connection. */
  readonly connected: Promise<void>;

  constructor(private readonly options: SimNodeOptions) {
    this.log = options.log ?? silentLog;
    this.jitter = rngFor(options.seed, options.device, 'backoff');
    const clientOptions: IClientOptions = {
      clientId: options.clientId,
      clean: true,
      protocolVersion: options.mqttVersion,
      keepalive: 30,
      reconnectPeriod: 0, // our own backoff, below
      connectTimeout: 10_000,
      will: { topic: options.statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
    };
    this.client = mqtt.connect(options.broker, clientOptions);
    let resolveConnected!: () => void;
    this.connected = new Promise((r) => (resolveConnected = r));
    this.client.on('connect', () => {
      this.attempt = 0;
      this.stats.connects++;
      this.log.debug({ device: options.device, connects: this.stats.connects }, 'node connected');
      this.client.publish(options.statusTopic, 'online', { qos: 1, retain: true });
      resolveConnected();
      this.flush();
    });
    this.client.on('close', () => {
      if (this.stopping) return;
      this.stats.disconnects++;
      if (!this.holdOffline) this.scheduleReconnect(this.backoffMs());
    });
    // Connection errors (refused, reset) end in 'close', where the retry is scheduled.
    this.client.on('error', (err) => this.log.warn({ device: options.device, err: err.message }, 'node connection error'));
  }

  get device(): string {
    return this.options.device;
  }

  /** Readings waiting in the outbox or not yet confirmed. */
  get pending(): number {
    return this.outbox.length + this.inflight;
  }

  /** Queue one message; it is sent now when connected, else when the node is back. */
  publish(topic: string, payload: Uint8Array): void {
    this.outbox.push({ topic, payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength) });
    this.flush();
  }

  /**
   * A network drop: wait for what is in flight, close the socket without a DISCONNECT
   * packet (so the broker publishes the last will), stay offline `ms`, reconnect. Drops
   * run one after another: a drop planned while the node is still coming back happens
   * once it is connected, so every planned drop is one lost connection.
   */
  dropConnection(ms: number): Promise<void> {
    this.drops = this.drops.then(() => this.drop(ms));
    return this.drops;
  }

  private async drop(ms: number): Promise<void> {
    if (this.stopping) return;
    if (!this.client.connected) await new Promise<void>((r) => this.client.once('connect', () => r()));
    this.holdOffline = true;
    await this.whenIdle(false);
    // end(), not destroy(): QoS 0 packets may still sit in the socket's write buffer. If
    // the broker keeps the socket half-open, destroy it after a while.
    const stream = this.client.stream;
    const closed = new Promise<void>((r) => this.client.once('close', () => r()));
    stream.end();
    const force = setTimeout(() => stream.destroy(), 1000);
    await closed;
    clearTimeout(force);
    this.log.debug({ device: this.options.device, offlineMs: ms }, 'node offline (fault)');
    this.clearReconnect();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.holdOffline = false;
      this.reconnect();
    }, ms);
  }

  /** Resolves when the outbox is empty and everything sent is confirmed. */
  drained(): Promise<void> {
    return this.whenIdle(true);
  }

  /** Graceful end: deliver what is buffered, mark offline, DISCONNECT (no last will). */
  async stop(options: { drain?: boolean } = {}): Promise<void> {
    if (options.drain !== false) {
      await this.drops; // planned drops still happen, in order
      if (this.holdOffline) {
        // Come back early: deliver what was buffered and sign off properly.
        this.clearReconnect();
        this.holdOffline = false;
        const back = new Promise<void>((r) => this.client.once('connect', () => r()));
        this.reconnect();
        await back;
      }
      await this.drained();
    }
    this.stopping = true;
    this.clearReconnect();
    if (this.client.connected) await this.client.publishAsync(this.options.statusTopic, 'offline', { qos: 1, retain: true }).catch(() => undefined);
    await this.client.endAsync(!this.client.connected);
  }

  private flush(): void {
    if (this.holdOffline || !this.client.connected) return;
    while (this.outbox.length > 0 && this.client.connected) {
      const msg = this.outbox.shift()!;
      this.inflight++;
      this.client.publish(msg.topic, msg.payload, { qos: this.options.qos }, (err) => {
        this.inflight--;
        if (err) {
          // The connection went away under it: QoS 1 stays in mqtt.js's store and is resent
          // on reconnect; QoS 0 is lost, as it would be on a real network.
          this.stats.failed++;
          this.log.debug({ device: this.options.device, err: err.message }, 'publish failed');
        } else this.stats.sent++;
        this.checkIdle();
      });
    }
    this.checkIdle();
  }

  private whenIdle(includeOutbox: boolean): Promise<void> {
    const idle = () => this.inflight === 0 && (!includeOutbox || this.outbox.length === 0);
    if (idle()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (idle()) resolve();
        else this.idleWaiters.push(check);
      };
      this.idleWaiters.push(check);
    });
  }

  private checkIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  // min·2^attempt capped at max, times 0.5..1 (full jitter keeps a fleet from reconnecting in step).
  private backoffMs(): number {
    const { reconnectMinMs: min, reconnectMaxMs: max } = this.options;
    const d = Math.min(max, min * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(d * (0.5 + 0.5 * this.jitter()));
  }

  private scheduleReconnect(ms: number): void {
    this.clearReconnect();
    this.log.debug({ device: this.options.device, retryMs: ms }, 'node reconnecting');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.reconnect();
    }, ms);
  }

  private reconnect(): void {
    if (this.stopping || this.client.connected) return;
    // Keep the stores: QoS 1 messages not yet acknowledged are resent after the CONNACK.
    this.client.reconnect({ incomingStore: this.client.incomingStore, outgoingStore: this.client.outgoingStore });
  }

  private clearReconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }
}
