// An index over one ONNX graph: which node makes and which nodes read each tensor, the
// constants (initializers and Constant nodes) as numbers, and attribute readers. Every
// refusal names the node (and attribute or input) at fault.
import { OnnxImportError } from './errors.js';
import type { OnnxAttribute, OnnxGraphProto, OnnxNode, OnnxTensor } from './onnx-proto.js';

// TensorProto.DataType values the importer reads.
const FLOAT = 1;
const INT32 = 6;
const INT64 = 7;
const DOUBLE = 11;

export interface Constant {
  readonly dims: readonly number[];
  /** Values as float64; float32 tensors hold float32 values exactly. */
  readonly values: Float64Array;
  readonly float32: boolean;
}

/** `node "/rnn/LSTM" (LSTM)`: how errors name a node. */
export function nodeLabel(node: OnnxNode): string {
  return `node ${JSON.stringify(node.name || node.output[0] || '?')} (${node.opType})`;
}

function tensorValues(t: OnnxTensor, where: string): Constant {
  if (t.dataLocation === 1) throw new OnnxImportError(where, 'the tensor is stored outside the file (external data); save the model with its weights inside');
  const dims = t.dims.map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new OnnxImportError(where, `bad tensor shape [${dims.join(', ')}]`);
  const n = dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : undefined;
  const width = { [FLOAT]: 4, [INT32]: 4, [INT64]: 8, [DOUBLE]: 8 }[t.dataType ?? 0];
  if (width === undefined) throw new OnnxImportError(where, `tensor data type ${t.dataType} is not read by edge-rnn (float, double, int32, int64 are)`);
  const listed = t.dataType === FLOAT ? t.floatData : t.dataType === DOUBLE ? t.doubleData : t.dataType === INT64 ? t.int64Data : t.int32Data;
  const count = view ? view.byteLength / width : listed.length;
  // Checked before allocating: the shape comes from the file, the data is what it holds.
  if (count !== n) throw new OnnxImportError(where, `${count} values for shape [${dims.join(', ')}]`);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (!view) values[i] = Number(listed[i]);
    else if (t.dataType === FLOAT) values[i] = view.getFloat32(i * 4, true);
    else if (t.dataType === DOUBLE) values[i] = view.getFloat64(i * 8, true);
    else if (t.dataType === INT64) values[i] = Number(view.getBigInt64(i * 8, true));
    else values[i] = view.getInt32(i * 4, true);
  }
  return { dims, values, float32: t.dataType === FLOAT };
}

export class OnnxGraph {
  readonly producer = new Map<string, OnnxNode>();
  readonly consumers = new Map<string, OnnxNode[]>();
  readonly graphInputs: readonly string[];
  readonly graphOutputs: readonly string[];
  private readonly initializers = new Map<string, OnnxTensor>();

  constructor(readonly proto: OnnxGraphProto) {
    for (const t of proto.initializer) if (t.name) this.initializers.set(t.name, t);
    // Since IR version 4 initializers need not be listed as inputs; older exports list them.
    this.graphInputs = proto.input.map((v) => v.name).filter((n) => !this.initializers.has(n));
    this.graphOutputs = proto.output.map((v) => v.name);
    for (const node of proto.node) {
      for (const o of node.output) if (o) this.producer.set(o, node);
      for (const i of node.input) {
        if (!i) continue;
        const list = this.consumers.get(i) ?? [];
        if (!list.includes(node)) list.push(node);
        this.consumers.set(i, list);
      }
    }
  }

  readers(tensor: string): readonly OnnxNode[] {
    return this.consumers.get(tensor) ?? [];
  }

  /** The value of a constant tensor (initializer or Constant node), or undefined when it is computed. */
  constant(name: string, where: string): Constant | undefined {
    const init = this.initializers.get(name);
    if (init) return tensorValues(init, where);
    const node = this.producer.get(name);
    if (node?.opType === 'Constant') {
      const value = node.attribute.find((a) => a.name === 'value');
      if (!value?.t) throw new OnnxImportError(`${nodeLabel(node)}, attribute ${node.attribute[0]?.name ?? 'value'}`, 'only a tensor `value` is read');
      return tensorValues(value.t, `${nodeLabel(node)}, attribute value`);
    }
    if (node?.opType === 'Identity') return this.constant(node.input[0], where);
    return undefined;
  }

  /** The values of a tensor held in an attribute. */
  constantOf(t: OnnxTensor, where: string): Constant {
    return tensorValues(t, where);
  }

  /** Like constant(), but a computed tensor is refused. */
  requireConstant(name: string, where: string, what: string): Constant {
    const c = this.constant(name, where);
    if (!c) throw new OnnxImportError(where, `${what} is computed in the graph (${JSON.stringify(name)}), not a constant; edge-rnn needs the weights as initializers`);
    return c;
  }

  /** A float32 weight tensor (a float64 one would be rounded, so it would not run exactly). */
  weights(name: string, where: string, what: string): Constant {
    const c = this.requireConstant(name, where, what);
    if (!c.float32) throw new OnnxImportError(where, `${what} is not float32; edge-rnn runs float32 weights (export the model in float32)`);
    return c;
  }

  /** The graph inputs a tensor is computed from (through any nodes). */
  sourceInputs(name: string, seen = new Set<string>()): Set<string> {
    const out = new Set<string>();
    const visit = (t: string): void => {
      if (!t || seen.has(t)) return;
      seen.add(t);
      if (this.graphInputs.includes(t)) out.add(t);
      const node = this.producer.get(t);
      if (node) for (const i of node.input) visit(i);
    };
    visit(name);
    return out;
  }
}

// Attribute readers: each returns undefined when the attribute is absent.
export function attr(node: OnnxNode, name: string): OnnxAttribute | undefined {
  return node.attribute.find((a) => a.name === name);
}
export function intAttr(node: OnnxNode, name: string): number | undefined {
  const a = attr(node, name);
  return a === undefined ? undefined : Number(a.i ?? 0);
}
export function floatAttr(node: OnnxNode, name: string): number | undefined {
  const a = attr(node, name);
  return a === undefined ? undefined : Number(a.f ?? 0);
}
export function stringAttr(node: OnnxNode, name: string): string | undefined {
  const a = attr(node, name);
  return a === undefined ? undefined : new TextDecoder().decode(a.s ?? new Uint8Array());
}
export function stringsAttr(node: OnnxNode, name: string): string[] | undefined {
  const a = attr(node, name);
  return a === undefined ? undefined : a.strings.map((s) => new TextDecoder().decode(s));
}
export function intsAttr(node: OnnxNode, name: string): number[] | undefined {
  const a = attr(node, name);
  return a === undefined ? undefined : a.ints.map(Number);
}
