// The whole live path, messages in -> messages out, shared by `run` (and by tests without
// a network): parse, step per device (swapping in pushed models between readings), encode.
import { pipe, type OperatorFunction } from 'rxjs';
import type { Session } from '../runtime/session.js';
import type { Incoming, ModelOfferEvent, Outgoing } from './events.js';
import { inferPerDevice, type InferOptions } from './infer-per-device.js';
import { parseReadings, type ParseReadingsOptions } from './parse-readings.js';
import { toPredictions, type ToPredictionsOptions } from './to-predictions.js';

// The options of its three stages (the input names come from the session's model).
export type InferenceLineOptions = Omit<ParseReadingsOptions, 'inputNames'> & InferOptions & ToPredictionsOptions;

export function inferenceLine(session: Session, options: InferenceLineOptions): OperatorFunction<Incoming | ModelOfferEvent, Outgoing> {
  return pipe(
    parseReadings({ inputNames: session.model.inputs.names, topics: options.topics, maxBytes: options.maxBytes, maxDeviceIdBytes: options.maxDeviceIdBytes, counters: options.counters }),
    inferPerDevice(session, options),
    toPredictions(session.model, options),
  );
}
