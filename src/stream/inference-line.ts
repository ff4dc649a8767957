// The whole live path, messages in -> messages out, shared by `run` (and by tests without
// a network): parse, step per device (swapping in pushed models between readings), encode.
import { pipe, type OperatorFunction } from 'rxjs';
import type { Session } from '../runtime/session.js';
import type { StreamCounters } from './counters.js';
import type { DeviceTable, DeviceTableOptions } from './device-table.js';
import type { Incoming, ModelOfferEvent, Outgoing } from './events.js';
import { inferPerDevice } from './infer-per-device.js';
import type { GuardOptions } from './input-guard.js';
import type { SwapOptions } from './model-slot.js';
import { parseReadings } from './parse-readings.js';
import { toPredictions, type ToPredictionsOptions } from './to-predictions.js';

// DeviceTableOptions: maxDevices, resetAfterMs, seqWindow, maxSeqJump; GuardOptions: guardZ, guardPolicy.
export interface InferenceLineOptions extends ToPredictionsOptions, DeviceTableOptions, GuardOptions {
  readonly topics: readonly string[];
  readonly maxBytes?: number;
  readonly maxDeviceIdBytes?: number;
  readonly counters: StreamCounters;
  readonly clock?: () => number;
  readonly onTable?: (table: DeviceTable) => void;
  readonly swap?: SwapOptions;
}

export function inferenceLine(session: Session, options: InferenceLineOptions): OperatorFunction<Incoming | ModelOfferEvent, Outgoing> {
  return pipe(
    parseReadings({ inputNames: session.model.inputs.names, topics: options.topics, maxBytes: options.maxBytes, maxDeviceIdBytes: options.maxDeviceIdBytes, counters: options.counters }),
    inferPerDevice(session, options),
    toPredictions(session.model, options),
  );
}
