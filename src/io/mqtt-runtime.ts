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
import { hostname } from 'node:os';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { Subject, type Subscription } from 'rxjs';
import type { Model } from '../model/types.js';
import { fillTopic } from '../protocol/topic.js';
import { createSession } from '../runtime/session.js';
import { createCounters, type StreamCounters } from '../stream/counters.js';
import type { DeviceTable } from '../stream/device-table.js';
import type { Incoming } from '../stream/events.js';
import { inferenceLine } from '../stream/inference-line.js';
import { exponentialBackoff } from './backoff.js';
import { formatHealth, healthMeter } from './health.js';
import { silentLogger, type Logger } from './logger.js';

export interface RuntimeOptions {
  /** mqtt://, mqtts://, ws://, wss:// URL. */
  readonly broker: string;
  readonly instance?: string;
  /** Fixed, so the broker keeps this runtime's session across restarts. */
  readonly clientId?: string;
  readonly topics?: readonly string[];
  readonly predictionTopic?: string;
  readonly deadLetterTopic?: string;
  readonly statusTopic?: string;
  readonly mqttVersion?: 4 | 5;
  /** MQTT 5: seconds the broker keeps the session after a disconnect. */
  readonly sessionExpiryS?: number;
  readonly username?: string;
  readonly password?: string;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
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
}

export const DEFAULTS = {
  topics: ['sensors/+/reading'],
  predictionTopic: 'predictions/{device}',
  deadLetterTopic: 'edge-rnn/{instance}/dead-letter',
  statusTopic: 'edge-rnn/{instance}/status',
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
  const modelInfo = { name: model.name, version: model.modelVersion };
  const status = (state: 'online' | 'offline') => JSON.stringify({ state, instance, clientId, model: modelInfo, at: new Date().toISOString() });

  const session = createSession(model);
  const counters = createCounters();
  const input = new Subject<Incoming>();

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
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.cert ? { cert: options.cert } : {}),
    ...(options.key ? { key: options.key } : {}),
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

  // Readings enter here; the PUBACK waits for `ack` (see the file comment).
  client.handleMessage = (packet: IPublishPacket, done: (err?: Error) => void) => {
    if (stopping) {
      done(new Error('shutting down')); // no PUBACK: the broker redelivers it next session
      return;
    }
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    let acked = false;
    input.next({
      topic: packet.topic, payload, receivedAt: Date.now(),
      ack: () => {
        if (!acked) (acked = true), done();
      },
    });
  };

  const sink: Subscription = input
    .pipe(inferenceLine(session, {
      topics, counters, instance,
      predictionTopic: options.predictionTopic ?? DEFAULTS.predictionTopic,
      deadLetterTopic: options.deadLetterTopic ?? DEFAULTS.deadLetterTopic,
      maxBytes: options.maxBytes, maxDevices: options.maxDevices, resetAfterMs: options.resetAfterMs,
      clock: () => performance.now(),
      onTable: options.onTable,
    }))
    .subscribe({
      next(out) {
        if (out.topic !== null && out.payload !== null) {
          const p = out.payload;
          client.publish(out.topic, Buffer.from(p.buffer, p.byteOffset, p.byteLength), { qos: 1 }, (err) => {
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
    client.subscribe([...topics], { qos: 1 }, (err, granted) => {
      if (err) {
        log.error({ err: err.message, topics }, 'subscribe failed');
        return;
      }
      const refused = (granted ?? []).filter((g) => g.qos > 2);
      if (refused.length) log.error({ topics: refused.map((g) => g.topic) }, 'broker refused the subscription');
      else log.info({ topics }, 'subscribed');
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

  return { counters, client, clientId, statusTopic, ready, closed, stop };
}
