// `edge-rnn push`: publish a signed model envelope, retained, QoS 1, and wait for the
// broker's PUBACK. With MQTT 5 the broker announces the largest packet it accepts in its
// CONNACK (EMQX: 1 MB by default, `mqtt.max_packet_size`); a larger envelope is refused
// here with both numbers, instead of the broker dropping the connection.
import mqtt, { type IConnackPacket, type MqttClient } from 'mqtt';
import { authOptions, type BrokerAuth } from './mqtt-connect.js';

export class PushError extends Error {
  override readonly name = 'PushError';
}

export interface PushOptions extends BrokerAuth {
  readonly broker: string;
  readonly topic: string;
  readonly clientId?: string;
  readonly timeoutMs?: number;
}

export interface PushReceipt {
  readonly topic: string;
  /** Bytes of the PUBLISH packet on the wire. */
  readonly packetBytes: number;
  /** What the broker announced (MQTT 5), or null when it announced no limit. */
  readonly maximumPacketSize: number | null;
  readonly mqttVersion: 4 | 5;
}

const varintLength = (n: number) => (n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4);

/** Size of a QoS 1 PUBLISH of `payloadBytes` on `topic` without properties: what a broker's maximum packet size limits. */
export function publishPacketSize(topic: string, payloadBytes: number, mqttVersion: 4 | 5): number {
  const remaining = 2 + Buffer.byteLength(topic) + 2 /* packet id */ + (mqttVersion === 5 ? 1 /* empty properties */ : 0) + payloadBytes;
  return 1 + varintLength(remaining) + remaining;
}

function connect(options: PushOptions, version: 4 | 5): Promise<{ client: MqttClient; connack: IConnackPacket }> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(options.broker, {
      ...authOptions(options),
      protocolVersion: version,
      clean: true,
      reconnectPeriod: 0, // one attempt: a push is a command, not a service
      connectTimeout: options.timeoutMs ?? 10_000,
      ...(options.clientId ? { clientId: options.clientId } : {}),
    });
    const fail = (err: Error) => {
      client.end(true);
      reject(new PushError(`cannot connect to ${options.broker}: ${err.message}`));
    };
    client.once('connect', (connack) => {
      client.removeListener('error', fail);
      resolve({ client, connack });
    });
    client.once('error', fail);
    client.once('close', () => fail(new Error('connection closed')));
  });
}

/** Publishes `envelope` retained with QoS 1 on `options.topic`; resolves after the PUBACK. */
export async function pushEnvelope(envelope: Uint8Array, options: PushOptions): Promise<PushReceipt> {
  const version = options.mqttVersion ?? 5;
  const { client, connack } = await connect(options, version);
  client.removeAllListeners('close');
  try {
    const max = connack.properties?.maximumPacketSize ?? null;
    const packetBytes = publishPacketSize(options.topic, envelope.length, version);
    if (max !== null && packetBytes > max) {
      throw new PushError(
        `the envelope is ${envelope.length} bytes (a ${packetBytes}-byte PUBLISH), larger than the broker's maximum packet size of ${max} bytes; ` +
          'raise the broker limit (EMQX: mqtt.max_packet_size, 1 MB by default; Mosquitto: max_packet_size) or push a smaller model (e.g. edge-rnn quantize)',
      );
    }
    // A broker may close the connection instead of answering (e.g. a packet too large
    // over MQTT 3.1.1, which announces no limit): that must end the wait too.
    const closed = new Promise<never>((_, reject) => client.once('close', () => reject(new Error('the broker closed the connection before its PUBACK'))));
    const timeoutMs = options.timeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no PUBACK within ${timeoutMs} ms`)), timeoutMs)));
    try {
      await Promise.race([
        client.publishAsync(options.topic, Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength), { qos: 1, retain: true }),
        closed, timeout,
      ]);
    } catch (e) {
      throw new PushError(`the broker did not accept the model on ${options.topic}: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    return { topic: options.topic, packetBytes, maximumPacketSize: max, mqttVersion: version };
  } finally {
    await client.endAsync().catch(() => undefined);
  }
}
