// Connection and subscription: on every connect, publish the online status and subscribe
// (resubscribe is off, so a broker that lost the session gets the subscriptions back);
// reconnect with exponential backoff; a refusal that retrying cannot fix ends the runtime.
//
// Session loss is loud: the runtime connects with a persistent session, so a reconnect
// with sessionPresent false means the broker forgot it, and with it every reading queued
// for us while we were away (e.g. Mosquitto killed before its autosave: `persistence true`
// with `autosave_interval` small, or `autosave_on_changes`, avoids that; see the README).
import type { IConnackPacket } from 'mqtt';
import { exponentialBackoff } from '../backoff.js';
import type { Logger } from '../logger.js';
import type { RuntimeClient } from './client.js';

/** A connack refusal that retrying will not fix (bad credentials, not authorised, ...). */
export class BrokerRefusedError extends Error {
  override readonly name = 'BrokerRefusedError';
}

// Connack refusals: 4/5 in MQTT 3.1.1 (bad credentials, not authorised), 0x80+ in 5
// except "server busy/unavailable"-like codes that retrying can fix.
const FATAL_CONNACK = new Set([4, 5, 0x84, 0x85, 0x86, 0x87, 0x8c]);

export interface ConnectionOptions {
  readonly brokerUrl: string;
  readonly clientId: string;
  readonly mqttVersion: 4 | 5;
  readonly subscriptions: readonly string[];
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly log: Logger;
  /** Called on every connect, before subscribing (publishes the online status). */
  readonly onConnect: (connack: IConnackPacket) => void;
  /** The broker had no session for us on a reconnect: readings queued meanwhile are gone. */
  readonly onSessionLost: () => void;
  /** Subscribed the first time. */
  readonly onReady: () => void;
  /** The broker refused us for good. */
  readonly onRefused: (err: BrokerRefusedError) => void;
}

export function manageConnection(client: RuntimeClient, o: ConnectionOptions): void {
  const { log } = o;
  const backoff = exponentialBackoff(o.reconnectMinMs, o.reconnectMaxMs);
  backoff.next(); // the first retry waits reconnectMinMs (the client's reconnectPeriod)
  let connects = 0;
  client.on('connect', (connack) => {
    backoff.reset();
    backoff.next();
    client.options.reconnectPeriod = o.reconnectMinMs;
    connects++;
    log.info({ broker: o.brokerUrl, clientId: o.clientId, sessionPresent: connack.sessionPresent, mqttVersion: o.mqttVersion }, 'connected');
    if (connects > 1 && !connack.sessionPresent) {
      log.warn({ broker: o.brokerUrl, clientId: o.clientId },
        'broker session lost: it reconnected without our persistent session, so readings queued for this runtime while it was away are gone (broker restarted without saving it? Mosquitto: persistence true, autosave_interval 1 or autosave_on_changes true)');
      o.onSessionLost();
    }
    o.onConnect(connack);
    client.subscribe([...o.subscriptions], { qos: 1 }, (err, granted) => {
      if (err) {
        log.error({ err: err.message, topics: o.subscriptions }, 'subscribe failed');
        return;
      }
      const refused = (granted ?? []).filter((g) => g.qos > 2);
      if (refused.length) log.error({ topics: refused.map((g) => g.topic) }, 'broker refused the subscription');
      else log.info({ topics: o.subscriptions }, 'subscribed');
      o.onReady();
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
    if (typeof code === 'number' && FATAL_CONNACK.has(code)) {
      log.error({ err: err.message, code }, 'broker refused the connection');
      o.onRefused(new BrokerRefusedError(`broker refused the connection: ${err.message}`));
      return;
    }
    log.warn({ err: err.message, code }, 'mqtt error');
  });
}
