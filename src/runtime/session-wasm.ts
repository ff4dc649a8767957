// createWasmSession(model): the Session contract of session.ts, stepped through the
// WebAssembly SIMD kernels (src/kernels/wasm). Weights are laid out once (wasm-memory.ts) in the
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
import { denseStackForward } from '../kernels/dense.js';
import { instantiateKernels, type WasmKernels } from '../kernels/wasm/kernels.js';
import { ceilTo } from '../kernels/wasm/layout.js';
import { planModel } from '../model/plan.js';
import type { Model } from '../model/types.js';
import { checkBatch } from './batch-check.js';
import { addResidual, outputStage } from './output-stage.js';
import type { Session } from './session.js';
import { createStreamState, type StreamState } from './stream-state.js';
import { layoutWasmMemory, type WasmWeights } from './wasm-memory.js';

/** Streams stepped together by one batched kernel pass; larger batches go in chunks. */
export const WASM_CHUNK = 64;
/** Below this many streams, stepBatch loops the single-stream kernels (same numbers). */
export const WASM_BATCH_MIN = 4;

export function createWasmSession(model: Model, kernels: WasmKernels = instantiateKernels()): Session {
  const plan = planModel(model);
  const { recurrent, dense, inputSize: I, outputSize: O, stateSize, residualFrom } = plan;
  const mean = model.inputs.mean.data;
  const std = model.inputs.std.data;
  const writeOutput = outputStage(model, plan);
  const C = WASM_CHUNK;
  // Batch outputs in bulk when h is the output: wasm de-normalises them if the model says so.
  const hOut = plan.outputIsHidden;
  const wasmOut = hOut && plan.outputNormalised;
  const {
    layers: wasmLayers, xIn, xInT, gx, gh, xq, gxT, ghT, xqT, sxT, staging, outW, stdW, meanW,
  } = layoutWasmMemory(kernels, model, plan, C, wasmOut);
  // Byte offset of the last layer's h in a stream's state (the output when hOut).
  const lastH = recurrent.length > 0 ? recurrent[recurrent.length - 1].hOffset * 4 : 0;

  // The memory never grows again, so these views stay valid.
  const mem = kernels.memory.buffer;
  const f32 = new Float32Array(mem);
  const xInView = new Float32Array(mem, xIn, I);
  const hIn = wasmLayers.map((p) => new Float32Array(mem, p.h, p.H));
  const cIn = wasmLayers.map((p) => new Float32Array(mem, p.c, p.H));
  // Each chunk slot's state in the staging area (made once: a subarray per stream per call allocates).
  const stagingView = Array.from({ length: C }, (_, s) => new Float32Array(mem, staging + s * stateSize * 4, stateSize));
  // The first m streams' outputs in outW, for m = 0..C (made once, as stagingView).
  const outView = wasmOut ? Array.from({ length: C + 1 }, (_, m) => new Float32Array(mem, outW, m * O)) : [];
  // Each chunk slot's last-layer h in the staging area (the output of a model without normalisation).
  const hStagingView = hOut && !wasmOut
    ? Array.from({ length: C }, (_, s) => new Float32Array(mem, staging + s * stateSize * 4 + lastH, O))
    : [];

  const denseOut = dense.map((d) => new Float32Array(d.outputSize));
  const ownOut = new Float32Array(O);
  const k = kernels;

  /** gx/gh [rows] = W v for one stream (v: `rows` floats at ptr, zero padded). */
  function product(w: WasmWeights, v: number, vRows: number, out: number, sp: number): void {
    if (!w.q8) k.mv_f32(w.ptr, v, out, sp, w.cols);
    else k.qmv_q8(w.ptr, v, xq, vRows, w.scale, out, sp, w.cols);
  }

  function runSingle(): void {
    for (const p of wasmLayers) {
      product(p.wih, p.x, p.xRows, gx, p.sp);
      product(p.whh, p.h, ceilTo(p.Hp, 8), gh, p.sp);
      const t = p.cell.layer.type;
      if (t === 'lstm') k.lstm_gates(gx, gh, p.bi, p.bh, p.c, p.h, p.groups);
      else if (t === 'gru') k.gru_gates(gx, gh, p.bi, p.bh, p.h, p.groups);
      else k.rnn_gates(gx, gh, p.bi, p.bh, p.h, p.groups, p.relu);
    }
  }

  /** gxT/ghT [rows][n] = W vT for n streams (vT: [vRows][n], vRows even, padded rows zero). */
  function productT(w: WasmWeights, vT: number, vRows: number, out: number, sp: number, n: number): void {
    if (!w.q8) k.mm_f32(w.ptr, vT, out, sp, w.cols, n);
    else {
      k.quant_act_t(vT, xqT, sxT, 2 * w.cols, n);
      k.mm_q8(w.ptr, xqT, sxT, w.scale, out, sp, w.cols, n);
    }
  }

  function runBatch(n: number): void {
    for (const p of wasmLayers) {
      productT(p.wih, p.xT, p.xRows, gxT, p.sp, n);
      productT(p.whh, p.hT, p.Hp, ghT, p.sp, n);
      const t = p.cell.layer.type;
      if (t === 'lstm') k.lstm_gates_t(gxT, ghT, p.bi, p.bh, p.cT, p.hT, p.groups, n);
      else if (t === 'gru') k.gru_gates_t(gxT, ghT, p.bi, p.bh, p.hT, p.groups, n);
      else k.rnn_gates_t(gxT, ghT, p.bi, p.bh, p.hT, p.Hp, n, p.relu);
    }
  }

  // Dense heads on the last recurrent layer's h; returns the network output (normalised).
  function head(state: StreamState): Float32Array {
    return denseStackForward(denseOut, dense, state.h[recurrent.length - 1] ?? xInView);
  }

  function stepOne(state: StreamState, x: ArrayLike<number>, xOff: number, out: Float32Array, oOff: number): void {
    for (let i = 0; i < I; i++) xInView[i] = (x[xOff + i] - mean[i]) / std[i];
    for (let l = 0; l < wasmLayers.length; l++) {
      hIn[l].set(state.h[l]);
      const c = state.c[l];
      if (c) cIn[l].set(c);
    }
    runSingle();
    for (let l = 0; l < wasmLayers.length; l++) {
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
    const n = ceilTo(m, 4); // lanes: the matrix kernels take blocks of 8 streams and a last one of 4
    const xRows = ceilTo(I, 8);
    for (let s = 0; s < m; s++) {
      const xb = (s0 + s) * I;
      let o = (xInT >> 2) + s;
      for (let i = 0; i < I; i++, o += n) f32[o] = (xs[xb + i] - mean[i]) / std[i];
      for (let i = I; i < xRows; i++, o += n) f32[o] = 0;
    }
    for (let s = 0; s < m; s++) stagingView[s].set(states[s0 + s].buffer);
    for (let l = 0; l < wasmLayers.length; l++) {
      const p = wasmLayers[l];
      k.gather_t(staging + p.cell.hOffset * 4, stateSize, p.hT, p.H, p.Hp, m, n);
      if (p.cell.cOffset >= 0) k.gather_t(staging + p.cell.cOffset * 4, stateSize, p.cT, p.H, p.Hp, m, n);
    }
    runBatch(n);
    for (let l = 0; l < wasmLayers.length; l++) {
      const p = wasmLayers[l];
      k.scatter_t(p.hT, staging + p.cell.hOffset * 4, stateSize, p.H, m, n);
      if (p.cell.cOffset >= 0) k.scatter_t(p.cT, staging + p.cell.cOffset * 4, stateSize, p.H, m, n);
    }
    for (let s = 0; s < m; s++) states[s0 + s].buffer.set(stagingView[s]);
    if (hOut) {
      if (wasmOut) {
        k.affine_out(staging + lastH, stateSize, stdW, meanW, outW, O, m);
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
    checkBatch(plan, n, xs, ys);
    if (n < WASM_BATCH_MIN || wasmLayers.length === 0) {
      for (let s = 0; s < n; s++) stepOne(states[s], xs, s * I, ys, s * O);
      return;
    }
    for (let s0 = 0; s0 < n; s0 += C) stepChunk(states, s0, Math.min(C, n - s0), xs, ys);
  }

  return {
    model, plan, inputSize: I, outputSize: O, stateSize,
    createState: () => createStreamState(plan),
    reset: (state) => state.buffer.fill(0),
    step,
    stepBatch,
  };
}
