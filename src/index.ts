// The library entry of the npm package (`import … from 'edge-rnn'`, issue 17): the model
// codec and types, createSession, the sensor protocol and the RxJS stream operators. Pure
// modules only (their one run-time dependencies are msgpackr and rxjs): no MQTT, files or
// CLI, which ship as the bundles behind `npx edge-rnn`.
export * from './model/index.js';
export { quantizeModel, dequantizeModel, type QuantizeOptions } from './model/quantize.js';
export { createSession, type Session, type SessionOptions, type KernelChoice, type StreamState } from './runtime/session.js';
export * from './protocol/index.js';
export * from './stream/index.js';
