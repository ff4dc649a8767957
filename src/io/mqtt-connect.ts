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
