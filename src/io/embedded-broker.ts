// The embedded MQTT broker (aedes, in-process) for `edge-rnn demo`: nothing to install.
// It speaks MQTT 3.1.1 only, so its clients use protocol version 4.
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';

export interface EmbeddedBroker {
  readonly url: string;
  readonly port: number;
  /** Messages published through it (every client), by topic prefix counting left to the caller. */
  onPublish(listener: (topic: string, payload: Buffer, clientId: string | null) => void): void;
  close(): Promise<void>;
}

/** Starts aedes on 127.0.0.1 at `port` (0: a free port). */
export async function startEmbeddedBroker(port = 0): Promise<EmbeddedBroker> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    broker.handle(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    url: `mqtt://127.0.0.1:${bound}`,
    port: bound,
    onPublish(listener) {
      broker.on('publish', (packet, client) => {
        if (client) listener(packet.topic, Buffer.from(packet.payload as Buffer), client.id);
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
