// The window forward pass (window-forward.ts) on the WebAssembly SIMD kernels: each layer's
// directions have their weights laid out once in the instance's memory (as the step session
// does, wasm-memory.ts), but with the layer's true input width as columns, since a
// bidirectional layer's output concat(h_fwd, h_rev) is not the padded h the step session
// chains. Per position the input row is copied in, one product pair and gate kernel run,
// and h copied out to the JS sequence buffer. Numerics as the step session: f32 sums in
// f32, int8 weights against activations quantized per call (src/kernels/matvec-q8-act.ts).
import { instantiateKernels, type WasmKernels } from '../kernels/wasm/kernels.js';
import { ceilTo, paddedUnits, superpanels, type GateShape } from '../kernels/wasm/layout.js';
import type { ModelPlan } from '../model/plan.js';
import type { RecurrentLayer } from '../model/types.js';
import { WasmPlacer, type WasmWeights } from './wasm-placer.js';
import { windowBuffers, windowPass, type RunDirection, type WindowForward } from './window-forward.js';

interface WasmDirection {
  readonly wih: WasmWeights;
  readonly whh: WasmWeights;
  readonly bi: number;
  readonly bh: number;
}

interface WasmWindowLayer {
  readonly H: number;
  readonly Hp: number;
  readonly groups: number;
  readonly sp: number;
  readonly inputSize: number;
  readonly xRows: number; // the input row, zero padded to 8
  readonly relu: number;
  readonly x: number; readonly h: number; readonly c: number; // byte offsets
  readonly dirs: Map<RecurrentLayer, WasmDirection>;
}

export function createWasmWindowForward(plan: ModelPlan, kernels: WasmKernels = instantiateKernels()): WindowForward {
  const win = plan.window!;
  const W = win.size;
  const k = kernels;
  const placer = new WasmPlacer(kernels);
  let maxRows = 16, maxX = 8;
  const layers: WasmWindowLayer[] = plan.recurrent.map((r) => {
    const shape: GateShape = { gates: r.gates, hidden: r.hiddenSize };
    const Hp = paddedUnits(r.hiddenSize), sp = superpanels(shape), I = r.inputSize, xRows = ceilTo(I, 8);
    maxRows = Math.max(maxRows, sp * 16);
    maxX = Math.max(maxX, xRows, ceilTo(Hp, 8));
    const place = (cell: RecurrentLayer): WasmDirection => ({
      wih: placer.weights(cell.wIh, shape, I, I, sp),
      whh: placer.weights(cell.wHh, shape, r.hiddenSize, Hp, sp),
      bi: placer.rows(cell.bIh.data, shape, sp),
      bh: placer.rows(cell.bHh.data, shape, sp),
    });
    const dirs = new Map<RecurrentLayer, WasmDirection>([[r.layer, place(r.layer)]]);
    if (r.reverse) dirs.set(r.reverse, place(r.reverse));
    return {
      H: r.hiddenSize, Hp, groups: Hp / 4, sp, inputSize: I, xRows,
      relu: r.layer.type === 'rnn' && r.layer.activation === 'relu' ? 1 : 0,
      x: placer.alloc(xRows * 4), h: placer.alloc(ceilTo(Hp, 8) * 4), c: placer.alloc(ceilTo(Hp, 8) * 4),
      dirs,
    };
  });
  const gx = placer.alloc(maxRows * 4), gh = placer.alloc(maxRows * 4), xq = placer.alloc(maxX * 2);
  placer.finish();
  const f32 = new Float32Array(k.memory.buffer); // the memory never grows again
  const b = windowBuffers(win, plan.inputSize);
  // Which layer a direction's cell belongs to, looked up once per direction run.
  const layerOf = new Map<RecurrentLayer, WasmWindowLayer>();
  for (const l of layers) for (const cell of l.dirs.keys()) layerOf.set(cell, l);

  function product(w: WasmWeights, v: number, vRows: number, out: number, sp: number): void {
    if (!w.q8) k.mv_f32(w.ptr, v, out, sp, w.cols);
    else k.qmv_q8(w.ptr, v, xq, vRows, w.scale, out, sp, w.cols);
  }

  const run: RunDirection = (cell, input, output, offset, reverse) => {
    const l = layerOf.get(cell)!, d = l.dirs.get(cell)!;
    const src = b.bufs[input], inStride = b.strides[input], out = b.bufs[output], S = b.strides[output];
    const x0 = l.x >> 2, h0 = l.h >> 2, I = l.inputSize, H = l.H, hRows = ceilTo(l.Hp, 8);
    f32.fill(0, h0, h0 + hRows);
    f32.fill(0, l.c >> 2, (l.c >> 2) + hRows);
    const type = cell.type;
    for (let s = 0; s < W; s++) {
      const t = reverse ? W - 1 - s : s;
      const xBase = t * inStride;
      for (let i = 0; i < I; i++) f32[x0 + i] = src[xBase + i];
      product(d.wih, l.x, l.xRows, gx, l.sp);
      product(d.whh, l.h, hRows, gh, l.sp);
      if (type === 'lstm') k.lstm_gates(gx, gh, d.bi, d.bh, l.c, l.h, l.groups);
      else if (type === 'gru') k.gru_gates(gx, gh, d.bi, d.bh, l.h, l.groups);
      else k.rnn_gates(gx, gh, d.bi, d.bh, l.h, l.groups, l.relu);
      const base = t * S + offset;
      for (let j = 0; j < H; j++) out[base + j] = f32[h0 + j];
    }
  };
  return windowPass(plan, b, run);
}
