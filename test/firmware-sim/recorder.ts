// A plain MQTT subscriber that records what the broker delivers, for comparing with a plan.
import mqtt, { type MqttClient } from 'mqtt';

export interface Recorded {
  readonly topic: string;
  readonly payload: Buffer;
  readonly retain: boolean;
}

export interface Recorder {
  readonly client: MqttClient;
  readonly messages: Recorded[];
  on(topicPrefix: string): Recorded[];
  close(): Promise<void>;
}

let counter = 0;
export function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

/** persistent: a session the broker keeps (and queues for) across a broker restart. */
export async function record(url: string, version: 4 | 5, topics: string[], { persistent = false } = {}): Promise<Recorder> {
  const client = mqtt.connect(url, {
    clientId: uniqueId('recorder'), protocolVersion: version,
    clean: !persistent, reconnectPeriod: persistent ? 100 : 0,
    ...(persistent && version === 5 ? { properties: { sessionExpiryInterval: 300 } } : {}),
  });
  const messages: Recorded[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload: Buffer.from(payload), retain: packet.retain }));
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(topics, { qos: 1 });
  return {
    client,
    messages,
    on: (prefix) => messages.filter((m) => m.topic.startsWith(prefix)),
    close: () => client.endAsync(),
  };
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Let late messages arrive (so an extra one would be seen) before counting. */
export const settle = (ms = 150) => new Promise((r) => setTimeout(r, ms));
