// A stand-in for mqtt.js's client behind the runtime's RuntimeClient seam: the test
// delivers PUBLISH packets and sees what the runtime published and when each message was
// acknowledged, with no broker and no real time (pair it with virtualClock()).
import { EventEmitter } from 'node:events';
import type { IClientOptions, IConnackPacket, IPublishPacket, ISubscriptionGrant } from 'mqtt';
import type { RuntimeClient, RuntimeClock } from '../../src/io/runtime/client.js';

export interface Published {
  readonly topic: string;
  readonly payload: Buffer;
  readonly retain: boolean;
}

export interface Delivery {
  /** Messages the runtime had published when this one's PUBACK was released. */
  publishedBeforeAck: number;
  acked: boolean;
  error?: Error;
}

export class FakeMqttClient extends EventEmitter implements RuntimeClient {
  connected = false;
  readonly published: Published[] = [];
  readonly subscriptions: string[][] = [];
  ended = false;
  handleMessage: RuntimeClient['handleMessage'] = (_p, done) => done();

  constructor(readonly brokerUrl: string, readonly options: IClientOptions) {
    super();
  }

  /** The broker accepted the connection (sessionPresent as given). */
  connectNow(sessionPresent = false): void {
    this.connected = true;
    this.emit('connect', { cmd: 'connack', sessionPresent, returnCode: 0 } as IConnackPacket);
  }

  dropConnection(): void {
    this.connected = false;
    this.emit('offline');
    this.emit('reconnect');
  }

  /** One incoming PUBLISH, QoS 1. */
  deliver(topic: string, payload: string | Buffer | Uint8Array, retain = false): Delivery {
    const d: Delivery = { publishedBeforeAck: -1, acked: false };
    const packet = { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain, dup: false, messageId: 1 } as IPublishPacket;
    this.handleMessage(packet, (err?: Error) => {
      d.acked = !err;
      if (err) d.error = err;
      d.publishedBeforeAck = this.published.length;
    });
    return d;
  }

  publish(topic: string, message: string | Buffer, opts: { retain?: boolean }, callback?: (err?: Error) => void): this {
    this.published.push({ topic, payload: Buffer.from(message), retain: !!opts.retain });
    callback?.();
    return this;
  }

  async publishAsync(topic: string, message: string | Buffer, opts: { retain?: boolean }): Promise<void> {
    this.publish(topic, message, opts);
  }

  subscribe(topics: string[], _opts: unknown, callback: (err: Error | null, granted?: ISubscriptionGrant[]) => void): this {
    this.subscriptions.push(topics);
    callback(null, topics.map((topic): ISubscriptionGrant => ({ topic, qos: 1 })));
    return this;
  }

  async endAsync(): Promise<void> {
    this.ended = true;
    this.connected = false;
  }

  /** Published JSON documents on topics matching `prefix`. */
  docs(prefix: string): Record<string, any>[] {
    return this.published.filter((p) => p.topic.startsWith(prefix) && p.payload.length > 0).map((p) => JSON.parse(p.payload.toString()));
  }
}

/** A clock that moves only when told; wall time starts at a fixed date. */
export function virtualClock(start = Date.UTC(2026, 11, 1)): RuntimeClock & { advance(ms: number): void } {
  let t = start;
  return { now: () => t, monotonic: () => t - start, advance: (ms) => void (t += ms) };
}

/** A runtime `connect` option that hands out one FakeMqttClient and remembers it. */
export function fakeConnect(): { connect: (url: string, o: IClientOptions) => FakeMqttClient; client: () => FakeMqttClient } {
  let made: FakeMqttClient | undefined;
  return {
    connect: (url, o) => (made = new FakeMqttClient(url, o)),
    client: () => {
      if (!made) throw new Error('the runtime has not connected yet');
      return made;
    },
  };
}
