// Server-sent events (text/event-stream) to a bounded set of listeners: `event: name` and
// one `data:` line of JSON per message, a comment line as heartbeat so proxies keep the
// connection. A listener that cannot keep up (its socket buffer full) is dropped rather
// than buffered without bound.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const MAX_SSE_LISTENERS = 16;
/** Bytes queued on one listener's socket beyond which it is dropped. */
const MAX_BUFFERED_BYTES = 1 << 20;

export class SseHub {
  private readonly listeners = new Set<ServerResponse>();

  constructor(private readonly maxListeners = MAX_SSE_LISTENERS) {}

  get size(): number {
    return this.listeners.size;
  }

  /** Takes the request over as an event stream; `first` is sent to it alone. Refuses (503) beyond the cap. */
  open(req: IncomingMessage, res: ServerResponse, first?: { event: string; data: unknown }): void {
    if (this.listeners.size >= this.maxListeners) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '10' }).end(`at most ${this.maxListeners} event streams at once\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    if (first) res.write(frame(first.event, first.data));
    this.listeners.add(res);
    const drop = () => this.listeners.delete(res);
    req.on('close', drop);
    res.on('error', drop);
  }

  /** Serialises once, writes to every listener. */
  broadcast(event: string, data: unknown): void {
    if (this.listeners.size === 0) return;
    const text = frame(event, data);
    for (const res of this.listeners) {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        this.listeners.delete(res);
        res.destroy();
      } else res.write(text);
    }
  }

  heartbeat(): void {
    for (const res of this.listeners) res.write(': keep-alive\n\n');
  }

  closeAll(): void {
    for (const res of this.listeners) res.end();
    this.listeners.clear();
  }
}

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`; // JSON.stringify never emits a raw line feed
}
