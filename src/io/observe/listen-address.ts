// `HOST:PORT` of the observability listener (`run --http`): 127.0.0.1:9464, [::1]:9464,
// 0.0.0.0:9464, or a bare port (then 127.0.0.1: nothing is exposed beyond the host by
// accident). 9464 is the port the observability issue (18) named.
export const DEFAULT_HTTP_PORT = 9464;
export const DEFAULT_HTTP_HOST = '127.0.0.1';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export class ListenAddressError extends Error {
  override readonly name = 'ListenAddressError';
}

export function parseListenAddress(text: string): ListenAddress {
  const t = text.trim();
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]*)):(\d{1,5})$/.exec(t) ?? (/^\d{1,5}$/.test(t) ? [t, undefined, DEFAULT_HTTP_HOST, t] : null);
  if (!m) throw new ListenAddressError(`"${text}" is not HOST:PORT (e.g. 127.0.0.1:${DEFAULT_HTTP_PORT}, [::1]:${DEFAULT_HTTP_PORT}, 0.0.0.0:${DEFAULT_HTTP_PORT})`);
  const port = Number(m[3]);
  if (port > 65535) throw new ListenAddressError(`"${text}": port ${port} is above 65535`);
  return { host: m[1] ?? (m[2] || DEFAULT_HTTP_HOST), port };
}

/** The URL a person opens for an address (a wildcard host shown as 127.0.0.1). */
export function urlOf(a: ListenAddress): string {
  const host = a.host === '0.0.0.0' || a.host === '::' ? '127.0.0.1' : a.host.includes(':') ? `[${a.host}]` : a.host;
  return `http://${host}:${a.port}/`;
}
