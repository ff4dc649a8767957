// The MQTT client as the runtime sees it: just the members of mqtt.js's MqttClient that it
// uses (the seam mqtt.js itself uses for its keepalive timer), so the runtime's logic runs
// in tests on a fake client and a virtual clock (test/helpers/fake-mqtt-client.ts) as well
// as against Mosquitto.
import mqtt, {
  type DoneCallback, type IClientOptions, type IClientPublishOptions, type IClientSubscribeOptions,
  type IConnackPacket, type IPublishPacket, type ISubscriptionGrant,
} from 'mqtt';

export interface RuntimeClient {
  readonly connected: boolean;
  /** mqtt.js reads `reconnectPeriod` and `will` from here when it reconnects. */
  readonly options: IClientOptions;
  /** Called per incoming PUBLISH; mqtt.js sends the PUBACK when `done` runs. */
  handleMessage: (packet: IPublishPacket, done: DoneCallback) => void;
  publish(topic: string, message: string | Buffer, opts: IClientPublishOptions, callback?: (err?: Error) => void): unknown;
  publishAsync(topic: string, message: string | Buffer, opts: IClientPublishOptions): Promise<unknown>;
  subscribe(topics: string[], opts: IClientSubscribeOptions, callback: (err: Error | null, granted?: ISubscriptionGrant[]) => void): unknown;
  on(event: 'connect', listener: (connack: IConnackPacket) => void): unknown;
  on(event: 'reconnect' | 'offline', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  endAsync(force?: boolean): Promise<void>;
}

/** Makes the client; tests pass a fake. */
export type ConnectClient = (brokerUrl: string, options: IClientOptions) => RuntimeClient;

export const connectMqtt: ConnectClient = (brokerUrl, options) => mqtt.connect(brokerUrl, options);

/** The runtime's clocks: wall time for readings without `ts`, a monotonic one for latency. */
export interface RuntimeClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Monotonic milliseconds. */
  monotonic(): number;
}

export const systemClock: RuntimeClock = { now: () => Date.now(), monotonic: () => performance.now() };
