// What `startRuntime` takes and gives: its options (broker, topics, reading rules, model
// push, state) and the handle of a running runtime.
import type { KeyObject } from 'node:crypto';
import type { DeviceTable } from '../../stream/device-table.js';
import type { StreamCounters } from '../../stream/counters.js';
import type { Outgoing } from '../../stream/events.js';
import type { InferenceLineOptions } from '../../stream/inference-line.js';
import type { ModelRef } from '../../stream/model-lifecycle.js';
import type { ProbationLimits } from '../../stream/probation.js';
import type { Logger } from '../logger.js';
import type { ModelStore } from '../model-store.js';
import type { BrokerAuth } from '../mqtt-connect.js';
import type { CheckpointCounters } from './checkpointer.js';
import type { ConnectClient, RuntimeClient, RuntimeClock } from './client.js';

/** The stream's per-reading rules (src/stream): size and id bounds, device cap, sequence rules, input guard, anomaly scores. */
export type ReadingRules = Pick<InferenceLineOptions, 'maxBytes' | 'maxDeviceIdBytes' | 'maxDevices' | 'resetAfterMs' | 'seqWindow' | 'maxSeqJump' | 'guardZ' | 'guardPolicy' | 'anomaly'>;

export interface RuntimeOptions extends BrokerAuth, ReadingRules {
  /** mqtt://, mqtts://, ws://, wss:// URL. */
  readonly broker: string;
  readonly instance?: string;
  /** Fixed, so the broker keeps this runtime's session across restarts. */
  readonly clientId?: string;
  readonly topics?: readonly string[];
  readonly predictionTopic?: string;
  readonly deadLetterTopic?: string;
  readonly statusTopic?: string;
  /** MQTT 5: seconds the broker keeps the session after a disconnect. */
  readonly sessionExpiryS?: number;
  /** 0: no health lines. */
  readonly healthIntervalMs?: number;
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  readonly keepaliveS?: number;
  readonly logger?: Logger;
  /** Every outgoing message, after it was handed to the client (src/io/observe counts and charts them). */
  readonly onOutgoing?: (out: Outgoing) => void;
  /** Tests and src/io/observe: the device table of the live subscription. */
  readonly onTable?: (table: DeviceTable) => void;
  /** Topic of pushed model envelopes (no wildcards); none is subscribed without it. */
  readonly modelTopic?: string;
  /** Largest pushed-model message, refused before decoding beyond it (default DEFAULT_ENVELOPE_MAX_BYTES). */
  readonly modelMaxBytes?: number;
  /** Public keys (by key id) a pushed model must be signed with; none: every push is refused. */
  readonly trusted?: ReadonlyMap<string, KeyObject>;
  /** Accept pushed versions not newer than the running one (development only). */
  readonly allowDowngrade?: boolean;
  /** Probation of a swapped-in model (src/stream/probation.ts); `minReadings: 0`: none. */
  readonly probation?: Partial<ProbationLimits>;
  /** Keep device states over a swap whenever the recurrent shapes match (default: only when the model continues the running one). */
  readonly keepStatesOnSameShape?: boolean;
  /** Persists every model lifecycle transition (and, with a folder, the committed envelopes). */
  readonly modelStore?: ModelStore;
  /** sha256 (hex) of the starting model's bytes: a redelivery of it is no news. */
  readonly modelSha256?: string;
  /** Retained model status (accepted / rejected / rolled-back / committed) topic template. */
  readonly modelStatusTopic?: string;
  /** Folder of the device state checkpoint (src/io/state-checkpoint.ts); none: states live in memory only. */
  readonly stateDir?: string;
  /** Period of checkpoint writes (also written at a clean stop); 0: only at stop. */
  readonly checkpointIntervalMs?: number;
  /** Tests: a fake client instead of mqtt.js. */
  readonly connect?: ConnectClient;
  /** Tests: a virtual clock. */
  readonly clock?: RuntimeClock;
}

export interface Runtime {
  readonly counters: StreamCounters;
  /** State checkpoint reads and writes (all zero without a state folder). */
  readonly checkpoints: CheckpointCounters;
  readonly client: RuntimeClient;
  readonly clientId: string;
  readonly statusTopic: string;
  /** The model serving now (changes with pushes and rollbacks). */
  model(): RunningModel;
  /** Resolves once connected and subscribed the first time. */
  readonly ready: Promise<void>;
  /** Resolves when stopped; rejects when the broker refuses the connection for good. */
  readonly closed: Promise<void>;
  /** Graceful stop: no new intake, finish in-flight steps, publish offline status, disconnect. */
  stop(): Promise<void>;
}

/** The model serving now: the lifecycle's reference to it (src/stream/model-lifecycle.ts). */
export type RunningModel = ModelRef;
