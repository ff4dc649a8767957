// Who the runtime is on the broker (instance, client id, status topic, protocol) and the
// mqtt.js options it connects with: a persistent session, the offline status as last will,
// and (MQTT 5) the session expiry, the readings in flight and the largest packet it accepts.
import { hostname } from 'node:os';
import type { IClientOptions } from 'mqtt';
import { DEFAULT_MAX_BYTES } from '../../protocol/reading.js';
import { fillTopic } from '../../protocol/topic.js';
import { DEFAULT_ENVELOPE_MAX_BYTES } from '../model-envelope.js';
import { authOptions, maximumPacketSizeProperty } from '../mqtt-connect.js';
import { DEFAULTS } from '../run-config.js';
import type { RuntimeOptions } from './options.js';

// mqtt.js logs through `debug` several times per packet even when nobody listens; those
// calls are a measurable share of the runtime's time under load. With DEBUG set (e.g.
// DEBUG=mqttjs*) its logging is left as it was.
const mqttLog = process.env.DEBUG ? {} : { log: () => undefined };

/**
 * MQTT 5 Receive Maximum: readings the broker may send before we acknowledge one. A
 * reading is acknowledged only once its prediction is handed over (intake.ts), so when the
 * runtime falls behind, what it has read ahead waits in mqtt.js's queue, in memory; the rest
 * should wait in the broker's session. mqtt.js otherwise announces 65 535, and Mosquitto
 * sends everything it has at once (test/e2e/receive-maximum.test.ts). Mosquitto 2.0 honours
 * the first window and then tops it up in bursts, so this narrows the read-ahead without
 * bounding it. MQTT 3.1.1 has no such field (Mosquitto: max_inflight_messages).
 */
export const RECEIVE_MAXIMUM = 100;

export interface Identity {
  readonly instance: string;
  readonly clientId: string;
  readonly statusTopic: string;
  readonly version: 4 | 5;
}

export function identityOf(options: RuntimeOptions): Identity {
  const instance = options.instance ?? hostname();
  return {
    instance,
    clientId: options.clientId ?? `edge-rnn-${instance}`,
    statusTopic: fillTopic(options.statusTopic ?? DEFAULTS.statusTopic, { instance }),
    version: options.mqttVersion ?? DEFAULTS.mqttVersion,
  };
}

export function clientOptionsFor(options: RuntimeOptions, id: Identity, offlineStatus: string): IClientOptions {
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
      receiveMaximum: RECEIVE_MAXIMUM,
      ...maximumPacketSizeProperty({
        readingMaxBytes: options.maxBytes ?? DEFAULT_MAX_BYTES,
        ...(options.modelTopic !== undefined ? { modelMaxBytes: options.modelMaxBytes ?? DEFAULT_ENVELOPE_MAX_BYTES } : {}),
      }, 5),
    } } : {}),
    ...authOptions({ ...options, mqttVersion: id.version }),
    // mqtt-packet otherwise keeps a 2-byte Buffer for every packet id and length
    // (65 536 of them: 6 MB of heap, for a 2-byte write per packet); bench:memory.
    writeCache: false,
    ...mqttLog,
  };
}
