// ONNX protobuf bytes -> plain objects, with protobufjs (the light build: no .proto parser)
// and the ONNX schema as a JSON descriptor (onnx-schema.ts, from Debian's onnx.proto by
// scripts/make-onnx-schema.ts). Only the fields the importer reads are typed here.
import protobuf from 'protobufjs/light.js';
import { ONNX_SCHEMA } from './onnx-schema.js';
import { OnnxImportError } from './errors.js';

export interface OnnxTensor {
  readonly name?: string;
  readonly dims: readonly number[];
  readonly dataType?: number;
  readonly floatData: readonly number[];
  readonly doubleData: readonly number[];
  readonly int32Data: readonly number[];
  readonly int64Data: readonly number[];
  readonly rawData?: Uint8Array;
  readonly dataLocation?: number;
}

export interface OnnxAttribute {
  readonly name: string;
  readonly type?: number;
  readonly f?: number;
  readonly i?: number;
  readonly s?: Uint8Array;
  readonly t?: OnnxTensor;
  readonly floats: readonly number[];
  readonly ints: readonly number[];
  readonly strings: readonly Uint8Array[];
}

export interface OnnxNode {
  readonly name?: string;
  readonly opType: string;
  readonly domain?: string;
  readonly input: readonly string[];
  readonly output: readonly string[];
  readonly attribute: readonly OnnxAttribute[];
}

export interface OnnxValueInfo {
  readonly name: string;
}

export interface OnnxGraphProto {
  readonly name?: string;
  readonly node: readonly OnnxNode[];
  readonly initializer: readonly OnnxTensor[];
  readonly input: readonly OnnxValueInfo[];
  readonly output: readonly OnnxValueInfo[];
}

export interface OnnxModelProto {
  readonly irVersion?: number;
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly opsetImport: readonly { readonly domain?: string; readonly version?: number }[];
  readonly graph?: OnnxGraphProto;
}

/** Far above any model a sensor fleet runs (the shipped ones are a few KiB); checked before decoding. */
export const MAX_ONNX_BYTES = 64 * 1024 * 1024;

const ModelProto = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');

/** Decodes an ONNX model file. Throws OnnxImportError for too many bytes or bytes that are no ModelProto. */
export function decodeOnnx(bytes: Uint8Array, maxBytes = MAX_ONNX_BYTES): OnnxModelProto {
  if (bytes.length > maxBytes) throw new OnnxImportError('', `${bytes.length} bytes, above the ${maxBytes}-byte limit for an ONNX file`);
  let model: OnnxModelProto;
  try {
    model = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, arrays: true, defaults: false }) as unknown as OnnxModelProto;
  } catch (e) {
    throw new OnnxImportError('', `not an ONNX model (protobuf: ${(e as Error).message})`);
  }
  if (!model.graph || model.graph.node.length === 0) throw new OnnxImportError('', 'not an ONNX model: no graph with nodes');
  return model;
}
