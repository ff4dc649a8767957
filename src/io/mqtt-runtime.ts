// The MQTT edge of `edge-rnn run`: readings in, predictions out, through the shared
// inference line (src/stream). QoS 1 both ways and a persistent session (fixed client
// id, clean: false, MQTT 5 session expiry) so readings published while the runtime is
// down arrive when it returns.
//
// No reading is lost on a crash: a reading's PUBACK is sent only after its prediction (or
// dead letter) has been handed to the client. mqtt.js defers the PUBACK until the
// `handleMessage` callback runs; the prediction's PUBLISH is written to the same socket
// first, and TCP keeps the order, so the broker never sees the ack without the
// prediction. We do not wait for the prediction's own PUBACK there: mqtt.js processes
// incoming packets one at a time, so that PUBACK would queue behind the message whose
// callback waits for it.
//
// Pushed models arrive on the model topic through the same handler, so they take their
// place in the one ordered flow: the envelope is verified here (signature, hash, decode),
// then the stream decides and swaps between two readings (src/stream/model-slot.ts).
import type { KeyObject } from 'node:crypto';
import { hostname } from 'node:os';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { Subject, type Subscription } from 'rxjs';
import type { Model } from '../model/types.js';
import { fillTopic } from '../protocol/topic.js';
import { createSession } from '../runtime/session.js';
import { createCounters, type StreamCounters } from '../stream/counters.js';
import type { DeviceTable } from '../stream/device-table.js';
import type { Incoming, ModelOfferEvent, ModelOfferResult, ModelStatusEvent } from '../stream/events.js';
import { inferenceLine } from '../stream/inference-line.js';
import type { ProbationLimits } from '../stream/probation.js';
import { exponentialBackoff } from './backoff.js';
import { formatHealth, healthMeter } from './health.js';
import { silentLogger, type Logger } from './logger.js';
import { EnvelopeError, openEnvelope } from './model-envelope.js';
import type { ModelStore } from './model-store.js';
import { authOptions, type BrokerAuth } from './mqtt-connect.js';

export interface RuntimeOptions extends BrokerAuth {
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
  readonly maxBytes?: number;
  readonly maxDevices?: number;
  readonly resetAfterMs?: number;
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
}

export const DEFAULTS = {
  topics: ['sensors/+/reading'],
  predictionTopic: 'predictions/{device}',
  deadLetterTopic: 'edge-rnn/{instance}/dead-letter',
  statusTopic: 'edge-rnn/{instance}/status',
  modelStatusTopic: 'edge-rnn/{instance}/model',
  modelTopic: 'models/{model}',
  probation: 100,
  mqttVersion: 5 as 4 | 5,
  sessionExpiryS: 7 * 24 * 3600,
  reconnectMinMs: 500,
  reconnectMaxMs: 30_000,
  keepaliveS: 30,
  healthIntervalMs: 60_000,
} as const;

export interface Runtime {
  readonly counters: StreamCounters;
  readonly client: MqttClient;
  readonly clientId: string;
  readonly statusTopic: string;
  /** The model serving now (changes with pushes and rollbacks). */
  model(): { readonly name: string; readonly version: number };
  /** Resolves once connected and subscribed the first time. */
  readonly ready: Promise<void>;
  /** Resolves when stopped; rejects when the broker refuses the connection for good. */
  readonly closed: Promise<void>;
  /** Graceful stop: no new intake, finish in-flight steps, publish offline status, disconnect. */
  stop(): Promise<void>;
}

/** A connack refusal that retrying will not fix (bad credentials, not authorised, ...). */
export class BrokerRefusedError extends Error {
  override readonly name = 'BrokerRefusedError';
}

/**
 * One MQTT message in the flow; `ack()` releases its PUBACK (once). A class rather than an
 * object with an `ack` closure: this is allocated per reading.
 */
class MqttOrigin implements Incoming {
  readonly receivedAt = Date.now();
  private done: ((err?: Error) => void) | null;

  constructor(readonly topic: string, readonly payload: Uint8Array, done: (err?: Error) => void) {
    this.done = done;
  }

