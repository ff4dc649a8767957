export { importOnnx, type ImportOptions, type ImportResult, type ImportFacts, type Normalisation } from './import-onnx.js';
export { importCard } from './card.js';
export { OnnxImportError } from './errors.js';
export { decodeOnnx, MAX_ONNX_BYTES } from './onnx-proto.js';
