// `edge-rnn push`: publish a signed model envelope, retained, QoS 1, and wait for the
// broker's PUBACK. With MQTT 5 the broker announces the largest packet it accepts in its
// CONNACK (EMQX: 1 MB by default, `mqtt.max_packet_size`); a larger envelope is refused
// here with both numbers, instead of the broker dropping the connection.
//
// A PUBACK only says the broker stored the push (issue 13: `push` called a push every
// device rejected "acknowledged"). So, before publishing, the retained push already on the
// topic is read and a version not newer is refused (a retained older push would replace
// the good model for every device started later); and with `waitMs` the instances' model
// status topics are watched for their verdicts (src/io/push-verdicts.ts).
import mqtt, { type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import { DEFAULT_ENVELOPE_MAX_BYTES, EnvelopeError, readEnvelopeInfo, type ClaimedEnvelope } from './model-envelope.js';
import { authOptions, maximumPacketSizeProperty, type BrokerAuth } from './mqtt-connect.js';
import { VerdictTracker, type InstanceVerdict } from './push-verdicts.js';

export class PushError extends Error {
  override readonly name = 'PushError';
}

export interface PushOptions extends BrokerAuth {
  readonly broker: string;
  readonly topic: string;
  readonly clientId?: string;
  readonly timeoutMs?: number;
  /** Cap on an envelope (ours and the retained one read back); default DEFAULT_ENVELOPE_MAX_BYTES. */
  readonly modelMaxBytes?: number;
  /** Publish even when the broker retains a version at least as new. */
  readonly force?: boolean;
  /** How long to wait for the retained push after subscribing (ms); default 1000. */
  readonly retainedWaitMs?: number;
  /** Wait this long for verdicts (ms); 0 or absent: do not wait. */
  readonly waitMs?: number;
  /** Model status topics (patterns) of the instances; default `edge-rnn/+/model`. */
  readonly statusTopics?: readonly string[];
}

/** The push retained on the topic before this one: what it claims (signature not checked). */
export type RetainedPush = ClaimedEnvelope | { readonly unreadable: string };

export interface PushReceipt {
  readonly topic: string;
  /** Bytes of the PUBLISH packet on the wire. */
  readonly packetBytes: number;
  /** What the broker announced (MQTT 5), or null when it announced no limit. */
  readonly maximumPacketSize: number | null;
  readonly mqttVersion: 4 | 5;
  /** null: nothing was retained (or --force skipped the check). */
  readonly replaced: RetainedPush | null;
  /** With waitMs: every instance's last word on this push, and those known that said nothing. */
  readonly verdicts?: readonly InstanceVerdict[];
  readonly silent?: readonly string[];
}

export const DEFAULT_STATUS_TOPICS = ['edge-rnn/+/model'] as const;

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
      // The retained push read back is bounded too: the broker sends nothing larger.
      ...(version === 5 ? { properties: maximumPacketSizeProperty({ readingMaxBytes: 0, modelMaxBytes: options.modelMaxBytes ?? DEFAULT_ENVELOPE_MAX_BYTES }, 5) } : {}),
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

/** The retained message on `topic` (or null), waiting at most `ms` after the SUBACK. */
async function readRetained(client: MqttClient, topic: string, ms: number): Promise<Uint8Array | null> {
  let onMessage!: (t: string, payload: Buffer, packet: IPublishPacket) => void;
  let timer: NodeJS.Timeout | undefined;
  const found = new Promise<Uint8Array | null>((resolve) => {
    onMessage = (t, payload, packet) => {
      if (t === topic && packet.retain) resolve(payload);
    };
    client.on('message', onMessage);
  });
  try {
    await client.subscribeAsync(topic, { qos: 1 });
    return await Promise.race([found, new Promise<null>((r) => (timer = setTimeout(() => r(null), ms)))]);
  } finally {
    clearTimeout(timer);
    client.removeListener('message', onMessage);
    await client.unsubscribeAsync(topic).catch(() => undefined);
  }
}

/** Refuses to replace a retained push of a version at least as new (the caller skips this with --force). */
async function checkRetained(client: MqttClient, pushed: ClaimedEnvelope, options: PushOptions): Promise<RetainedPush | null> {
  const bytes = await readRetained(client, options.topic, options.retainedWaitMs ?? 1000);
  if (bytes === null || bytes.length === 0) return null;
  let retained: RetainedPush;
  try {
    retained = readEnvelopeInfo(bytes, { maxBytes: options.modelMaxBytes ?? DEFAULT_ENVELOPE_MAX_BYTES });
  } catch (e) {
    if (!(e instanceof EnvelopeError)) throw e;
    return { unreadable: `${e.code}: ${e.message}` };
  }
  if (retained.modelVersion >= pushed.modelVersion) {
    throw new PushError(
      `${options.topic} already retains ${retained.name} v${retained.modelVersion} (as it claims: its signature is not checked here); ` +
        `${pushed.name} v${pushed.modelVersion} is not newer, and would replace it for every device started later: pass --force to push it anyway`,
    );
  }
  return retained;
}

/** Subscribes to the status topics before the push, so no verdict is missed. */
async function watchVerdicts(client: MqttClient, pushed: ClaimedEnvelope, topics: readonly string[]): Promise<VerdictTracker> {
  const tracker = new VerdictTracker(topics, pushed.sha256);
  client.on('message', (topic, payload, packet) => {
    // Retained copies are what instances said before; they tell which instances exist.
    if (packet.retain) tracker.sawRetained(topic);
    else tracker.offer(topic, payload);
  });
  await client.subscribeAsync([...topics], { qos: 1 });
  return tracker;
}

async function publishRetained(client: MqttClient, envelope: Uint8Array, options: PushOptions): Promise<void> {
  // A broker may close the connection instead of answering (e.g. a packet too large
  // over MQTT 3.1.1, which announces no limit): that must end the wait too.
  const closed = new Promise<never>((_, reject) => client.once('close', () => reject(new Error('the broker closed the connection before its PUBACK'))));
  closed.catch(() => undefined);
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
}

/** Resolves when every instance has given its last word, or after `ms`. */
async function awaitSettled(tracker: VerdictTracker, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!tracker.settled() && Date.now() < until) await new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, until - Date.now()))));
}

