// Message intake: every PUBLISH becomes one Incoming in the ordered flow, and its PUBACK
// waits until the flow has handed the message's outcome (prediction, dead letter, model
// status) to the client. mqtt.js defers the PUBACK until `handleMessage`'s callback runs;
// the outcome's own PUBLISH is written to the same socket first and TCP keeps the order, so
// the broker never sees the ack without the outcome. We do not wait for the outcome's own
// PUBACK: mqtt.js processes incoming packets one at a time, so that PUBACK would queue
// behind the message whose callback waits for it.
import type { IPublishPacket } from 'mqtt';
import type { Incoming, ModelOfferEvent, ModelOfferResult } from '../../stream/events.js';
import type { RuntimeClient } from './client.js';

/**
 * One MQTT message in the flow; `ack()` releases its PUBACK (once). A class rather than an
 * object with an `ack` closure: this is allocated per reading.
 */
export class MqttOrigin implements Incoming {
  private done: ((err?: Error) => void) | null;

  constructor(readonly receivedAt: number, readonly topic: string, readonly payload: Uint8Array, done: (err?: Error) => void, readonly arrivedAt?: number) {
    this.done = done;
  }

  ack(): void {
    const done = this.done;
    this.done = null;
    done?.();
  }
}

export interface IntakeOptions {
  /** Topic of pushed model envelopes, or none. */
  readonly modelTopic?: string;
  /** Verifies a model message's bytes (size bound, signature, hash, decode). */
  readonly verifyModel: (payload: Uint8Array) => ModelOfferResult;
  readonly now: () => number;
  /** Monotonic clock: each message's arrival time, for the latency histogram. */
  readonly monotonic?: () => number;
  /** True once stopping: new messages are refused (no PUBACK), so the broker redelivers them. */
  readonly stopping: () => boolean;
}

/** Installs the handler that feeds `next` with readings and pushed models. */
export function installIntake(client: RuntimeClient, next: (e: Incoming | ModelOfferEvent) => void, options: IntakeOptions): void {
  const { modelTopic, verifyModel, now, monotonic, stopping } = options;
  client.handleMessage = (packet: IPublishPacket, done: (err?: Error) => void) => {
    if (stopping()) {
      done(new Error('shutting down'));
      return;
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const origin = new MqttOrigin(now(), packet.topic, payload, done, monotonic?.());
    if (modelTopic !== undefined && packet.topic === modelTopic) {
      if (payload.length === 0) return origin.ack(); // a cleared retained message: nothing pushed
      next({ kind: 'model-offer', result: verifyModel(payload), origin });
    } else next(origin);
  };
}
