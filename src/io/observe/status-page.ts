// The live status page's routes: the static files (page-files.ts), `/api/status` (the
// whole picture as JSON) and `/events` (server-sent events: the same picture once, then
// every `intervalMs` an update with only the chart points added since). One update is
// built per tick for every listener, so ten open pages cost one.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { Route } from './http-listener.js';
import { pageFiles } from './page-files.js';
import type { SseHub } from './sse.js';

function staticRoute(type: string, gz: Buffer): Route {
  let plain: Buffer | null = null;
  return (req: IncomingMessage, res: ServerResponse) => {
    const gzipOk = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzipOk ? gz : (plain ??= gunzipSync(gz));
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache', vary: 'accept-encoding', ...(gzipOk ? { 'content-encoding': 'gzip' } : {}) });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

export interface StatusPageSources {
  /** The whole picture (every tracked device with all its points). */
  snapshot(): unknown;
  readonly hub: SseHub;
}

export function statusPageRoutes(s: StatusPageSources): Record<string, Route> {
  const routes: Record<string, Route> = {};
  for (const f of pageFiles()) routes[f.path] = staticRoute(f.type, f.gz);
  routes['/index.html'] = routes['/'];
  routes['/api/status'] = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(s.snapshot()));
  };
  routes['/events'] = (req, res) => s.hub.open(req, res, { event: 'snapshot', data: s.snapshot() });
  return routes;
}
