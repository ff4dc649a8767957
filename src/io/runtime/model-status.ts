// What the runtime does with the stream's verdicts on pushed models: log each one at the
// level it deserves and keep the store in step (accepted envelopes saved, rollbacks
// recorded), so a restart comes back with the same model.
import type { ModelStatusEvent } from '../../stream/events.js';
import type { Logger } from '../logger.js';
import type { ModelStore } from '../model-store.js';

export function modelStatusRecorder(log: Logger, store: ModelStore | undefined): (e: ModelStatusEvent) => void {
  return (e) => {
    const about = { name: e.name, version: e.version, code: e.code, sha256: e.sha256, keyId: e.keyId, running: e.running };
    switch (e.status) {
      case 'accepted':
        log.info({ ...about, statesKept: e.statesKept, probation: e.probation }, `model accepted: ${e.name} v${e.version} now serving (states ${e.statesKept ? 'kept' : 'reset'}, probation ${e.probation} readings)`);
        if (store && e.origin.payload) {
          try {
            store.save(e.origin.payload);
          } catch (err) {
            log.error({ err: (err as Error).message, dir: store.dir }, 'could not store the accepted model; a restart will not come back with it');
          }
        }
        break;
      case 'rolled-back':
        log.error({ ...about, reason: e.reason }, `model rolled back: ${e.name} v${e.version} failed probation (${e.reason}); ${e.running.name} v${e.running.version} serving again`);
        try {
          store?.rollBack({ name: e.name!, version: e.version! });
        } catch (err) {
          log.error({ err: (err as Error).message }, 'could not record the rollback in the model store');
        }
        break;
      case 'rejected':
        log.warn({ ...about, reason: e.reason, topic: e.origin.topic }, `pushed model rejected (${e.code}): ${e.reason}`);
        break;
      case 'committed':
        log.info(about, `model ${e.name} v${e.version} passed probation`);
        break;
      case 'unchanged':
        log.debug(about, 'pushed model is the one running');
        break;
    }
  };
}
