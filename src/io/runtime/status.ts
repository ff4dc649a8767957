// The retained status document of a runtime instance ({state, instance, clientId, model,
// sessionLosses, counts, at}): `online` on every connect, after each model change and with
// every health line; `offline` as the last will and at a clean stop. It always names the
// model serving now, with its sha256, and counts where every reading went: each message
// received is a prediction, a dead letter (by reason), a duplicate, or (a windowed model)
// a reading taken into a window it does not end (`inWindow`, left out when 0).
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
    const c = this.counters;
    const counts = {
      received: c.received, predictions: c.predictions, deadLetters: c.deadLetters, deadByReason: c.deadByReason, duplicates: c.duplicates,
      missed: c.missedReadings, gapResets: c.resets, reboots: c.reboots, evictions: c.evictions, devices: c.devices,
      ...(c.inWindow ? { inWindow: c.inWindow } : {}),
    };
    return JSON.stringify({ state, instance, clientId, model: this.running, sessionLosses: c.sessionLosses, counts, at: new Date(this.now()).toISOString() });
  }

  /** Follow a model decision of the stream; true when the serving model changed. */
  follow(e: ModelStatusEvent): boolean {
    const before = this.running;
    this.running = { ...e.running }; // the stream's lifecycle names it, sha256 included when known
    return e.running.name !== before.name || e.running.version !== before.version;
  }
}
