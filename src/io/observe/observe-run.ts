// The observer `edge-rnn run` starts from its settings (none when every observability
// setting is off, so a plain `run` pays nothing).
import type { Model } from '../../model/types.js';
import { topicFiller, fillTopic } from '../../protocol/topic.js';
import type { Logger } from '../logger.js';
import type { ObserveConfig } from './observe-config.js';
import { Observer } from './observer.js';

export function observerFor(model: Model, o: ObserveConfig, run: { readonly instance: string; readonly predictionTopic: string }, log: Logger): Observer | null {
  if (!o.http && !o.metricsInterval && o.haDiscovery === null) return null;
  return new Observer(model, {
    instance: run.instance, log,
    ...(o.http ? { http: o.http } : {}),
    ...(o.metricsInterval ? { metricsTopic: fillTopic(o.metricsTopic, { instance: run.instance }), metricsIntervalMs: o.metricsInterval } : {}),
    ...(o.haDiscovery !== null ? { haDiscovery: { prefix: o.haDiscovery, predictionTopic: topicFiller(run.predictionTopic, run.instance) } } : {}),
  });
}
