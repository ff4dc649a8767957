// Incoming messages -> reading events, or dead letters naming why (never an error).
// Model offers pass through untouched, in their place in the flow.
import { map, type OperatorFunction } from 'rxjs';
import { parseReading } from '../protocol/reading.js';
import { devicesFromTopics } from '../protocol/topic.js';
import { countDeadLetter, type StreamCounters } from './counters.js';
import { deadLetter, type Incoming, type ModelOfferEvent, type StreamEvent } from './events.js';

export interface ParseReadingsOptions {
  readonly inputNames: readonly string[];
  /** Subscription patterns; the device id is the level the first `+` matches. */
  readonly topics: readonly string[];
  readonly maxBytes?: number;
  readonly counters: StreamCounters;
}

export function parseReadings(options: ParseReadingsOptions): OperatorFunction<Incoming | ModelOfferEvent, StreamEvent> {
  const deviceOf = devicesFromTopics(options.topics);
  const { counters, inputNames } = options;
  const parseOptions = options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes };
  return map((msg): StreamEvent => {
    if ('kind' in msg) return msg;
    counters.received++;
    const device = deviceOf(msg.topic);
    if (device === null) {
      countDeadLetter(counters, 'no-device');
      return deadLetter(msg, 'no-device', `topic "${msg.topic}" yields no device id (patterns: ${options.topics.join(', ')})`);
    }
    const result = parseReading(msg.payload, inputNames, parseOptions);
    if (!result.ok) {
      countDeadLetter(counters, result.reason.code);
      return deadLetter(msg, result.reason.code, result.reason.message, device);
    }
    counters.readings++;
    return { kind: 'reading', device, reading: result.reading, origin: msg };
  });
}
