// The trainable windowed network (issue 19): a stack of recurrent layers, each forward
// or bidirectional, run over one window of W readings from the zero state, the window
// pooled to one vector (`last`: the forward direction's h at the last reading and the
// reverse direction's h at the first, i.e. both directions' final states; `mean`: the mean
// over the window of every step's output), then the dense head; and BPTT back through it.
//
// Layer k's output at reading t is [h_fwd(t) ; h_rev(t)] (2H when bidirectional), the
// next layer's input. The forward direction runs t = 0 … W-1, the reverse W-1 … 0, each
// from a zero state. Parameters live in one flat array (the layers are views into it, so
// the optimiser updates them in place); caches are one slot per reading and direction,
// allocated when the network is built; forward and backward allocate nothing.
//
// `precision: 'f64'` runs the very same code on float64 arrays, for the finite-difference
// gradient checks (as network.ts).
import { gruStep, lstmStep, rnnStep } from '../kernels/cells.js';
import {
  gruStepBackward, lstmStepBackward, rnnStepBackward, type CellGrads, type FloatArray,
} from '../kernels/cells-backward.js';
import { denseForward } from '../kernels/dense.js';
import { denseBackward, denseBackwardPre } from '../kernels/dense-backward.js';
import { planModel } from '../model/plan.js';
import { parameterCount, type DenseLayer, type Layer, type Model, type RecurrentLayer, type RecurrentWeights, type WindowReduce } from '../model/types.js';
import type { ParamTensor, Precision } from './network.js';

export interface WindowNetwork {
  readonly precision: Precision;
  /** The layers, reading their weights from `params`. */
  readonly layers: readonly Layer[];
  readonly inputSize: number;
  readonly outputSize: number;
  /** W: readings in a window. */
  readonly windowSize: number;
  readonly pool: WindowReduce;
  readonly params: FloatArray;
  /** ∂loss/∂params, flat, same layout; backward accumulates into it. */
  readonly grads: Float64Array;
  readonly tensors: readonly ParamTensor[];
  /**
   * Forward over the window of normalised readings x[x0 … x0 + W·I). Returns the model
   * output [O] (a view owned by the network; softmax probabilities for a classifier).
   */
  forward(x: FloatArray, x0: number): FloatArray;
  /**
   * Backward over the last forward: dOut [O] is ∂loss/∂output, or with `logitGrad`
   * ∂loss/∂(the last layer's pre-softmax logits). Accumulates into `grads`.
   */
  backward(dOut: Float64Array, logitGrad: boolean): void;
}

/** One direction of one recurrent layer, with its caches (one slot per reading t). */
interface Direction {
  readonly cell: RecurrentLayer; // the layer with this direction's weights (views into params)
  readonly grads: CellGrads;
  readonly reverse: boolean;
  readonly h: FloatArray[]; // h(t): a view into the layer's output slot at t
  readonly c: FloatArray[]; // LSTM c(t)
  readonly gates: FloatArray[];
  readonly gh: FloatArray[]; // GRU wHh h + bHh
}

