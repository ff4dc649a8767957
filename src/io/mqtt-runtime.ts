// The MQTT edge of `edge-rnn run`: readings in, predictions out, through the shared
// inference line (src/stream). QoS 1 both ways and a persistent session (fixed client
// id, clean: false, MQTT 5 session expiry) so readings published while the runtime is
// down arrive when it returns. No reading is lost on a crash: a reading's PUBACK is sent
// only after its outcome has been handed to the client (src/io/runtime/intake.ts).
//
// This file wires the pieces, each in a file of its own under src/io/runtime/: the client
// seam (client.ts), intake with its deferred ack (intake.ts), connection and subscription
// (connection.ts), pushed-model verification (model-verifier.ts) and the record of model
// decisions (model-status.ts). Pushed models take their place in the one ordered flow;
// the stream decides and swaps between two readings (src/stream/model-slot.ts).
import type { KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import type { IClientOptions } from 'mqtt';
import { Subject, type Subscription } from 'rxjs';
import type { Model } from '../model/types.js';
import { DEFAULT_MAX_BYTES } from '../protocol/reading.js';
import { fillTopic } from '../protocol/topic.js';
import { createSession } from '../runtime/session.js';
import { createCounters, type StreamCounters } from '../stream/counters.js';
import type { DeviceTable } from '../stream/device-table.js';
import type { Incoming, ModelOfferEvent, Outgoing } from '../stream/events.js';
import { inferenceLine, type InferenceLineOptions } from '../stream/inference-line.js';
import type { ProbationLimits } from '../stream/probation.js';
import { formatHealth, healthMeter } from './health.js';
import { silentLogger, type Logger } from './logger.js';
import type { ModelStore } from './model-store.js';
import { DEFAULT_ENVELOPE_MAX_BYTES } from './model-envelope.js';
import { authOptions, maximumPacketSizeProperty, plaintextCredentialsWarning, type BrokerAuth } from './mqtt-connect.js';
import { DEFAULTS } from './run-config.js';
import { connectMqtt, systemClock, type ConnectClient, type RuntimeClient, type RuntimeClock } from './runtime/client.js';
import { checkpointer, type CheckpointCounters } from './runtime/checkpointer.js';
import { BrokerRefusedError, manageConnection } from './runtime/connection.js';
import { installIntake } from './runtime/intake.js';
import { modelStatusRecorder } from './runtime/model-status.js';
import { modelVerifier } from './runtime/model-verifier.js';

export { BrokerRefusedError } from './runtime/connection.js';

/** The stream's per-reading rules (src/stream): size and id bounds, device cap, sequence rules, input guard. */
export type ReadingRules = Pick<InferenceLineOptions, 'maxBytes' | 'maxDeviceIdBytes' | 'maxDevices' | 'resetAfterMs' | 'seqWindow' | 'maxSeqJump' | 'guardZ' | 'guardPolicy'>;

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
  /** Tests: the device table of the live subscription. */
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

export interface RunningModel {
  readonly name: string;
  readonly version: number;
  readonly sha256?: string;
}

// Publish options, shared: mqtt.js copies them, and building them per message is garbage.
const PUBLISH_QOS1 = { qos: 1, retain: false } as const;
const PUBLISH_QOS1_RETAINED = { qos: 1, retain: true } as const;

// mqtt.js logs through `debug` several times per packet even when nobody listens; those
// calls are a measurable share of the runtime's time under load. With DEBUG set (e.g.
// DEBUG=mqttjs*) its logging is left as it was.
const mqttLog = process.env.DEBUG ? {} : { log: () => undefined };

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(undefined), ms);
    p.then((v) => (clearTimeout(t), resolve(v)), (e) => (clearTimeout(t), reject(e)));
  });
}

/** A promise with its resolvers (Promise.withResolvers needs Node 22). */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

interface Identity {
  readonly instance: string;
  readonly clientId: string;
  readonly statusTopic: string;
  readonly version: 4 | 5;
}

function identityOf(options: RuntimeOptions): Identity {
  const instance = options.instance ?? hostname();
  return {
    instance,
    clientId: options.clientId ?? `edge-rnn-${instance}`,
    statusTopic: fillTopic(options.statusTopic ?? DEFAULTS.statusTopic, { instance }),
    version: options.mqttVersion ?? DEFAULTS.mqttVersion,
  };
}

