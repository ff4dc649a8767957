// The demo's status page: the runtime's observer listening on --http (127.0.0.1:9464 by
// default). A taken port is not fatal: the page moves to a free port and says so; any
// other failure leaves the demo running without a page, with one line saying why.
import { ListenError } from '../../io/observe/http-listener.js';
import { parseListenAddress } from '../../io/observe/listen-address.js';
import type { Observer } from '../../io/observe/observer.js';

export const DEMO_HTTP = '127.0.0.1:9464';

/** The URL of the page, and a line for the person (null when there is nothing to say). */
export async function listenForDemo(observer: Observer, http: string): Promise<{ url: string | null; note: string | null }> {
  const address = parseListenAddress(http);
  try {
    return { url: await observer.listen(address), note: null };
  } catch (e) {
    if (!(e instanceof ListenError)) throw e;
    if (e.code !== 'EADDRINUSE' || address.port === 0) return { url: null, note: `no status page: ${e.message}` };
    try {
      const url = await observer.listen({ ...address, port: 0 });
      return { url, note: `port ${address.port} is taken (another demo?): status page on ${url} instead` };
    } catch (e2) {
      if (e2 instanceof ListenError) return { url: null, note: `no status page: ${e2.message}` };
      throw e2;
    }
  }
}
