// How this project connects to a broker: protocol version, credentials, TLS files.
// Shared by `run` (the long-lived runtime) and `push` (one publish and out), so both
// accept the same settings and read the TLS files the same way.
import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';

export interface BrokerAuth {
  readonly mqttVersion?: 4 | 5;
  readonly username?: string;
  readonly password?: string;
  /** TLS: CA certificate, client certificate and client key (PEM bytes). */
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** The mqtt.js options for `auth` (only those given). */
export function authOptions(auth: BrokerAuth): IClientOptions {
  return {
    ...(auth.mqttVersion !== undefined ? { protocolVersion: auth.mqttVersion } : {}),
    ...(auth.username !== undefined ? { username: auth.username } : {}),
    ...(auth.password !== undefined ? { password: auth.password } : {}),
    ...(auth.ca ? { ca: auth.ca } : {}),
    ...(auth.cert ? { cert: auth.cert } : {}),
    ...(auth.key ? { key: auth.key } : {}),
  };
}

/** The warning for credentials sent in plain text (mqtt://, ws://), or null when there is none. */
export function plaintextCredentialsWarning(broker: string, auth: Pick<BrokerAuth, 'username' | 'password'>): string | null {
  if (auth.username === undefined && auth.password === undefined) return null;
  if (!/^(mqtt|ws):/i.test(broker)) return null;
  return `the broker user name and password go over ${broker} in plain text (not encrypted): use mqtts:// or wss:// with --ca`;
}

// A PUBLISH is its payload plus a fixed header (5 bytes at most), the topic (2 + up to
// 65 535 bytes), a packet id (2) and MQTT 5 properties the broker forwards (expiry, alias,
// subscription ids, user properties): 4 KiB of properties is allowed for.
export const PACKET_HEADER_SLACK = 5 + 2 + 65_535 + 2 + 4096;
// The largest packet MQTT can frame: 1 + 4 length bytes + 268 435 455 remaining.
const MQTT_MAX_PACKET = 268_435_460;

export interface PayloadLimits {
  /** Largest reading payload accepted (run --max-bytes). */
  readonly readingMaxBytes: number;
  /** Largest pushed model envelope accepted (--model-max-bytes); absent: no model topic. */
  readonly modelMaxBytes?: number;
}

/**
 * MQTT 5 CONNECT properties announcing the largest packet this client accepts, to spread
 * into `properties`: a compliant broker then never sends more (it drops the message for
 * this client), so an oversized retained push cannot even reach the process (issue 13).
 * MQTT 3.1.1 has no such property: {} (the size check in the handler still applies).
 */
export function maximumPacketSizeProperty(limits: PayloadLimits, mqttVersion: 4 | 5): { maximumPacketSize?: number } {
  if (mqttVersion !== 5) return {};
  const payload = Math.max(limits.readingMaxBytes, limits.modelMaxBytes ?? 0);
  return { maximumPacketSize: Math.min(payload + PACKET_HEADER_SLACK, MQTT_MAX_PACKET) };
}

export class TlsFileError extends Error {
  override readonly name = 'TlsFileError';
}

/** Reads the TLS PEM files that are given; the error names the file and what it was for. */
export function readTlsFiles(paths: { readonly ca?: string; readonly cert?: string; readonly key?: string }): Pick<BrokerAuth, 'ca' | 'cert' | 'key'> {
  const read = (path: string | undefined, what: string): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (e) {
      throw new TlsFileError(`cannot read TLS ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const out: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  const ca = read(paths.ca, 'CA');
  const cert = read(paths.cert, 'certificate');
  const key = read(paths.key, 'key');
  if (ca) out.ca = ca;
  if (cert) out.cert = cert;
  if (key) out.key = key;
  return out;
}