function clientOptionsFor(options: RuntimeOptions, id: Identity, offlineStatus: string): IClientOptions {
  return {
    clientId: id.clientId,
    clean: false,
    protocolVersion: id.version,
    keepalive: options.keepaliveS ?? DEFAULTS.keepaliveS,
    reconnectPeriod: options.reconnectMinMs ?? DEFAULTS.reconnectMinMs,
    connectTimeout: 10_000,
    resubscribe: false, // we subscribe on every connect ourselves
    will: { topic: id.statusTopic, payload: Buffer.from(offlineStatus), qos: 1, retain: true },
    // MQTT 5: the broker keeps our session this long, and never sends us a packet larger
    // than we can take (a reading, or a pushed model when a model topic is subscribed).
    ...(id.version === 5 ? { properties: {
      sessionExpiryInterval: options.sessionExpiryS ?? DEFAULTS.sessionExpiryS,
      ...maximumPacketSizeProperty({
        readingMaxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
        ...(options.modelTopic !== undefined ? { modelMaxBytes: options.modelMaxBytes ?? DEFAULT_ENVELOPE_MAX_BYTES } : {}),
      }, 5),
    } } : {}),
    ...authOptions({ ...options, mqttVersion: id.version }),
    ...mqttLog,
  };
}

function readingRulesOf(o: ReadingRules): ReadingRules {
  const { maxBytes, maxDeviceIdBytes, maxDevices, resetAfterMs, seqWindow, maxSeqJump, guardZ, guardPolicy } = o;
  return { maxBytes, maxDeviceIdBytes, maxDevices, resetAfterMs, seqWindow, maxSeqJump, guardZ, guardPolicy };
}

/** Hands each outgoing message to the client, then releases the PUBACK of the message behind it. */
function publisher(client: RuntimeClient, log: Logger): (out: Outgoing) => void {
  return (out) => {
    if (out.topic !== null && out.payload !== null) {
      const p = out.payload;
      const bytes = Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
      client.publish(out.topic, bytes, out.retain ? PUBLISH_QOS1_RETAINED : PUBLISH_QOS1, (err) => {
        if (err) log.warn({ err: err.message, topic: out.topic }, 'publish failed; it stays queued in the session');
      });
      if (out.event.kind === 'dead-letter') log.debug({ reason: out.event.code, topic: out.event.origin.topic }, out.event.message);
    }
    out.event.origin.ack?.();
  };
}

function startHealthLines(counters: StreamCounters, clock: RuntimeClock, intervalMs: number, log: Logger): { stop(): void; last(): ReturnType<ReturnType<typeof healthMeter>> } {
  const meter = healthMeter(counters, () => clock.monotonic());
  const timer = intervalMs > 0 ? setInterval(() => {
    const h = meter();
    log.info({ health: h }, formatHealth(h));
  }, intervalMs) : null;
  timer?.unref();
  return { stop: () => timer && clearInterval(timer), last: meter };
}

