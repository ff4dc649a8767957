// One forward pass over a window (issue 19): the W normalised readings of a device, oldest
// first, through every recurrent layer from a zero state — the forward direction left to
// right, a bidirectional layer's reverse direction right to left, its output at position t
// concat(h_fwd[t], h_rev[t]) — then the last layer's outputs reduced to one vector
// (outputs.from: "last" or "mean") and the dense head run once on it. Every buffer is made
// here, once per session; a pass allocates nothing. This file: the JS kernels (f32 and int8
// weights through src/kernels/weights.ts); window-forward-wasm.ts: the WebAssembly kernels.
import { gruStep, lstmStep, rnnStep } from '../kernels/cells.js';
import { denseStackForward } from '../kernels/dense.js';
import type { ModelPlan, RecurrentPlan, WindowPlan } from '../model/plan.js';
import type { RecurrentLayer } from '../model/types.js';

/**
 * forward(): the network output [O] (normalised, before the output stage) of the window in
 * `xs` [W, I]; the returned buffer is the pass's own, overwritten by the next pass.
 */
export interface WindowForward {
  /** The window's normalised readings [W, I], row-major, oldest first: the caller fills it. */
  readonly xs: Float32Array;
  forward(): Float32Array;
}

/** One direction of one layer over the window: reads row t of the input, writes h to its output rows. */
export type RunDirection = (cell: RecurrentLayer, input: number, output: number, offset: number, reverse: boolean) => void;

/**
 * The sequence buffers a pass moves through: buffer 0 is xs (stride I), buffers 1 and 2 hold
 * the layers' outputs in turn (stride seqWidth). `rows[b][t]` views row t of buffer b.
 */
export interface WindowBuffers {
  readonly xs: Float32Array;
  readonly bufs: readonly Float32Array[];
  readonly strides: readonly number[];
  readonly rows: readonly (readonly Float32Array[])[];
}

export function windowBuffers(win: WindowPlan, I: number): WindowBuffers {
  const W = win.size, S = win.seqWidth;
  const xs = new Float32Array(W * I);
  const bufs = [xs, new Float32Array(W * S), new Float32Array(W * S)];
  const strides = [I, S, S];
  const rows = bufs.map((b, k) => Array.from({ length: W }, (_, t) => b.subarray(t * strides[k], (t + 1) * strides[k])));
  return { xs, bufs, strides, rows };
}

/**
 * The pass around a direction runner: each layer reads the buffer the one before wrote, the
 * last layer's output is reduced into `reduced`, the dense head reads that.
 */
export function windowPass(plan: ModelPlan, b: WindowBuffers, run: RunDirection): WindowForward {
  const win = plan.window;
  if (!win) throw new Error('windowPass: the model has no window');
  const W = win.size, S = win.seqWidth;
  const reduced = new Float32Array(win.reducedSize);
  const denseOut = plan.dense.map((d) => new Float32Array(d.outputSize));
  const outBuf = (k: number) => 1 + (k % 2);

  function reduce(r: RecurrentPlan): void {
    const out = b.bufs[outBuf(plan.recurrent.length - 1)], H = r.hiddenSize, R = r.outputSize;
    if (win!.from === 'last') {
      // Forward: h after the last reading; reverse: h after reading back to the first (its final state).
      for (let j = 0; j < H; j++) reduced[j] = out[(W - 1) * S + j];
      for (let j = H; j < R; j++) reduced[j] = out[j];
      return;
    }
    for (let j = 0; j < R; j++) {
      let sum = 0;
      for (let t = 0; t < W; t++) sum += out[t * S + j];
      reduced[j] = sum / W;
    }
  }

  function forward(): Float32Array {
    for (let k = 0; k < plan.recurrent.length; k++) {
      const r = plan.recurrent[k], input = k === 0 ? 0 : outBuf(k - 1);
      run(r.layer, input, outBuf(k), 0, false);
      if (r.reverse) run(r.reverse, input, outBuf(k), r.hiddenSize, true);
    }
    reduce(plan.recurrent[plan.recurrent.length - 1]);
    return denseStackForward(denseOut, plan.dense, reduced);
  }
  return { xs: b.xs, forward };
}

/** The window pass on the JS cell kernels (the reference path). */
export function createJsWindowForward(plan: ModelPlan): WindowForward {
  const win = plan.window!;
  const b = windowBuffers(win, plan.inputSize);
  const W = win.size;
  const h = new Float32Array(win.maxHidden), c = new Float32Array(win.maxHidden);
  const gates = new Float32Array(plan.maxGateRows), gh = new Float32Array(plan.maxGateRows);

  const run: RunDirection = (cell, input, output, offset, reverse) => {
    const H = cell.hiddenSize, rows = b.rows[input], out = b.bufs[output], S = b.strides[output];
    h.fill(0);
    c.fill(0);
    for (let k = 0; k < W; k++) {
      const t = reverse ? W - 1 - k : k;
      const x = rows[t];
      if (cell.type === 'lstm') lstmStep(h, c, gates, cell, x, h, c);
      else if (cell.type === 'gru') gruStep(h, gates, gh, cell, x, h);
      else rnnStep(h, gates, cell, x, h);
      const base = t * S + offset;
      for (let j = 0; j < H; j++) out[base + j] = h[j];
    }
  };
  return windowPass(plan, b, run);
}
