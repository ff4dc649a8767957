// What the runtime does with the stream's verdicts on pushed models: persist each
// lifecycle transition in the store (so a restart serves only a committed model and keeps
// the anti-rollback floor) and log it at the level it deserves.
import type { ModelStatusEvent } from '../../stream/events.js';
import type { Logger } from '../logger.js';
import type { ModelStore } from '../model-store.js';

export function modelStatusRecorder(log: Logger, store: ModelStore | undefined): (e: ModelStatusEvent) => void {
  return (e) => {
    try {
      store?.record(e);
    } catch (err) {
      log.error({ err: (err as Error).message, stateFile: store?.stateFile }, `could not persist the model ${e.status} event; a restart may not know it`);
    }
    const about = { name: e.name, version: e.version, code: e.code, sha256: e.sha256, keyId: e.keyId, running: e.running };
    switch (e.status) {
      case 'accepted':
        log.info({ ...about, statesKept: e.statesKept, statesReason: e.statesReason, probation: e.probation, supersedes: e.supersedes }, `model accepted: ${e.name} v${e.version} now serving (states ${e.statesKept ? 'kept' : 'reset'}: ${e.statesReason}${e.probation ? ', on probation' : ''})`);
        break;
      case 'rolled-back':
        log.error({ ...about, reason: e.reason, publishedOnProbation: e.publishedOnProbation }, `model rolled back: ${e.name} v${e.version} failed probation (${e.reason}); ${e.running.name} v${e.running.version} serving again`);
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