export function startRuntime(model: Model, options: RuntimeOptions): Runtime {
  const log = options.logger ?? silentLogger();
  const clock = options.clock ?? systemClock;
  const id = identityOf(options);
  const topics = options.topics ?? DEFAULTS.topics;
  const modelTopic = options.modelTopic;
  if (modelTopic !== undefined && /[+#]/.test(modelTopic)) throw new Error(`model topic "${modelTopic}" must be a plain topic, without + or #`);
  const counters = createCounters();
  let running: RunningModel = { name: model.name, version: model.modelVersion, ...(options.modelSha256 ? { sha256: options.modelSha256 } : {}) };
  const status = (state: 'online' | 'offline') => JSON.stringify({ state, instance: id.instance, clientId: id.clientId, model: running, sessionLosses: counters.sessionLosses, at: new Date(clock.now()).toISOString() });

  const input = new Subject<Incoming | ModelOfferEvent>();
  const client = (options.connect ?? connectMqtt)(options.broker, clientOptionsFor(options, id, status('offline')));
  const plaintext = plaintextCredentialsWarning(options.broker, options);
  if (plaintext) log.warn({ broker: options.broker }, plaintext);
  let stopping = false;
  let fatal: Error | undefined;
  let stopped: Promise<void> | null = null;
  const ready = deferred();
  const closed = deferred();
  closed.promise.catch(() => undefined); // the caller may only await stop()

  installIntake(client, (e) => input.next(e), {
    modelTopic, now: () => clock.now(), stopping: () => stopping,
    verifyModel: modelVerifier({ trusted: options.trusted ?? new Map(), maxBytes: options.modelMaxBytes ?? DEFAULT_ENVELOPE_MAX_BYTES, modelTopic, log }),
  });
  const checkpoints: CheckpointCounters = { checkpointRestored: 0, checkpointColdStarts: 0, checkpointWrites: 0, checkpointWriteErrors: 0 };
  const states = options.stateDir === undefined ? null : checkpointer({
    dir: options.stateDir, intervalMs: options.checkpointIntervalMs ?? DEFAULTS.checkpointIntervalMs,
    log, counters: checkpoints, model: () => running, now: () => clock.now(),
  });
  const recordModelStatus = modelStatusRecorder(log, options.modelStore);
  const publish = publisher(client, log);
  const publishStatus = () => client.publish(id.statusTopic, status('online'), PUBLISH_QOS1_RETAINED);

  const sink: Subscription = input.pipe(inferenceLine(createSession(model), {
    topics, counters, instance: id.instance,
    predictionTopic: options.predictionTopic ?? DEFAULTS.predictionTopic,
    deadLetterTopic: options.deadLetterTopic ?? DEFAULTS.deadLetterTopic,
    ...readingRulesOf(options),
    clock: () => clock.monotonic(),
    onTable: (table) => {
      states?.attach(table); // restored before the first reading
      options.onTable?.(table);
    },
    modelStatusTopic: options.modelStatusTopic ?? DEFAULTS.modelStatusTopic,
    swap: {
      allowDowngrade: options.allowDowngrade, probation: options.probation,
      runningSha256: options.modelSha256, keepStatesOnSameShape: options.keepStatesOnSameShape,
      lifecycle: options.modelStore?.begin({ name: model.name, version: model.modelVersion, ...(options.modelSha256 ? { sha256: options.modelSha256 } : {}) }, log),
    },
  })).subscribe({
    next(out) {
      const e = out.event;
      if (e.kind === 'model-status') {
        recordModelStatus(e);
        const changed = e.running.name !== running.name || e.running.version !== running.version;
        const sha256 = e.status === 'accepted' ? e.sha256 : changed ? undefined : running.sha256;
        running = sha256 ? { ...e.running, sha256 } : { ...e.running };
        if (client.options.will) client.options.will.payload = Buffer.from(status('offline'));
        if (changed && client.connected) publishStatus(); // the retained status names the model serving now
      }
      publish(out);
    },
    error(err) {
      // Operators turn per-message errors into dead letters; reaching here is a bug.
      log.error({ err: String(err) }, 'inference stream failed');
      void stop();
    },
  });

  manageConnection(client, {
    brokerUrl: options.broker, clientId: id.clientId, mqttVersion: id.version,
    subscriptions: modelTopic !== undefined ? [...topics, modelTopic] : [...topics],
    reconnectMinMs: options.reconnectMinMs ?? DEFAULTS.reconnectMinMs,
    reconnectMaxMs: options.reconnectMaxMs ?? DEFAULTS.reconnectMaxMs,
    log,
    onConnect: publishStatus,
    onSessionLost: () => void counters.sessionLosses++,
    onReady: () => ready.resolve(),
    onRefused: (err) => {
      fatal ??= err;
      void stop();
    },
  });
  const health = startHealthLines(counters, clock, options.healthIntervalMs ?? DEFAULTS.healthIntervalMs, log);

  function stop(): Promise<void> {
    if (stopped) return stopped;
    stopping = true;
    stopped = (async () => {
      log.info('stopping: no new readings; finishing in-flight steps');
      input.complete(); // synchronous operators: every accepted reading is published by now
      sink.unsubscribe();
      health.stop();
      states?.stop();
      states?.flush(); // every accepted reading is stepped by now
      await goOffline(client, id.statusTopic, status('offline'), log);
      const h = health.last();
      log.info({ health: h, counters: { ...counters, stepLatency: undefined } }, `stopped; ${formatHealth(h)}`);
      if (fatal) closed.reject(fatal);
      else closed.resolve();
    })();
    return stopped;
  }

  return { counters, checkpoints, client, clientId: id.clientId, statusTopic: id.statusTopic, model: () => running, ready: ready.promise, closed: closed.promise, stop };
}

/** Publish the offline status (retained) and disconnect, each with a deadline. */
async function goOffline(client: RuntimeClient, statusTopic: string, offline: string, log: Logger): Promise<void> {
  if (client.connected) {
    try {
      await withTimeout(client.publishAsync(statusTopic, offline, PUBLISH_QOS1_RETAINED), 3000);
    } catch (e) {
      log.warn({ err: (e as Error).message }, 'could not publish offline status');
    }
  }
  const ended = await withTimeout(client.endAsync(false).then(() => true), 5000);
  if (!ended) await client.endAsync(true);
}