/** Builds the trainable network of a windowed model (model.window, outputs.from), holding a copy of its f32 weights. */
export function createWindowNetwork(model: Model, precision: Precision = 'f32'): WindowNetwork {
  const F = precision === 'f64' ? Float64Array : Float32Array;
  const as32 = (a: FloatArray): Float32Array => a as Float32Array; // the forward kernels' type; f64 in checks
  const plan = planModel(model);
  if (!plan.window) throw new Error('createWindowNetwork: the model has no window (a per-reading model trains with createNetwork)');
  const W = plan.window.size, pool = plan.window.from;

  // ---- parameters: flat storage and layer views over it ------------------------------
  const params = new F(parameterCount(model));
  const grads = new Float64Array(params.length);
  const tensors: ParamTensor[] = [];
  let off = 0;
  const take = (name: string, src: { readonly shape: readonly number[]; readonly data: ArrayLike<number>; readonly dtype: string }) => {
    if (src.dtype !== 'f32') throw new Error(`createWindowNetwork: ${name} is ${src.dtype}; only float models can be trained`);
    const n = src.data.length;
    const value = params.subarray(off, off + n);
    value.set(src.data);
    tensors.push({ name, shape: [...src.shape], value, grad: grads.subarray(off, off + n) });
    off += n;
    return { dtype: 'f32' as const, shape: [...src.shape], data: as32(value) };
  };
  const takeCell = (p: string, t: RecurrentWeights): RecurrentWeights => ({
    wIh: take(`${p}.wIh`, t.wIh), wHh: take(`${p}.wHh`, t.wHh), bIh: take(`${p}.bIh`, t.bIh), bHh: take(`${p}.bHh`, t.bHh),
  });
  const layers: Layer[] = model.layers.map((l, k): Layer => {
    const p = `layers[${k}]`;
    if (l.type === 'dense') return { ...l, w: take(`${p}.w`, l.w), b: take(`${p}.b`, l.b) };
    return { ...l, ...takeCell(p, l), ...(l.reverse ? { reverse: takeCell(`${p}.reverse`, l.reverse) } : {}) };
  });
  const gradOf = (name: string) => tensors.find((t) => t.name === name)!.grad;
  const cellGrads = (p: string): CellGrads => ({ dWIh: gradOf(`${p}.wIh`), dWHh: gradOf(`${p}.wHh`), dBIh: gradOf(`${p}.bIh`), dBHh: gradOf(`${p}.bHh`) });

  const I = plan.inputSize;
  const R = plan.recurrent.length;
  if (R === 0) throw new Error('createWindowNetwork: the model has no recurrent layer');

  // ---- caches ---------------------------------------------------------------------------
  const slots = (n: number): FloatArray[] => {
    const buf = new F(n * W);
    return Array.from({ length: W }, (_, t) => buf.subarray(t * n, (t + 1) * n));
  };
  const xs = slots(I);
  const widths = plan.recurrent.map((r) => r.outputSize); // floats in layer k's output per reading: D·H
  const outs = widths.map((n) => slots(n)); // outs[k][t]: layer k's output at t
  const dirs: Direction[][] = plan.recurrent.map((r, k) => {
    const l = layers[r.index] as RecurrentLayer;
    const H = r.hiddenSize;
    const cells: RecurrentLayer[] = [l];
    // The plan's reverse cell, with this network's weight views.
    if (r.reverse) cells.push({ ...l, ...l.reverse! });
    return cells.map((cell, d): Direction => ({
      cell,
      grads: cellGrads(d === 0 ? `layers[${r.index}]` : `layers[${r.index}].reverse`),
      reverse: d === 1,
      h: outs[k].map((o) => o.subarray(d * H, (d + 1) * H)),
      c: l.type === 'lstm' ? slots(H) : [],
      gates: slots(r.gates * H),
      gh: l.type === 'gru' ? slots(3 * H) : [],
    }));
  });
  const dense = plan.denseIndex.map((k) => layers[k] as DenseLayer);
  const pooledSize = plan.window.reducedSize;
  const pooled = new F(pooledSize);
  const denseOut = dense.map((d) => new F(d.outputSize));
  const outputSize = plan.outputSize;

  // ---- backward scratch -------------------------------------------------------------------
  const f64 = (n: number) => new Float64Array(n);
  const dAbove = widths.map((n) => Array.from({ length: W }, () => f64(n))); // ∂loss/∂outs[k][t]
  const maxH = plan.window.maxHidden, maxG = plan.maxGateRows;
  const zeros = new F(maxH); // the zero state each direction starts from
  let dhNext = f64(maxH), dhPrev = f64(maxH), dcNext = f64(maxH), dcPrev = f64(maxH);
  const dh = f64(maxH), dpre = f64(maxG), dpreH = f64(maxG);
  const dDenseIn = dense.map((d) => f64(d.inputSize));
  const dDensePre = dense.map((d) => f64(d.outputSize));
  const dLastOut = f64(outputSize);
  const denseGrads = plan.denseIndex.map((k) => ({ dW: gradOf(`layers[${k}].w`), db: gradOf(`layers[${k}].b`) }));

  /** Reading t's predecessor in direction d's order, or -1 at its first reading. */
  const prevOf = (d: Direction, t: number) => (d.reverse ? (t + 1 < W ? t + 1 : -1) : t - 1);

  function forward(x: FloatArray, x0: number): FloatArray {
    for (let t = 0; t < W; t++) for (let i = 0; i < I; i++) xs[t][i] = x[x0 + t * I + i];
    for (let k = 0; k < R; k++) {
      for (let di = 0; di < dirs[k].length; di++) {
        const d = dirs[k][di], l = d.cell;
        for (let s = 0; s < W; s++) {
          const t = d.reverse ? W - 1 - s : s;
          const p = prevOf(d, t);
          const xin = as32(k === 0 ? xs[t] : outs[k - 1][t]);
          const hPrev = as32(p < 0 ? zeros : d.h[p]);
          if (l.type === 'lstm') lstmStep(as32(d.h[t]), as32(d.c[t]), as32(d.gates[t]), l, xin, hPrev, as32(p < 0 ? zeros : d.c[p]));
          else if (l.type === 'gru') gruStep(as32(d.h[t]), as32(d.gates[t]), as32(d.gh[t]), l, xin, hPrev);
          else rnnStep(as32(d.h[t]), as32(d.gates[t]), l, xin, hPrev);
        }
      }
    }
    const top = outs[R - 1];
    if (pool === 'last') {
      // forward half from the last reading; reverse half (if any) from the first
      const H = dirs[R - 1][0].h[0].length;
      for (let j = 0; j < H; j++) pooled[j] = top[W - 1][j];
      for (let j = H; j < pooledSize; j++) pooled[j] = top[0][j];
    } else {
      // Summed in float64 in reading order, then divided: the runtime's window pass does the same.
      for (let j = 0; j < pooledSize; j++) {
        let sum = 0;
        for (let t = 0; t < W; t++) sum += top[t][j];
        pooled[j] = sum / W;
      }
    }
    let cur: FloatArray = pooled;
    for (let d = 0; d < dense.length; d++) {
      denseForward(as32(denseOut[d]), dense[d], as32(cur));
      cur = denseOut[d];
    }
    return cur;
  }

  function backward(dOut: Float64Array, logitGrad: boolean): void {
    // Dense head, last layer first, down to ∂loss/∂pooled.
    let dy: Float64Array = dLastOut;
    for (let o = 0; o < outputSize; o++) dy[o] = dOut[o];
    for (let d = dense.length - 1; d >= 0; d--) {
      const l = dense[d];
      const xin = d > 0 ? denseOut[d - 1] : pooled;
      const dxin = dDenseIn[d];
      dxin.fill(0);
      if (d === dense.length - 1 && logitGrad) denseBackwardPre(dxin, denseGrads[d].dW, denseGrads[d].db, l as never, dy, xin);
      else denseBackward(dxin, denseGrads[d].dW, denseGrads[d].db, dDensePre[d], l as never, dy, xin, denseOut[d]);
      dy = dxin;
    }
    // Pooling: spread ∂loss/∂pooled over the top layer's outputs.
    for (let k = 0; k < R; k++) for (let t = 0; t < W; t++) dAbove[k][t].fill(0);
    const top = dAbove[R - 1];
    if (pool === 'last') {
      const H = dirs[R - 1][0].h[0].length;
      for (let j = 0; j < H; j++) top[W - 1][j] = dy[j];
      for (let j = H; j < pooledSize; j++) top[0][j] = dy[j];
    } else {
      for (let t = 0; t < W; t++) for (let j = 0; j < pooledSize; j++) top[t][j] = dy[j] / W;
    }
    // Recurrent layers, top first; each direction against its own time order. Both
    // directions of layer k add their input gradient into dAbove[k - 1][t].
    for (let k = R - 1; k >= 0; k--) {
      for (let di = 0; di < dirs[k].length; di++) {
        const d = dirs[k][di];
        const l = d.cell;
        const H = l.hiddenSize, base = di * H;
        dhNext.fill(0);
        dcNext.fill(0);
        for (let s = W - 1; s >= 0; s--) {
          const t = d.reverse ? W - 1 - s : s;
          const p = prevOf(d, t);
          const from = dAbove[k][t];
          for (let j = 0; j < H; j++) dh[j] = dhNext[j] + from[base + j];
          const dx = k > 0 ? dAbove[k - 1][t] : null;
          const xin = k > 0 ? outs[k - 1][t] : xs[t];
          const hPrev = p < 0 ? zeros : d.h[p];
          dhPrev.fill(0);
          if (l.type === 'lstm') {
            dcPrev.fill(0);
            lstmStepBackward(dx, dhPrev, dcPrev, d.grads, dpre, l as never, dh, dcNext, xin, hPrev, p < 0 ? zeros : d.c[p], d.c[t], d.gates[t]);
            const tc = dcNext; dcNext = dcPrev; dcPrev = tc;
          } else if (l.type === 'gru') {
            gruStepBackward(dx, dhPrev, d.grads, dpre, dpreH, l as never, dh, xin, hPrev, d.gates[t], d.gh[t]);
          } else {
            rnnStepBackward(dx, dhPrev, d.grads, dpre, l as never, dh, xin, hPrev, d.h[t]);
          }
          const th = dhNext; dhNext = dhPrev; dhPrev = th;
        }
      }
    }
  }

  return {
    precision, layers, inputSize: I, outputSize, windowSize: W, pool, params, grads, tensors, forward, backward,
  };
}
