// Reads a runtime's retained status from the broker (`edge-rnn status`; scripts/deploy.sh
// runs it on the device after a restart): connects, subscribes to the status topic and
// waits for a document that says `online`, published at or after `since`. Keeps trying to
// connect until the deadline: right after a boot the broker may not be up yet.
import mqtt from 'mqtt';
import { authOptions, type BrokerAuth } from './mqtt-connect.js';

// The status document is a few hundred bytes (src/io/runtime/status.ts).
const MAX_STATUS_BYTES = 16 * 1024;

export interface StatusProbeOptions extends BrokerAuth {
  readonly broker: string;
  readonly topic: string;
  /** Milliseconds to wait in all. */
  readonly timeoutMs: number;
  /** Epoch ms: an online status older than this (its `at`) is from an earlier run. */
  readonly since?: number;
}

export interface StatusProbeResult {
  /** The online status that arrived (the raw JSON), or null when none did in time. */
  readonly online: string | null;
  /** The last status seen that did not qualify (offline, older than `since`, not JSON), for the message. */
  readonly last: string | null;
  /** The last connection error, when the broker was never reached. */
  readonly error: string | null;
}

/** Why a status payload does not count as "online since", or null when it does. */
export function statusProblem(payload: Uint8Array, since: number | undefined): string | null {
  if (payload.length === 0) return 'an empty (cleared) status';
  if (payload.length > MAX_STATUS_BYTES) return `a ${payload.length}-byte payload, not a status document`;
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return 'a payload that is not JSON';
  }
  const d = doc as { state?: unknown; at?: unknown } | null;
  if (typeof d !== 'object' || d === null) return 'a payload that is not a JSON object';
  const at = typeof d.at === 'string' ? Date.parse(d.at) : NaN;
  if (d.state !== 'online') return `state ${JSON.stringify(d.state)}${Number.isNaN(at) ? '' : ` at ${String(d.at)}`}`;
  if (since !== undefined && !(at >= since)) return `online at ${String(d.at)}, before ${new Date(since).toISOString()}`;
  return null;
}

export function probeStatus(options: StatusProbeOptions): Promise<StatusProbeResult> {
  return new Promise((resolve) => {
    let last: string | null = null;
    let error: string | null = null;
    const client = mqtt.connect(options.broker, {
      ...authOptions(options), clean: true, reconnectPeriod: 500,
      connectTimeout: Math.max(1000, Math.min(options.timeoutMs, 10_000)),
      clientId: `edge-rnn-status-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
    });
    const finish = (online: string | null) => {
      clearTimeout(timer);
      client.end(true, () => resolve({ online, last, error }));
    };
    const timer = setTimeout(() => finish(null), options.timeoutMs);
    client.on('error', (e) => (error = e.message));
    client.on('connect', () => {
      error = null;
      client.subscribe(options.topic, { qos: 1 }, (err) => {
        if (err) error = `subscribe ${options.topic}: ${err.message}`;
      });
    });
    client.on('message', (topic, payload) => {
      if (topic !== options.topic) return;
      const problem = statusProblem(payload, options.since);
      if (problem === null) finish(payload.toString('utf8'));
      else last = problem;
    });
  });
}
