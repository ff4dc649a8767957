// What flows through the stream. Every incoming message ends as exactly one terminal
// event (prediction, dead letter or dropped), so the I/O edge can acknowledge each
// message once its outcome is published.
import type { Model } from '../model/types.js';
import type { AnomalyResult, WindowSeqs } from '../protocol/prediction.js';
import type { Reading } from '../protocol/reading.js';
import type { StatesReason } from './model-slot.js';
import type { ProbationLimits } from './probation.js';

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
  /** True when this reading started from a zero state (a new epoch, or after a reset). */
  readonly fresh: boolean;
  /** Readings its device state has seen since its last reset, this one included (1: cold). */
  readonly steps: number;
  /** The model that predicted it (hot swap changes it between two readings). */
  readonly model: Model;
  /** With anomaly scoring on: this reading against the forecast made for it `horizon` readings earlier. */
  readonly anomaly?: AnomalyResult;
  /** A windowed model's result (issue 19): the seqs of the window's first and last readings (null: not known). */
  readonly window?: WindowSeqs;
  readonly origin: Origin;
}

export interface DeadLetterEvent {
  readonly kind: 'dead-letter';
  /** Short machine-readable reason, e.g. `invalid-json`, `late`, `out-of-range` (docs/runtime.md lists them). */
  readonly code: string;
  readonly message: string;
  readonly device?: string;
  readonly origin: Origin;
}

/**
 * A reading deliberately not predicted: `duplicate`, its `seq` was seen already (QoS 1
 * redelivers); `in-window`, a windowed model took it into the device's window, which it does
 * not end (the result comes with the reading that ends the hop).
 */
export interface DroppedEvent {
  readonly kind: 'dropped';
  readonly reason: 'duplicate' | 'in-window';
  readonly device: string;
  readonly reading: Reading;
  readonly origin: Origin;
}

/** A pushed model that passed (or failed) verification at the I/O edge (signature, hash, decode). */
export interface ModelCandidate {
  readonly model: Model;
  /** sha256 (hex) of the model bytes. */
  readonly sha256: string;
  /** Id of the key that signed it. */
  readonly keyId: string;
}

export type ModelOfferResult =
  | ({ readonly ok: true } & ModelCandidate)
  | { readonly ok: false; readonly code: string; readonly message: string };

/**
 * A pushed model, in the same ordered flow as the readings, so the swap happens between
 * two readings: those before it are predicted by the old model, those after by the new.
 */
export interface ModelOfferEvent {
  readonly kind: 'model-offer';
  readonly result: ModelOfferResult;
  readonly origin: Origin;
}

export type ModelStatus = 'accepted' | 'rejected' | 'rolled-back' | 'committed' | 'unchanged';

/** The outcome of a model offer, or a rollback / commit at the end of a probation. */
export interface ModelStatusEvent {
  readonly kind: 'model-status';
  readonly status: ModelStatus;
  /** The model this is about (absent when the offer could not be verified at all). */
  readonly name?: string;
  readonly version?: number;
  readonly sha256?: string;
  readonly keyId?: string;
  /** Machine-readable reason for rejected / rolled-back, e.g. `not-newer`, `bad-signature`. */
  readonly code?: string;
  readonly reason?: string;
  /** The model serving after this event. */
  /** sha256 (hex) of its bytes, when known. */
  readonly running: { readonly name: string; readonly version: number; readonly sha256?: string };
  /** Accepted / rolled-back: whether device states were kept or reset. */
  readonly statesKept?: boolean;
  /** Accepted: why states were kept or reset (kept only when the model continues the running one). */
  readonly statesReason?: StatesReason;
  /** Accepted: the probation the model is on (absent when committed at once). */
  readonly probation?: ProbationLimits;
  /** Accepted: a model still on probation that this one replaces before it committed. */
  readonly supersedes?: { readonly name: string; readonly version: number };
  /**
   * Rolled-back: predictions the failed model published during its probation, before the
   * failing reading (each passed the plausibility check; the failing one was re-predicted).
   */
  readonly publishedOnProbation?: number;
  readonly origin: Origin;
}

export type StreamEvent = ReadingEvent | PredictionEvent | DeadLetterEvent | DroppedEvent | ModelOfferEvent | ModelStatusEvent;

/** Where a stream operator's parts send the events they produce (the subscriber's `next`). */
export type Emit = (e: StreamEvent) => void;

/** A message to publish for an event (null topic: nothing to publish, just acknowledge). */
export interface Outgoing {
  readonly topic: string | null;
  readonly payload: Uint8Array | null;
  /** Publish retained (model status). */
  readonly retain?: boolean;
  readonly event: StreamEvent;
}

export function deadLetter(origin: Origin, code: string, message: string, device?: string): DeadLetterEvent {
  return { kind: 'dead-letter', code, message, origin, ...(device !== undefined ? { device } : {}) };
}
