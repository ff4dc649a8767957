export { parseReading, isMsgpack, DEFAULT_MAX_BYTES, type Reading, type Rejection, type RejectCode, type ParseResult, type ParseOptions } from './reading.js';
export { buildPrediction, encodePrediction, f32Json, argmax, outputKeys, type Prediction, type PredictionInput } from './prediction.js';
export { deviceMatcher, devicesFromTopics, fillTopic } from './topic.js';
