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
  /** Longer device ids (UTF-8 bytes) are dead letters, before any map is keyed by them (default 128). */
  readonly maxDeviceIdBytes?: number;
  readonly counters: StreamCounters;
}

export const DEFAULT_MAX_DEVICE_ID_BYTES = 128;

// UTF-8 length without encoding in the common cases: a UTF-16 unit is 1 to 3 bytes.
function idTooLong(device: string, limit: number): boolean {
  if (device.length > limit) return true;
  if (device.length * 3 <= limit) return false;
  return Buffer.byteLength(device, 'utf8') > limit;
}

export function parseReadings(options: ParseReadingsOptions): OperatorFunction<Incoming | ModelOfferEvent, StreamEvent> {
  const deviceOf = devicesFromTopics(options.topics);
  const { counters, inputNames } = options;
  const maxId = options.maxDeviceIdBytes ?? DEFAULT_MAX_DEVICE_ID_BYTES;
  const parseOptions = options.maxBytes === undefined ? {} : { maxBytes: options.maxBytes };
  return map((msg): StreamEvent => {
    if ('kind' in msg) return msg;
    counters.received++;
    const device = deviceOf(msg.topic);
    if (device === null) {
      countDeadLetter(counters, 'no-device');
      return deadLetter(msg, 'no-device', `topic "${clip(msg.topic)}" yields no device id (patterns: ${options.topics.join(', ')})`);
    }
    // Ids are keys of the device table: an unbounded one costs memory and (V8 hashes long
    // strings by length only) CPU on every lookup of every device (issue 12).
    if (idTooLong(device, maxId)) {
      countDeadLetter(counters, 'device-id-too-long');
      return deadLetter(msg, 'device-id-too-long', `device id of ${Buffer.byteLength(device, 'utf8')} bytes ("${clip(device)}") is over the limit of ${maxId}`);
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

/** The start of an attacker-sized string, for a one-line message. */
function clip(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}
