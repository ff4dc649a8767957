// The retained status document of a runtime instance ({state, instance, clientId, model,
// sessionLosses, at}): `online` on every connect and after each model change, `offline` as
// the last will and at a clean stop. It always names the model serving now, with its sha256.
import type { StreamCounters } from '../../stream/counters.js';
import type { ModelStatusEvent } from '../../stream/events.js';
import type { Identity } from './client-options.js';
import type { RunningModel } from './options.js';

export class RuntimeStatus {
  constructor(
    private readonly id: Identity,
    public running: RunningModel,
    private readonly counters: StreamCounters,
    private readonly now: () => number,
  ) {}

  document(state: 'online' | 'offline'): string {
    const { instance, clientId } = this.id;
    return JSON.stringify({ state, instance, clientId, model: this.running, sessionLosses: this.counters.sessionLosses, at: new Date(this.now()).toISOString() });
  }

  /** Follow a model decision of the stream; true when the serving model changed. */
  follow(e: ModelStatusEvent): boolean {
    const before = this.running;
    const changed = e.running.name !== before.name || e.running.version !== before.version;
    const sha256 = e.running.sha256 ?? (e.status === 'accepted' ? e.sha256 : changed ? undefined : before.sha256);
    this.running = sha256 ? { name: e.running.name, version: e.running.version, sha256 } : { name: e.running.name, version: e.running.version };
    return changed;
  }
}
