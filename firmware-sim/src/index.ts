// firmware-sim as a library: plan traffic (pure, seeded), play it over MQTT.
export * from './plan.js';
export { startFleet, FLEET_DEFAULTS, type Fleet, type FleetOptions, type FleetReport } from './fleet.js';
export { SimNode, type SimNodeOptions, type NodeStats, type NodeLog } from './node.js';
export { encodeReading, malformedPayload, MALFORMED_KINDS, PAYLOAD_FORMATS, type PayloadFormat, type MalformedKind, type ReadingDoc } from './payload.js';
export { DEFAULT_SIGNALS, syntheticSource, type SignalSpec } from './signals.js';
export { loadMoteSeries, MOTE_DATA_PATH, MOTE_PERIOD_MS, MoteDataError, type MoteSeries } from './mote-data.js';
export { rngFor, mulberry32, gaussian, type Rng } from './rng.js';
export * from './options.js';
