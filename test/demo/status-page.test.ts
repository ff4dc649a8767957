// The demo's status page when its port is taken: it moves to a free port and says so,
// rather than stopping the demo.
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { listenForDemo } from '../../src/cli/demo/status-page.js';
import { silentLogger } from '../../src/io/logger.js';
import { Observer } from '../../src/io/observe/observer.js';
import type { Runtime } from '../../src/io/runtime/options.js';
import { readModelFile } from '../../src/io/model-file.js';
import { createCounters } from '../../src/stream/counters.js';

const MODEL = new URL('../../models/example-lstm.msgpack', import.meta.url).pathname;

function fakeRuntime(): Runtime {
  return {
    counters: createCounters(), checkpoints: { checkpointRestored: 0, checkpointColdStarts: 0, checkpointWrites: 0, checkpointWriteErrors: 0 },
    client: { connected: true, on: () => undefined, publish: () => undefined } as unknown as Runtime['client'],
    clientId: 'c', statusTopic: 'edge-rnn/t/status', model: () => ({ name: 'example-lstm', version: 1 }),
    ready: Promise.resolve(), closed: Promise.resolve(), stop: async () => undefined,
  };
}

describe('demo status page', () => {
  it('moves to a free port when its port is taken, and the page answers there', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as { port: number }).port;
    const observer = new Observer(readModelFile(MODEL).model, { instance: 't', log: silentLogger() });
    await observer.start(fakeRuntime());
    try {
      const page = await listenForDemo(observer, `127.0.0.1:${taken}`);
      expect(page.note).toMatch(new RegExp(`^port ${taken} is taken \\(another demo\\?\\): status page on http://127\\.0\\.0\\.1:\\d+/ instead$`));
      expect(page.url).not.toBe(`http://127.0.0.1:${taken}/`);
      const r = await fetch(`${page.url}readyz`);
      expect(r.status).toBe(200);
    } finally {
      await observer.stop();
      blocker.close();
    }
  });

  it('says why there is no page when it cannot listen at all (no such address)', async () => {
    const observer = new Observer(readModelFile(MODEL).model, { instance: 't', log: silentLogger() });
    await observer.start(fakeRuntime());
    const page = await listenForDemo(observer, '192.0.2.1:9464'); // TEST-NET-1: not on this host
    expect(page).toEqual({ url: null, note: 'no status page: cannot listen on 192.0.2.1:9464: no such address on this host' });
    await observer.stop();
  });
});
