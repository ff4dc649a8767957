// Terminal events -> messages to publish: predictions on their device's topic, dead
// letters with the reason and the original topic, nothing for dropped duplicates, model
// status (accepted / rejected / rolled back / committed) retained on the model topic.
import { map, type OperatorFunction } from 'rxjs';
import type { Model } from '../model/types.js';
import { encodePrediction } from '../protocol/prediction.js';
import { fillTopic, topicFiller } from '../protocol/topic.js';
import type { ModelStatusEvent, Outgoing, StreamEvent } from './events.js';

export interface ToPredictionsOptions {
  /** e.g. `predictions/{device}` */
  readonly predictionTopic: string;
  /** e.g. `edge-rnn/{instance}/dead-letter` */
  readonly deadLetterTopic: string;
  readonly instance: string;
  /** Bytes of the original payload copied into a dead letter (base64). */
  readonly deadLetterPayloadBytes?: number;
  /** e.g. `edge-rnn/{instance}/model`; model status is not published without it. */
  readonly modelStatusTopic?: string;
}

const encoder = new TextEncoder();
/** Characters of the original topic kept in a dead letter. */
const DEAD_LETTER_TOPIC_CHARS = 256;

/** The retained model status document: {event, name, version, code, reason, sha256, keyId, running, at}. */
export function modelStatusDocument(e: ModelStatusEvent): Record<string, unknown> {
  const { status: event, name, version, code, reason, sha256, keyId, running, statesKept, statesReason, probation, supersedes, publishedOnProbation } = e;
  const doc: Record<string, unknown> = { event, name, version, code, reason, sha256, keyId, running, statesKept, statesReason, probation, supersedes, publishedOnProbation };
  for (const k of Object.keys(doc)) if (doc[k] === undefined) delete doc[k];
  doc.at = new Date(e.origin.receivedAt).toISOString();
  return doc;
}

// `_model`: the model at start, kept for the signature; each prediction names its own.
export function toPredictions(_model: Model, options: ToPredictionsOptions): OperatorFunction<StreamEvent, Outgoing> {
  const deadTopic = fillTopic(options.deadLetterTopic, { instance: options.instance });
  const statusTopic = options.modelStatusTopic === undefined ? null : fillTopic(options.modelStatusTopic, { instance: options.instance });
  const keep = options.deadLetterPayloadBytes ?? 1024;
  const predictionTopic = topicFiller(options.predictionTopic, options.instance);
  return map((event): Outgoing => {
    switch (event.kind) {
      case 'prediction': {
        const { device, reading } = event;
        const payload = encodePrediction(event.model, { device, seq: reading.seq, ts: reading.ts ?? event.origin.receivedAt, steps: event.steps, anomaly: event.anomaly, window: event.window }, event.y);
        return { topic: predictionTopic(device), payload, event };
      }
      case 'dead-letter': {
        const raw = event.origin.payload;
        const topic = event.origin.topic;
        const doc = {
          reason: event.code,
          message: event.message,
          // A topic can be 64 KiB: its start says where it came from, its length how long it was.
          topic: topic === undefined ? null : topic.length > DEAD_LETTER_TOPIC_CHARS ? topic.slice(0, DEAD_LETTER_TOPIC_CHARS) : topic,
          ...(topic !== undefined && topic.length > DEAD_LETTER_TOPIC_CHARS ? { topicBytes: Buffer.byteLength(topic, 'utf8') } : {}),
          ...(event.device !== undefined ? { device: event.device } : {}),
          receivedAt: event.origin.receivedAt,
          ...(raw ? { bytes: raw.length, payload: Buffer.from(raw.subarray(0, keep)).toString('base64'), truncated: raw.length > keep } : {}),
        };
        return { topic: deadTopic, payload: encoder.encode(JSON.stringify(doc)), event };
      }
      case 'model-status':
        // `unchanged` (the running model redelivered) is not news: nothing to publish.
        if (statusTopic === null || event.status === 'unchanged') return { topic: null, payload: null, event };
        return { topic: statusTopic, payload: encoder.encode(JSON.stringify(modelStatusDocument(event))), retain: true, event };
      default:
        // A dropped duplicate (already predicted), or a reading that was never stepped.
        return { topic: null, payload: null, event };
    }
  });
}
