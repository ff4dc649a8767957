// createWasmSession(model): the Session contract of session.ts, stepped through the
// WebAssembly SIMD kernels (src/kernels/wasm). Weights are laid out once, here, into the
// instance's memory (gates interleaved, rows padded to 16); per step the stream's state is
// copied in (one memcpy per stream; wasm transposes a batch's states), the layers run in wasm,
// and the state is copied back, so StreamState stays a plain Float32Array the caller owns and
// checkpoints. Dense heads run in JS on the copied-back h. Without one, a batch's outputs are
// its h, moved in bulk (a JS loop per stream cost about as much as the gates at batch 64):
// de-normalised in wasm (affine_out: the output stage's float64 arithmetic) and copied out in
// one set, or, for a model without output normalisation, one set per stream.
//
// Numerics: f32 weights accumulate in f32 (the JS kernels use float64), within 1e-5 of the
// JS session; int8 weights run int8 x int8 dot products on activations quantized per call
// (src/kernels/matvec-q8-act.ts defines that result). A batch of N gives exactly the numbers
// of N single steps: the batched kernels add in the same order, lane for lane.
import { denseForward } from '../kernels/dense.js';
import { instantiateKernels, type WasmKernels } from '../kernels/wasm/kernels.js';
import {
  ceilTo, layoutF32, layoutQ8, layoutRows, paddedUnits, superpanels, type GateShape,
} from '../kernels/wasm/layout.js';
import { GATES, outputSize, type DenseLayer, type Model, type RecurrentLayer, type Tensor } from '../model/types.js';
import { addResidual, outputStage, residualInputs } from './output-stage.js';
import type { Session } from './session.js';
import { createStreamState, stateSizeOf, type StreamState } from './stream-state.js';

/** Streams stepped together by one batched kernel pass; larger batches go in chunks. */
export const WASM_CHUNK = 64;
/** Below this many streams, stepBatch loops the single-stream kernels (same numbers). */
export const WASM_BATCH_MIN = 4;

/** A bump allocator over byte offsets, 16-byte aligned. */
class Arena {
  constructor(public size: number) {} // starts at the kernels' heap_base
  alloc(bytes: number): number {
    const at = this.size;
    this.size = ceilTo(at + bytes, 16);
    return at;
  }
}

interface Weights {
  readonly q8: boolean;
  readonly ptr: number; // [sp][cols][16] f32, or [sp][cp][16][2] int8 values as i16
  readonly scale: number; // int8: [sp*16] f32 row scales
  readonly cols: number; // f32: columns; int8: column pairs
}