/**
 * Publishes `envelope` retained with QoS 1 on `options.topic`; resolves after the PUBACK
 * (and, with `waitMs`, after the instances' verdicts or the wait).
 */
export async function pushEnvelope(envelope: Uint8Array, options: PushOptions): Promise<PushReceipt> {
  const version = options.mqttVersion ?? 5;
  const maxBytes = options.modelMaxBytes ?? DEFAULT_ENVELOPE_MAX_BYTES;
  let pushed: ClaimedEnvelope;
  try {
    pushed = readEnvelopeInfo(envelope, { maxBytes });
  } catch (e) {
    if (e instanceof EnvelopeError) throw new PushError(`refusing to push: ${e.message}${e.code === 'too-large' ? ' that devices apply (--model-max-bytes)' : ''}`);
    throw e;
  }
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
    const replaced = options.force ? null : await checkRetained(client, pushed, options);
    const waitMs = options.waitMs ?? 0;
    const watch = waitMs > 0 ? await watchVerdicts(client, pushed, options.statusTopics ?? DEFAULT_STATUS_TOPICS) : null;
    await publishRetained(client, envelope, options);
    const receipt = { topic: options.topic, packetBytes, maximumPacketSize: max, mqttVersion: version, replaced };
    if (!watch) return receipt;
    await awaitSettled(watch, waitMs);
    return { ...receipt, verdicts: watch.verdicts(), silent: watch.silent() };
  } finally {
    await client.endAsync().catch(() => undefined);
  }
}

/** Removes the retained push on `options.topic` (an empty retained message); resolves after the PUBACK. */
export async function clearRetainedPush(options: PushOptions): Promise<void> {
  const { client } = await connect(options, options.mqttVersion ?? 5);
  client.removeAllListeners('close');
  try {
    await publishRetained(client, new Uint8Array(0), options);
  } finally {
    await client.endAsync().catch(() => undefined);
  }
}
