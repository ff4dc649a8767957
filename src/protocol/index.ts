export { parseReading, isMsgpack, DEFAULT_MAX_BYTES, type Reading, type Rejection, type RejectCode, type ParseResult, type ParseOptions } from './reading.js';
export { buildPrediction, encodePrediction, f32Json, f32JsonText, argmax, outputKeys, type Prediction, type PredictionInput } from './prediction.js';
export { deviceMatcher, devicesFromTopics, fillTopic, topicFiller } from './topic.js';
