// The WebAssembly session's memory, laid out once per session: scratch for one stream and for
// a chunk of C streams, each recurrent layer's weights in the kernels' layout (gates
// interleaved, rows padded to 16; see src/kernels/wasm/layout.ts), its h and c, and the
// staging area a chunk's states are copied through. Every pointer is a byte offset.
import type { WasmKernels } from '../kernels/wasm/kernels.js';
import { ceilTo, paddedUnits, superpanels, type GateShape } from '../kernels/wasm/layout.js';
import type { ModelPlan, RecurrentPlan } from '../model/plan.js';
import type { Model } from '../model/types.js';
import { WasmPlacer, type WasmWeights } from './wasm-placer.js';

export type { WasmWeights } from './wasm-placer.js';

/** One recurrent layer in wasm memory. */
export interface WasmLayer {
  readonly cell: RecurrentPlan;
  readonly H: number;
  readonly Hp: number; // H padded to a multiple of 4 units
  readonly groups: number; // Hp / 4
  readonly sp: number; // superpanels of 16 gate rows
  readonly xRows: number; // width of the input vector the kernels read (padded)
  readonly wih: WasmWeights;
  readonly whh: WasmWeights;
  readonly bi: number;
  readonly bh: number;
  readonly relu: number;
  // single stream
  readonly x: number;
  readonly h: number;
  readonly c: number;
  // batch [rows][n]
  readonly xT: number;
  readonly hT: number;
  readonly cT: number;
}

export interface WasmMemoryLayout {
  readonly layers: readonly WasmLayer[];
  readonly xIn: number; // [ceil8(I)] the normalised reading
  readonly xInT: number; // [ceil8(I)][C]
  readonly gx: number; readonly gh: number; readonly xq: number; // one stream's gate scratch
  readonly gxT: number; readonly ghT: number; readonly xqT: number; readonly sxT: number; // a chunk's
  readonly staging: number; // a chunk's states, [C][stateSize]
  /** Outputs de-normalised in wasm ([C][O], std [O], mean [O]); 0 unless `wasmOut`. */
  readonly outW: number; readonly stdW: number; readonly meanW: number;
}

/**
 * Allocates and fills the session's memory (growing it once: views made afterwards stay valid).
 * `wasmOut`: the model's outputs are its last h, de-normalised in wasm (affine_out).
 */
export function layoutWasmMemory(kernels: WasmKernels, model: Model, plan: ModelPlan, C: number, wasmOut: boolean): WasmMemoryLayout {
  const I = plan.inputSize, O = plan.outputSize;
  const arena = new WasmPlacer(kernels);
  const f32Bytes = (n: number) => n * 4;
  let maxRows = 16, maxX = 8;
  let inRows = ceilTo(I, 8); // the first layer reads the normalised input, zero padded to 8
  const shapes = plan.recurrent.map((r) => {
    const shape: GateShape = { gates: r.gates, hidden: r.hiddenSize };
    const Hp = paddedUnits(r.hiddenSize), sp = superpanels(shape), rows = inRows;
    maxRows = Math.max(maxRows, sp * 16);
    maxX = Math.max(maxX, inRows, ceilTo(Hp, 8));
    inRows = ceilTo(Hp, 8); // the next layer reads this h (padded units are 0)
    return { shape, Hp, sp, rows };
  });
  const xIn = arena.alloc(f32Bytes(ceilTo(I, 8)));
  const xInT = arena.alloc(f32Bytes(ceilTo(I, 8) * C));
  const gx = arena.alloc(f32Bytes(maxRows));
  const gh = arena.alloc(f32Bytes(maxRows));
  const xq = arena.alloc(maxX * 2);
  const gxT = arena.alloc(f32Bytes(maxRows * C));
  const ghT = arena.alloc(f32Bytes(maxRows * C));
  const xqT = arena.alloc(maxX * 2 * C);
  const sxT = arena.alloc(f32Bytes(C));
  const staging = arena.alloc(f32Bytes(C * plan.stateSize));
  const outW = wasmOut ? arena.alloc(f32Bytes(C * O)) : 0;
  const stdW = wasmOut ? arena.alloc(f32Bytes(O)) : 0;
  const meanW = wasmOut ? arena.alloc(f32Bytes(O)) : 0;

  const placeWeights = arena.weights.bind(arena);
  const placeRows = arena.rows.bind(arena);

  const layers: WasmLayer[] = [];
  let prevH = xIn, prevHT = xInT;
  plan.recurrent.forEach((cell, k) => {
    const { shape, Hp, sp, rows } = shapes[k];
    const l = cell.layer;
    const hRows = ceilTo(Hp, 8);
    const h = arena.alloc(f32Bytes(hRows));
    const c = arena.alloc(f32Bytes(hRows));
    const hT = arena.alloc(f32Bytes(hRows * C));
    const cT = arena.alloc(f32Bytes(hRows * C));
    // The input columns the kernels read: I (or the previous H) rounded up; extra columns are zero.
    const xCols = k === 0 ? I : layers[k - 1].Hp;
    layers.push({
      cell, H: l.hiddenSize, Hp, groups: Hp / 4, sp, xRows: rows,
      wih: placeWeights(l.wIh, shape, l.inputSize, xCols, sp),
      whh: placeWeights(l.wHh, shape, l.hiddenSize, Hp, sp),
      bi: placeRows(l.bIh.data, shape, sp),
      bh: placeRows(l.bHh.data, shape, sp),
      relu: l.type === 'rnn' && l.activation === 'relu' ? 1 : 0,
      x: prevH, h, c, xT: prevHT, hT, cT,
    });
    prevH = h;
    prevHT = hT;
  });

  arena.finish();
  const { mean: outMean, std: outStd } = model.outputs;
  if (wasmOut && outMean && outStd) {
    new Float32Array(kernels.memory.buffer, stdW, O).set(outStd.data);
    new Float32Array(kernels.memory.buffer, meanW, O).set(outMean.data);
  }
  return { layers, xIn, xInT, gx, gh, xq, gxT, ghT, xqT, sxT, staging, outW, stdW, meanW };
}
