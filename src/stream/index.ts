export * from './events.js';
export { createCounters, countDeadLetter, LatencyWindow, type StreamCounters } from './counters.js';
export { DeviceTable, DEFAULT_MAX_DEVICES, type DeviceTableOptions } from './device-table.js';
export { parseReadings, type ParseReadingsOptions } from './parse-readings.js';
export { inferPerDevice, type InferOptions } from './infer-per-device.js';
export { batchSameTick } from './batch-same-tick.js';
export { toPredictions, modelStatusDocument, type ToPredictionsOptions } from './to-predictions.js';
export { ModelSlot, recurrentShape, sameInputs, DEFAULT_PROBATION, type SwapOptions, type OfferVerdict } from './model-slot.js';
export { inferenceLine, type InferenceLineOptions } from './inference-line.js';
