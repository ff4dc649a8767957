// What flows through the stream. Every incoming message ends as exactly one terminal
// event (prediction, dead letter or dropped), so the I/O edge can acknowledge each
// message once its outcome is published.
import type { Reading } from '../protocol/reading.js';

/** Where an event came from: an MQTT message, or a row of recorded data. */
export interface Origin {
  /** Milliseconds; the time a reading without its own `ts` is given. */
  readonly receivedAt: number;
  readonly topic?: string;
  readonly payload?: Uint8Array;
  /** Row of recorded data (`predict`). */
  readonly row?: number;
  /** Acknowledge the message to the broker; called once its outcome is published. */
  readonly ack?: () => void;
}

/** A raw message off the wire. */
export interface Incoming extends Origin {
  readonly topic: string;
  readonly payload: Uint8Array;
}

export interface ReadingEvent {
  readonly kind: 'reading';
  readonly device: string;
  readonly reading: Reading;
  readonly origin: Origin;
}

export interface PredictionEvent {
  readonly kind: 'prediction';
  readonly device: string;
  readonly reading: Reading;
  /** Model output [O], owned by this event. */
  readonly y: Float32Array;
  /** True when this reading started a fresh state (first seen, or after a gap). */
  readonly fresh: boolean;
  readonly origin: Origin;
}

export interface DeadLetterEvent {
  readonly kind: 'dead-letter';
  /** Short machine-readable reason, e.g. `invalid-json`, `no-device`. */
  readonly code: string;
  readonly message: string;
  readonly device?: string;
  readonly origin: Origin;
}

/** A reading deliberately not predicted: a duplicate or older `seq` (QoS 1 redelivers). */
export interface DroppedEvent {
  readonly kind: 'dropped';
  readonly reason: 'duplicate';
  readonly device: string;
  readonly reading: Reading;
  readonly origin: Origin;
}

export type StreamEvent = ReadingEvent | PredictionEvent | DeadLetterEvent | DroppedEvent;

/** A message to publish for an event (null topic: nothing to publish, just acknowledge). */
export interface Outgoing {
  readonly topic: string | null;
  readonly payload: Uint8Array | null;
  readonly event: StreamEvent;
}

export function deadLetter(origin: Origin, code: string, message: string, device?: string): DeadLetterEvent {
  return { kind: 'dead-letter', code, message, origin, ...(device !== undefined ? { device } : {}) };
}
