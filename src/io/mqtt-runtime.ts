// The MQTT edge of `edge-rnn run`: readings in, predictions out, through the shared
// inference line (src/stream). QoS 1 both ways and a persistent session (fixed client
// id, clean: false, MQTT 5 session expiry) so readings published while the runtime is
// down arrive when it returns. No reading is lost on a crash: a reading's PUBACK is sent
// only after its outcome has been handed to the client (src/io/runtime/intake.ts).
//
// This file wires the pieces, each in a file of its own under src/io/runtime/: options
// and the runtime handle (options.ts), the client seam (client.ts) and how it connects
// (client-options.ts), intake with its deferred ack (intake.ts), connection and
// subscription (connection.ts), pushed-model verification (model-verifier.ts), the record
// of model decisions (model-status.ts), the retained status (status.ts) and the device
// state checkpoints (checkpointer.ts). Pushed models take their place in the one ordered
// flow; the stream decides and swaps between two readings (src/stream/model-slot.ts).
import { Subject } from 'rxjs';
import type { Model } from '../model/types.js';
import { createSession } from '../runtime/session.js';
import { createCounters, type StreamCounters } from '../stream/counters.js';
import type { Incoming, ModelOfferEvent, Outgoing } from '../stream/events.js';
import { inferenceLine, type InferenceLineOptions } from '../stream/inference-line.js';
import { formatHealth, healthMeter } from './health.js';
import { silentLogger, type Logger } from './logger.js';
import { DEFAULT_ENVELOPE_MAX_BYTES } from './model-envelope.js';
import { plaintextCredentialsWarning } from './mqtt-connect.js';
import { DEFAULTS } from './run-config.js';
import { checkpointer, type Checkpointer, type CheckpointCounters } from './runtime/checkpointer.js';
import { connectMqtt, systemClock, type RuntimeClient, type RuntimeClock } from './runtime/client.js';
import { clientOptionsFor, identityOf, type Identity } from './runtime/client-options.js';
import { manageConnection } from './runtime/connection.js';
import { installIntake } from './runtime/intake.js';
import { modelStatusRecorder } from './runtime/model-status.js';
import { modelVerifier } from './runtime/model-verifier.js';
import type { ReadingRules, Runtime, RuntimeOptions } from './runtime/options.js';
import { RuntimeStatus } from './runtime/status.js';

export { BrokerRefusedError } from './runtime/connection.js';
export type { ReadingRules, Runtime, RuntimeOptions, RunningModel } from './runtime/options.js';

// Publish options, shared: mqtt.js copies them, and building them per message is garbage.
const PUBLISH_QOS1 = { qos: 1, retain: false } as const;
const PUBLISH_QOS1_RETAINED = { qos: 1, retain: true } as const;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => resolve(undefined), ms);
    p.then((v) => (clearTimeout(t), resolve(v)), (e) => (clearTimeout(t), reject(e)));
  });
}

/** `f` run once; later calls get the first call's promise. */
function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | null = null;
  return () => (p ??= f());
}

/** A promise with its resolvers (Promise.withResolvers needs Node 22). */
function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