interface LayerPlan {
  readonly layer: RecurrentLayer;
  readonly H: number;
  readonly Hp: number;
  readonly groups: number;
  readonly sp: number;
  readonly xRows: number; // width of the input vector the kernels read (padded)
  readonly wih: Weights;
  readonly whh: Weights;
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

export function createWasmSession(model: Model, kernels: WasmKernels = instantiateKernels()): Session {
  const recurrent = model.layers.filter((l): l is RecurrentLayer => l.type !== 'dense');
  const dense = model.layers.filter((l): l is DenseLayer => l.type === 'dense');
  const I = model.inputs.names.length;
  const O = outputSize(model);
  const mean = model.inputs.mean.data;
  const std = model.inputs.std.data;
  const writeOutput = outputStage(model);
  const C = WASM_CHUNK;

  // ---- memory plan
  const arena = new Arena(kernels.heap_base.value);
  let maxRows = 16, maxX = 8;
  const pending: { layer: RecurrentLayer; shape: GateShape; inRows: number; Hp: number; sp: number }[] = [];
  let inRows = ceilTo(I, 8); // the first layer reads the normalised input, zero padded to 8
  for (const l of recurrent) {
    const shape = { gates: GATES[l.type], hidden: l.hiddenSize };
    const Hp = paddedUnits(l.hiddenSize);
    const sp = superpanels(shape);
    pending.push({ layer: l, shape, inRows, Hp, sp });
    maxRows = Math.max(maxRows, sp * 16);
    maxX = Math.max(maxX, inRows, ceilTo(Hp, 8));
    inRows = ceilTo(Hp, 8); // the next layer reads this h (padded units are 0)
  }
  const f32Bytes = (n: number) => n * 4;
  const xIn = arena.alloc(f32Bytes(ceilTo(I, 8)));
  const xInT = arena.alloc(f32Bytes(ceilTo(I, 8) * C));
  const gx = arena.alloc(f32Bytes(maxRows));
  const gh = arena.alloc(f32Bytes(maxRows));
  const xq = arena.alloc(maxX * 2);
  const gxT = arena.alloc(f32Bytes(maxRows * C));
  const ghT = arena.alloc(f32Bytes(maxRows * C));
  const xqT = arena.alloc(maxX * 2 * C);
  const sxT = arena.alloc(f32Bytes(C));
  const stateSize = stateSizeOf(recurrent);
  const staging = arena.alloc(f32Bytes(C * stateSize)); // a chunk's states, [C][stateSize]
  // Batch outputs in bulk when h is the output: wasm de-normalises them if the model says so.
  const outMean = model.outputs.mean?.data, outStd = model.outputs.std?.data;
  const hOut = dense.length === 0 && recurrent.length > 0;
  const wasmOut = hOut && outMean !== undefined && outStd !== undefined;
  const outW = wasmOut ? arena.alloc(f32Bytes(C * O)) : 0; // [C][O]
  const stdW = wasmOut ? arena.alloc(f32Bytes(O)) : 0;
  const meanW = wasmOut ? arena.alloc(f32Bytes(O)) : 0;
  // Offsets of each layer's h and c (-1: none) in a StreamState buffer (see stream-state.ts).
  const hOff: number[] = [], cOff: number[] = [];
  for (let l = 0, off = 0; l < recurrent.length; l++) {
    hOff.push(off);
    off += recurrent[l].hiddenSize;
    cOff.push(recurrent[l].type === 'lstm' ? off : -1);
    if (recurrent[l].type === 'lstm') off += recurrent[l].hiddenSize;
  }

  const weightJobs: (() => void)[] = [];
  function placeWeights(t: Tensor, shape: GateShape, cols: number, colsOut: number, sp: number): Weights {
    if (t.dtype === 'f32') {
      const ptr = arena.alloc(f32Bytes(sp * colsOut * 16));
      weightJobs.push(() => layoutF32(new Float32Array(kernels.memory.buffer, ptr, sp * colsOut * 16), t.data, shape, cols, colsOut));
      return { q8: false, ptr, scale: 0, cols: colsOut };
    }
    const cp = Math.ceil(colsOut / 2);
    const ptr = arena.alloc(sp * cp * 64); // i16
    const scale = arena.alloc(f32Bytes(sp * 16));
    weightJobs.push(() => {
      layoutQ8(new Int16Array(kernels.memory.buffer, ptr, sp * cp * 32), t.data, shape, cols, cp);
      layoutRows(new Float32Array(kernels.memory.buffer, scale, sp * 16), t.scale, shape);
    });
    return { q8: true, ptr, scale, cols: cp };
  }
  function placeRows(v: Float32Array, shape: GateShape, sp: number): number {
    const ptr = arena.alloc(f32Bytes(sp * 16));
    weightJobs.push(() => layoutRows(new Float32Array(kernels.memory.buffer, ptr, sp * 16), v, shape));
    return ptr;
  }

  const plans: LayerPlan[] = [];
  let prevH = xIn, prevHT = xInT;
  pending.forEach(({ layer: l, shape, inRows: rows, Hp, sp }) => {
    const hRows = ceilTo(Hp, 8);
    const h = arena.alloc(f32Bytes(hRows));
    const c = arena.alloc(f32Bytes(hRows));
    const hT = arena.alloc(f32Bytes(hRows * C));
    const cT = arena.alloc(f32Bytes(hRows * C));
    // The input columns the kernels read: I (or the previous H) rounded up; extra columns are zero.
    const xCols = plans.length === 0 ? I : plans[plans.length - 1].Hp;
    plans.push({
      layer: l, H: l.hiddenSize, Hp, groups: Hp / 4, sp, xRows: rows,
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

  const have = kernels.memory.buffer.byteLength;
  if (arena.size > have) kernels.memory.grow(Math.ceil((arena.size - have) / 65536));
  for (const job of weightJobs) job();
  if (outMean && outStd && wasmOut) {
    new Float32Array(kernels.memory.buffer, stdW, O).set(outStd);
    new Float32Array(kernels.memory.buffer, meanW, O).set(outMean);
  }
  // The memory never grows again, so these views stay valid.
  const mem = kernels.memory.buffer;
  const f32 = new Float32Array(mem);
  const xInView = new Float32Array(mem, xIn, I);
  const hIn = plans.map((p) => new Float32Array(mem, p.h, p.H));
  const cIn = plans.map((p) => new Float32Array(mem, p.c, p.H));
  // Each chunk slot's state in the staging area (made once: a subarray per stream per call allocates).
  const stagingView = Array.from({ length: C }, (_, s) => new Float32Array(mem, staging + s * stateSize * 4, stateSize));
  // The first m streams' outputs in outW, for m = 0..C (made once, as stagingView).
  const outView = wasmOut ? Array.from({ length: C + 1 }, (_, m) => new Float32Array(mem, outW, m * O)) : [];
  // Each chunk slot's last-layer h in the staging area (the output of a model without normalisation).
  const hStagingView = hOut && !wasmOut
    ? Array.from({ length: C }, (_, s) => new Float32Array(mem, staging + (s * stateSize + hOff[recurrent.length - 1]) * 4, O))
    : [];
  const residualFrom = residualInputs(model);

  const denseOut = dense.map((d) => new Float32Array(d.outputSize));
  const ownOut = new Float32Array(O);
  const k = kernels;

  const createState = (): StreamState => createStreamState(recurrent);

  /** gx/gh [rows] = W v for one stream (v: `rows` floats at ptr, zero padded). */
  function product(w: Weights, v: number, vRows: number, out: number, sp: number): void {
    if (!w.q8) k.mv_f32(w.ptr, v, out, sp, w.cols);
    else k.qmv_q8(w.ptr, v, xq, vRows, w.scale, out, sp, w.cols);
  }

  function runSingle(): void {
    for (const p of plans) {
      product(p.wih, p.x, p.xRows, gx, p.sp);
      product(p.whh, p.h, ceilTo(p.Hp, 8), gh, p.sp);
      const t = p.layer.type;
      if (t === 'lstm') k.lstm_gates(gx, gh, p.bi, p.bh, p.c, p.h, p.groups);
      else if (t === 'gru') k.gru_gates(gx, gh, p.bi, p.bh, p.h, p.groups);
      else k.rnn_gates(gx, gh, p.bi, p.bh, p.h, p.groups, p.relu);
    }
  }

  /** gxT/ghT [rows][n] = W vT for n streams (vT: [vRows][n], vRows even, padded rows zero). */
  function productT(w: Weights, vT: number, vRows: number, out: number, sp: number, n: number): void {
    if (!w.q8) k.mm_f32(w.ptr, vT, out, sp, w.cols, n);
    else {
      k.quant_act_t(vT, xqT, sxT, 2 * w.cols, n);
      k.mm_q8(w.ptr, xqT, sxT, w.scale, out, sp, w.cols, n);
    }
  }

  function runBatch(n: number): void {
    for (const p of plans) {
      productT(p.wih, p.xT, p.xRows, gxT, p.sp, n);
      productT(p.whh, p.hT, p.Hp, ghT, p.sp, n);
      const t = p.layer.type;
      if (t === 'lstm') k.lstm_gates_t(gxT, ghT, p.bi, p.bh, p.cT, p.hT, p.groups, n);
      else if (t === 'gru') k.gru_gates_t(gxT, ghT, p.bi, p.bh, p.hT, p.groups, n);
      else k.rnn_gates_t(gxT, ghT, p.bi, p.bh, p.hT, p.Hp, n, p.relu);
    }
  }

  // Dense heads on the last recurrent layer's h; returns the network output (normalised).
  function head(state: StreamState): Float32Array {
    let cur: Float32Array = state.h[recurrent.length - 1] ?? xInView;
    for (let d = 0; d < dense.length; d++) {
      denseForward(denseOut[d], dense[d], cur);
      cur = denseOut[d];
    }
    return cur;
  }

  function stepOne(state: StreamState, x: ArrayLike<number>, xOff: number, out: Float32Array, oOff: number): void {
    for (let i = 0; i < I; i++) xInView[i] = (x[xOff + i] - mean[i]) / std[i];
    for (let l = 0; l < plans.length; l++) {
      hIn[l].set(state.h[l]);
      const c = state.c[l];
      if (c) cIn[l].set(c);
    }
    runSingle();
    for (let l = 0; l < plans.length; l++) {
      state.h[l].set(hIn[l]);
      const c = state.c[l];
      if (c) c.set(cIn[l]);
    }
    writeOutput(head(state), out, oOff, x, xOff);
  }

  function step(state: StreamState, x: ArrayLike<number>, out: Float32Array = ownOut): Float32Array {
    stepOne(state, x, 0, out, 0);
    return out;
  }

  // A chunk's states: one memcpy per stream into the staging area [C][stateSize], then wasm
  // moves each h and c to and from the streams-in-lanes layout ([rows][n], n = padded count).
  function stepChunk(states: readonly StreamState[], s0: number, m: number, xs: Float32Array, ys: Float32Array): void {
    const n = ceilTo(m, 8);
    const xRows = ceilTo(I, 8);
    for (let s = 0; s < m; s++) {
      const xb = (s0 + s) * I;
      let o = (xInT >> 2) + s;
      for (let i = 0; i < I; i++, o += n) f32[o] = (xs[xb + i] - mean[i]) / std[i];
      for (let i = I; i < xRows; i++, o += n) f32[o] = 0;
    }
    for (let s = 0; s < m; s++) stagingView[s].set(states[s0 + s].buffer);
    for (let l = 0; l < plans.length; l++) {
      const p = plans[l];
      k.gather_t(staging + hOff[l] * 4, stateSize, p.hT, p.H, p.Hp, m, n);
      if (cOff[l] >= 0) k.gather_t(staging + cOff[l] * 4, stateSize, p.cT, p.H, p.Hp, m, n);
    }
    runBatch(n);
    for (let l = 0; l < plans.length; l++) {
      const p = plans[l];
      k.scatter_t(p.hT, staging + hOff[l] * 4, stateSize, p.H, m, n);
      if (cOff[l] >= 0) k.scatter_t(p.cT, staging + cOff[l] * 4, stateSize, p.H, m, n);
    }
    for (let s = 0; s < m; s++) states[s0 + s].buffer.set(stagingView[s]);
    if (hOut) {
      if (wasmOut) {
        k.affine_out(staging + hOff[plans.length - 1] * 4, stateSize, stdW, meanW, outW, O, m);
        ys.set(outView[m], s0 * O);
      } else {
        for (let s = 0; s < m; s++) ys.set(hStagingView[s], (s0 + s) * O);
      }
      if (residualFrom) for (let s = s0; s < s0 + m; s++) addResidual(ys, s * O, xs, s * I, residualFrom);
    } else {
      for (let s = 0; s < m; s++) writeOutput(head(states[s0 + s]), ys, (s0 + s) * O, xs, (s0 + s) * I);
    }
  }

  function stepBatch(states: readonly StreamState[], xs: Float32Array, ys: Float32Array): void {
    const n = states.length;
    if (xs.length < n * I || ys.length < n * O) {
      throw new RangeError(`stepBatch: ${n} streams need xs of ${n * I} and ys of ${n * O} floats, got ${xs.length} and ${ys.length}`);
    }
    if (n < WASM_BATCH_MIN || plans.length === 0) {
      for (let s = 0; s < n; s++) stepOne(states[s], xs, s * I, ys, s * O);
      return;
    }
    for (let s0 = 0; s0 < n; s0 += C) stepChunk(states, s0, Math.min(C, n - s0), xs, ys);
  }

  return {
    model, inputSize: I, outputSize: O, stateSize,
    createState,
    reset: (state) => state.buffer.fill(0),
    step,
    stepBatch,
  };
}
