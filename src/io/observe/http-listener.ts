// The observability listener (node:http): GET only, small fixed routes, no request body
// read. `/metrics` (Prometheus text 0.0.4), `/healthz` (alive), `/readyz` (connected, a
// model serving, no failed probation: 200 or 503 with the reasons), and whatever the
// status page adds (`/`, its assets, `/api/status`, `/events`).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EXPOSITION_CONTENT_TYPE } from './exposition.js';
import { urlOf, type ListenAddress } from './listen-address.js';

export type Route = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpSources {
  /** The exposition document, written at each scrape. */
  metrics(): string;
  readiness(): { readonly ready: boolean; readonly reasons: readonly string[] };
  /** More routes by exact path (the status page). */
  readonly routes?: Readonly<Record<string, Route>>;
}

export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(message: string, readonly code: string | undefined) {
    super(message);
  }
}

export interface HttpListener {
  readonly address: ListenAddress;
  /** http://host:port/ */
  readonly url: string;
  close(): Promise<void>;
}

function handler(s: HttpSources): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('only GET\n');
      return;
    }
    try {
      if (path === '/metrics') {
        res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE, 'cache-control': 'no-store' }).end(s.metrics());
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok\n');
      } else if (path === '/readyz') {
        const r = s.readiness();
        res.writeHead(r.ready ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
          .end(r.ready ? 'ready\n' : `not ready: ${r.reasons.join('; ')}\n`);
      } else if (s.routes?.[path]) {
        s.routes[path](req, res);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`no ${path} here: try /metrics, /healthz, /readyz or /\n`);
      }
    } catch (e) {
      // A bug in a route answers 500; it never takes the runtime down.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`internal error: ${(e as Error).message}\n`);
    }
  };
}

/** Listens on `address`; rejects with a ListenError naming the address when it cannot (taken, not permitted, no such host). */
export function startHttpListener(address: ListenAddress, sources: HttpSources): Promise<HttpListener> {
  const server: Server = createServer(handler(sources));
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'the port is taken (another edge-rnn, or another exporter?)'
        : err.code === 'EACCES' ? 'not permitted (ports below 1024 need privileges)'
        : err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND' ? 'no such address on this host' : err.message;
      reject(new ListenError(`cannot listen on ${address.host}:${address.port}: ${why}`, err.code));
    });
    server.listen(address.port, address.host, () => {
      const bound = { host: address.host, port: (server.address() as AddressInfo).port };
      server.unref(); // the runtime decides when the process ends, not the listener
      resolve({
        address: bound, url: urlOf(bound),
        close: () => new Promise<void>((res) => {
          server.close(() => res());
          server.closeAllConnections?.(); // event streams never end by themselves (Node >= 18.2)
        }),
      });
    });
  });
}