function readingRulesOf(o: ReadingRules): ReadingRules {
  const { maxBytes, maxDeviceIdBytes, maxDevices, resetAfterMs, seqWindow, maxSeqJump, guardZ, guardPolicy, anomaly } = o;
  return { maxBytes, maxDeviceIdBytes, maxDevices, resetAfterMs, seqWindow, maxSeqJump, guardZ, guardPolicy, anomaly };
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

function startHealthLines(counters: StreamCounters, clock: RuntimeClock, intervalMs: number, log: Logger, onLine: () => void): { stop(): void; last(): ReturnType<ReturnType<typeof healthMeter>> } {
  const meter = healthMeter(counters, () => clock.monotonic());
  const timer = intervalMs > 0 ? setInterval(() => {
    const h = meter();
    log.info({ health: h }, formatHealth(h));
    onLine();
  }, intervalMs) : null;
  timer?.unref();
  return { stop: () => timer && clearInterval(timer), last: meter };
}

/** The inference line's options from the runtime's: topics, reading rules, swap rules, the table hook. */
function lineOptions(model: Model, options: RuntimeOptions, counters: StreamCounters, id: Identity, clock: RuntimeClock, states: Checkpointer | null, log: Logger): InferenceLineOptions {
  const sha256 = options.modelSha256;
  return {
    topics: options.topics ?? DEFAULTS.topics, counters, instance: id.instance,
    predictionTopic: options.predictionTopic ?? DEFAULTS.predictionTopic,
    deadLetterTopic: options.deadLetterTopic ?? DEFAULTS.deadLetterTopic,
    modelStatusTopic: options.modelStatusTopic ?? DEFAULTS.modelStatusTopic,
    ...readingRulesOf(options),
    clock: () => clock.monotonic(),
    onTable: (table) => {
      states?.attach(table); // restored before the first reading
      options.onTable?.(table);
    },
    swap: {
      allowDowngrade: options.allowDowngrade, probation: options.probation,
      runningSha256: sha256, keepStatesOnSameShape: options.keepStatesOnSameShape,
      lifecycle: options.modelStore?.begin({ name: model.name, version: model.modelVersion, ...(sha256 ? { sha256 } : {}) }, log),
    },
  };
}

/** The device state checkpoints of `options.stateDir` (none without one), of the model serving now. */
function stateCheckpoints(options: RuntimeOptions, status: RuntimeStatus, clock: RuntimeClock, log: Logger): { checkpoints: CheckpointCounters; states: Checkpointer | null } {
  const checkpoints: CheckpointCounters = { checkpointRestored: 0, checkpointColdStarts: 0, checkpointWrites: 0, checkpointWriteErrors: 0 };
  const states = options.stateDir === undefined ? null : checkpointer({
    dir: options.stateDir, intervalMs: options.checkpointIntervalMs ?? DEFAULTS.checkpointIntervalMs,
    log, counters: checkpoints, model: () => status.running, now: () => clock.now(),
  });
  return { checkpoints, states };
}

export function startRuntime(model: Model, options: RuntimeOptions): Runtime {
  const log = options.logger ?? silentLogger();
  const clock = options.clock ?? systemClock;
  const id = identityOf(options);
  const topics = options.topics ?? DEFAULTS.topics;
  const modelTopic = options.modelTopic;
  if (modelTopic !== undefined && /[+#]/.test(modelTopic)) throw new Error(`model topic "${modelTopic}" must be a plain topic, without + or #`);
  const counters = createCounters();
  const status = new RuntimeStatus(id, { name: model.name, version: model.modelVersion, ...(options.modelSha256 ? { sha256: options.modelSha256 } : {}) }, counters, () => clock.now());
  const client = (options.connect ?? connectMqtt)(options.broker, clientOptionsFor(options, id, status.document('offline')));
  warnPlaintext(options, log);
  let stopping = false;
  let fatal: Error | undefined;
  const ready = deferred();
  const closed = deferred();
  closed.promise.catch(() => undefined); // the caller may only await stop()

  const input = new Subject<Incoming | ModelOfferEvent>();
  installIntake(client, (e) => input.next(e), {
    modelTopic, now: () => clock.now(), monotonic: () => clock.monotonic(), stopping: () => stopping,
    verifyModel: modelVerifier({ trusted: options.trusted ?? new Map(), maxBytes: options.modelMaxBytes ?? DEFAULT_ENVELOPE_MAX_BYTES, modelTopic, log }),
  });
  const { checkpoints, states } = stateCheckpoints(options, status, clock, log);
  const recordModelStatus = modelStatusRecorder(log, options.modelStore);
  const publish = publisher(client, log);
  const publishStatus = () => client.publish(id.statusTopic, status.document('online'), PUBLISH_QOS1_RETAINED);

  const sink = input.pipe(inferenceLine(createSession(model), lineOptions(model, options, counters, id, clock, states, log))).subscribe({
    next(out) {
      const e = out.event;
      if (e.kind === 'model-status') {
        recordModelStatus(e);
        const changed = status.follow(e);
        if (client.options.will) client.options.will.payload = Buffer.from(status.document('offline'));
        if (changed && client.connected) publishStatus(); // the retained status names the model serving now
      }
      publish(out);
      options.onOutgoing?.(out);
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
  const health = startHealthLines(counters, clock, options.healthIntervalMs ?? DEFAULTS.healthIntervalMs, log, () => client.connected && publishStatus());

  // Graceful stop: no new intake (unacked messages stay with the broker), every accepted
  // reading is stepped and published (the operators are synchronous), states checkpointed.
  const stop = once(async () => {
    stopping = true;
    log.info('stopping: no new readings; finishing in-flight steps');
    input.complete();
    sink.unsubscribe();
    health.stop();
    states?.stop();
    await states?.flush();
    await goOffline(client, id.statusTopic, status.document('offline'), log);
    const h = health.last();
    log.info({ health: h, counters: { ...counters, stepLatency: undefined } }, `stopped; ${formatHealth(h)}`);
    if (fatal) closed.reject(fatal);
    else closed.resolve();
  });

  return {
    counters, checkpoints, client, clientId: id.clientId, statusTopic: id.statusTopic,
    model: () => status.running, ready: ready.promise, closed: closed.promise, stop,
  };
}

function warnPlaintext(options: RuntimeOptions, log: Logger): void {
  const plaintext = plaintextCredentialsWarning(options.broker, options);
  if (plaintext) log.warn({ broker: options.broker }, plaintext);
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