  ack(): void {
    const done = this.done;
    this.done = null;
    done?.();
  }
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

export function startRuntime(model: Model, options: RuntimeOptions): Runtime {
  const log = options.logger ?? silentLogger();
  const instance = options.instance ?? hostname();
  const clientId = options.clientId ?? `edge-rnn-${instance}`;
  const topics = options.topics ?? DEFAULTS.topics;
  const version = options.mqttVersion ?? DEFAULTS.mqttVersion;
  const statusTopic = fillTopic(options.statusTopic ?? DEFAULTS.statusTopic, { instance });
  const minDelay = options.reconnectMinMs ?? DEFAULTS.reconnectMinMs;
  const maxDelay = options.reconnectMaxMs ?? DEFAULTS.reconnectMaxMs;
  let modelInfo = { name: model.name, version: model.modelVersion };
  const modelTopic = options.modelTopic;
  if (modelTopic !== undefined && /[+#]/.test(modelTopic)) throw new Error(`model topic "${modelTopic}" must be a plain topic, without + or #`);
  const trusted = options.trusted ?? new Map<string, KeyObject>();
  const status = (state: 'online' | 'offline') => JSON.stringify({ state, instance, clientId, model: modelInfo, at: new Date().toISOString() });

  const session = createSession(model);
  const counters = createCounters();
  const input = new Subject<Incoming | ModelOfferEvent>();

  const clientOptions: IClientOptions = {
    clientId,
    clean: false,
    protocolVersion: version,
    keepalive: options.keepaliveS ?? DEFAULTS.keepaliveS,
    reconnectPeriod: minDelay,
    connectTimeout: 10_000,
    resubscribe: false, // we subscribe on every connect ourselves
    will: { topic: statusTopic, payload: Buffer.from(status('offline')), qos: 1, retain: true },
    ...(version === 5 ? { properties: { sessionExpiryInterval: options.sessionExpiryS ?? DEFAULTS.sessionExpiryS } } : {}),
    ...authOptions({ ...options, mqttVersion: version }),
    ...mqttLog,
  };
  const client = mqtt.connect(options.broker, clientOptions);

  let stopping = false;
  let fatal: Error | undefined;
  let stopped: Promise<void> | null = null;
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  let resolveClosed!: () => void;
  let rejectClosed!: (e: Error) => void;
  const closed = new Promise<void>((res, rej) => ((resolveClosed = res), (rejectClosed = rej)));
  closed.catch(() => undefined); // the caller may only await stop()

  let warnedUntrusted = false;
  function verify(payload: Uint8Array): ModelOfferResult {
    if (trusted.size === 0 && !warnedUntrusted) {
      warnedUntrusted = true;
      log.warn({ modelTopic }, `a model was pushed on ${modelTopic}, but no key is trusted (--trust): every pushed model is refused (said once)`);
    }
    try {
      const v = openEnvelope(payload, trusted);
      return { ok: true, model: v.model, sha256: v.sha256, keyId: v.keyId };
    } catch (e) {
      if (e instanceof EnvelopeError) return { ok: false, code: e.code, message: e.message };
      return { ok: false, code: 'malformed', message: String((e as Error)?.message ?? e) };
    }
  }

  // Readings and pushed models enter here; the PUBACK waits for `ack` (see the file comment).
  client.handleMessage = (packet: IPublishPacket, done: (err?: Error) => void) => {
    if (stopping) {
      done(new Error('shutting down')); // no PUBACK: the broker redelivers it next session
      return;
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const origin = new MqttOrigin(packet.topic, payload, done);
    if (modelTopic !== undefined && packet.topic === modelTopic) {
      if (payload.length === 0) return origin.ack(); // a cleared retained message: nothing pushed
      input.next({ kind: 'model-offer', result: verify(payload), origin });
    } else input.next(origin);
  };

  // Persist, log and remember what the stream decided about a pushed model.
  function onModelStatus(e: ModelStatusEvent): void {
    try {
      options.modelStore?.record(e);
    } catch (err) {
      log.error({ err: (err as Error).message, stateFile: options.modelStore?.stateFile }, `could not persist the model ${e.status} event; a restart may not know it`);
    }
    modelInfo = { ...e.running };
    if (client.options.will) client.options.will.payload = Buffer.from(status('offline'));
    const about = { name: e.name, version: e.version, code: e.code, sha256: e.sha256, keyId: e.keyId, running: e.running };
    switch (e.status) {
      case 'accepted':
        log.info({ ...about, statesKept: e.statesKept, statesReason: e.statesReason, probation: e.probation, supersedes: e.supersedes }, `model accepted: ${e.name} v${e.version} now serving (states ${e.statesKept ? 'kept' : 'reset'}: ${e.statesReason}${e.probation ? ', on probation' : ''})`);
        break;
      case 'rolled-back':
        log.error({ ...about, reason: e.reason, publishedOnProbation: e.publishedOnProbation }, `model rolled back: ${e.name} v${e.version} failed probation (${e.reason}); ${e.running.name} v${e.running.version} serving again`);
        break;
      case 'rejected':
        log.warn({ ...about, reason: e.reason, topic: e.origin.topic }, `pushed model rejected (${e.code}): ${e.reason}`);
        break;
      case 'committed':
        log.info(about, `model ${e.name} v${e.version} passed probation`);
        break;
      case 'unchanged':
        log.debug(about, 'pushed model is the one running');
        break;
    }
  }

  const sink: Subscription = input
    .pipe(inferenceLine(session, {
      topics, counters, instance,
      predictionTopic: options.predictionTopic ?? DEFAULTS.predictionTopic,
      deadLetterTopic: options.deadLetterTopic ?? DEFAULTS.deadLetterTopic,
      maxBytes: options.maxBytes, maxDevices: options.maxDevices, resetAfterMs: options.resetAfterMs,
      clock: () => performance.now(),
      onTable: options.onTable,
      modelStatusTopic: options.modelStatusTopic ?? DEFAULTS.modelStatusTopic,
      swap: {
        allowDowngrade: options.allowDowngrade, probation: { minReadings: DEFAULTS.probation, ...options.probation },
        runningSha256: options.modelSha256, keepStatesOnSameShape: options.keepStatesOnSameShape,
        lifecycle: options.modelStore?.begin({ name: model.name, version: model.modelVersion, ...(options.modelSha256 ? { sha256: options.modelSha256 } : {}) }, log),
      },
    }))
    .subscribe({
      next(out) {
        if (out.event.kind === 'model-status') onModelStatus(out.event);
        if (out.topic !== null && out.payload !== null) {
          const p = out.payload;
          const bytes = Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
          client.publish(out.topic, bytes, out.retain ? PUBLISH_QOS1_RETAINED : PUBLISH_QOS1, (err) => {
            if (err) log.warn({ err: err.message, topic: out.topic }, 'publish failed; it stays queued in the session');
          });
          if (out.event.kind === 'dead-letter') log.debug({ reason: out.event.code, topic: out.event.origin.topic }, out.event.message);
        }
        out.event.origin.ack?.();
      },
      error(err) {
        // Operators turn per-message errors into dead letters; reaching here is a bug.
        log.error({ err: String(err) }, 'inference stream failed');
        void stop();
      },
    });

  const backoff = exponentialBackoff(minDelay, maxDelay);
  backoff.next(); // the first retry waits minDelay (the reconnectPeriod above)
  client.on('connect', (connack) => {
    backoff.reset();
    backoff.next();
    client.options.reconnectPeriod = minDelay;
    log.info({ broker: options.broker, clientId, sessionPresent: connack.sessionPresent, mqttVersion: version }, 'connected');
    client.publish(statusTopic, status('online'), { qos: 1, retain: true });
    const subscriptions = modelTopic !== undefined ? [...topics, modelTopic] : [...topics];
    client.subscribe(subscriptions, { qos: 1 }, (err, granted) => {
      if (err) {
        log.error({ err: err.message, topics }, 'subscribe failed');
        return;
      }
      const refused = (granted ?? []).filter((g) => g.qos > 2);
      if (refused.length) log.error({ topics: refused.map((g) => g.topic) }, 'broker refused the subscription');
      else log.info({ topics, modelTopic }, 'subscribed');
      resolveReady();
    });
  });
  client.on('reconnect', () => {
    // mqtt.js reads reconnectPeriod when it schedules each attempt.
    client.options.reconnectPeriod = backoff.next();
    log.info({ nextRetryMs: client.options.reconnectPeriod }, 'reconnecting');
  });
  client.on('offline', () => log.warn('broker connection lost'));
  client.on('error', (err) => {
    const code = (err as Error & { code?: unknown }).code;
    // Connack refusals: 4/5 in MQTT 3.1.1 (bad credentials, not authorised), 0x80+ in 5
    // except "server busy/unavailable"-like codes that retrying can fix.
    const refused = typeof code === 'number' && (code === 4 || code === 5 || code === 0x84 || code === 0x85 || code === 0x86 || code === 0x87 || code === 0x8c);
    if (refused) {
      log.error({ err: err.message, code }, 'broker refused the connection');
      fatal ??= new BrokerRefusedError(`broker refused the connection: ${err.message}`);
      void stop();
      return;
    }
    log.warn({ err: err.message, code }, 'mqtt error');
  });

  const meter = healthMeter(counters, () => performance.now());
  const healthMs = options.healthIntervalMs ?? DEFAULTS.healthIntervalMs;
  const healthTimer = healthMs > 0 ? setInterval(() => {
    const h = meter();
    log.info({ health: h }, formatHealth(h));
  }, healthMs) : null;
  healthTimer?.unref();

  function stop(): Promise<void> {
    if (stopped) return stopped;
    stopping = true;
    stopped = (async () => {
      log.info('stopping: no new readings; finishing in-flight steps');
      input.complete(); // synchronous operators: every accepted reading is published by now
      sink.unsubscribe();
      if (healthTimer) clearInterval(healthTimer);
      if (client.connected) {
        try {
          await withTimeout(client.publishAsync(statusTopic, status('offline'), { qos: 1, retain: true }), 3000);
        } catch (e) {
          log.warn({ err: (e as Error).message }, 'could not publish offline status');
        }
      }
      const ended = await withTimeout(client.endAsync(false).then(() => true), 5000);
      if (!ended) await client.endAsync(true);
      const h = meter();
      log.info({ health: h, counters: { ...counters, stepLatency: undefined } }, `stopped; ${formatHealth(h)}`);
      if (fatal) rejectClosed(fatal);
      else resolveClosed();
    })();
    return stopped;
  }

  return { counters, client, clientId, statusTopic, model: () => modelInfo, ready, closed, stop };
}
