// The trainable network: a model's parameters in one flat array (the layers are views into
// it, so the optimiser updates them in place), the runtime's forward kernels unrolled over
// a truncated-BPTT window with one cache slot per time step, and the backward pass over
// that window. Everything is allocated when the network is built; a window allocates
// nothing.
//
// `precision: 'f64'` runs the very same code on float64 arrays (the forward kernels are
// typed for Float32Array but are plain JS loops, so they compute in float64 when handed
// Float64Array): the gradient checks use it so finite differences are not drowned by
// float32 rounding. Training uses 'f32', which is exactly what the runtime computes.
import { gruStep, lstmStep, rnnStep } from '../kernels/cells.js';
import {
  gruStepBackward, lstmStepBackward, rnnStepBackward, type CellGrads, type FloatArray,
} from '../kernels/cells-backward.js';
import { denseForward } from '../kernels/dense.js';
import { denseBackward, denseBackwardPre } from '../kernels/dense-backward.js';
import { planModel } from '../model/plan.js';
import { parameterCount, type DenseLayer, type Layer, type Model, type RecurrentLayer } from '../model/types.js';

export type Precision = 'f32' | 'f64';

/** One parameter tensor: its name (e.g. "layers[0].wIh"), value and gradient views. */
export interface ParamTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly value: FloatArray;
  readonly grad: Float64Array;
}

export interface Network {
  readonly precision: Precision;
  /** The layers, reading their weights from `params`. */
  readonly layers: readonly Layer[];
  readonly inputSize: number;
  readonly outputSize: number;
  /** Longest window forwardWindow accepts. */
  readonly maxSteps: number;
  /** Every parameter, flat; the optimiser updates it in place. */
  readonly params: FloatArray;
  /** ∂loss/∂params, flat, same layout; backwardWindow accumulates into it. */
  readonly grads: Float64Array;
  readonly tensors: readonly ParamTensor[];
  /** Floats in a recurrent state (h, then c for LSTM, of each recurrent layer). */
  readonly stateSize: number;
  /**
   * Forward over T steps of normalised inputs x[x0 + t*I …] starting from `state`, which is
   * overwritten with the state after the window (carried to the next window, detached).
   * Returns the model outputs [T, O] (a view owned by the network; softmax probabilities
   * for a classifier).
   */
  forwardWindow(state: FloatArray, x: FloatArray, x0: number, T: number): FloatArray;
  /**
   * Backward over the last forwardWindow: dOut [T, O] is ∂loss/∂outputs, or, with
   * `logitGrad`, ∂loss/∂(pre-softmax logits) of the last layer (cross-entropy's stable
   * p - onehot). Accumulates into `grads`; the initial state is treated as a constant.
   */
  backwardWindow(dOut: Float64Array, T: number, logitGrad: boolean): void;
  /**
   * Forward only over a whole series from the zero state, stepping in place exactly as
   * the runtime session does; writes the outputs [n, O] into `out`.
   */
  runSeries(out: FloatArray, x: FloatArray, n: number): void;
}

/** Builds a trainable network holding a copy of the model's (f32) weights. */
export function createNetwork(model: Model, maxSteps: number, precision: Precision = 'f32'): Network {
  const F = precision === 'f64' ? Float64Array : Float32Array;
  // The forward kernels are typed for Float32Array; in f64 mode they receive Float64Array.
  const as32 = (a: FloatArray): Float32Array => a as Float32Array;

  const plan = planModel(model);
  if (plan.recurrent.length === 0) throw new Error('createNetwork: the model has no recurrent layer');

  // ---- parameters: flat storage and layer views over it ------------------------------
  const total = parameterCount(model);
  const params = new F(total);
  const grads = new Float64Array(total);
  const tensors: ParamTensor[] = [];
  let off = 0;
  const take = (name: string, src: { readonly shape: readonly number[]; readonly data: ArrayLike<number>; readonly dtype: string }) => {
    if (src.dtype !== 'f32') throw new Error(`createNetwork: ${name} is ${src.dtype}; only float models can be trained`);
    const n = src.data.length;
    const value = params.subarray(off, off + n);
    value.set(src.data);
    const grad = grads.subarray(off, off + n);
    tensors.push({ name, shape: [...src.shape], value, grad });
    off += n;
    return { dtype: 'f32' as const, shape: [...src.shape], data: as32(value) };
  };
  const layers: Layer[] = model.layers.map((l, k): Layer => {
    const p = `layers[${k}]`;
    if (l.type === 'dense') return { ...l, w: take(`${p}.w`, l.w), b: take(`${p}.b`, l.b) };
    return { ...l, wIh: take(`${p}.wIh`, l.wIh), wHh: take(`${p}.wHh`, l.wHh), bIh: take(`${p}.bIh`, l.bIh), bHh: take(`${p}.bHh`, l.bHh) };
  });
  // The plan's layers, as the views over `params` built above.
  const recurrent = plan.recurrent.map((r) => layers[r.index] as RecurrentLayer);
  const dense = plan.denseIndex.map((k) => layers[k] as DenseLayer);
  const gradsAt = (idx: number) => tensors.filter((x) => x.name.startsWith(`layers[${idx}].`));
  const cellGrads = plan.recurrent.map((r): CellGrads => {
    const t = gradsAt(r.index);
    return { dWIh: t[0].grad, dWHh: t[1].grad, dBIh: t[2].grad, dBHh: t[3].grad };
  });
  const denseGrads = plan.denseIndex.map((k) => {
    const t = gradsAt(k);
    return { dW: t[0].grad, db: t[1].grad };
  });

  const { inputSize: I, outputSize: O, stateSize } = plan;
  const R = recurrent.length;
  const Hs = plan.recurrent.map((r) => r.hiddenSize);
  const isLstm = plan.recurrent.map((r) => r.cOffset >= 0);
  const gateRows = plan.recurrent.map((r) => r.gates * r.hiddenSize);

  // ---- caches: one slot per time step, with views made once ---------------------------
  const T = maxSteps;
  const slots = (n: number, count: number): FloatArray[] => {
    const buf = new F(n * count);
    return Array.from({ length: count }, (_, t) => buf.subarray(t * n, (t + 1) * n));
  };
  const xs = slots(I, T);
  const hs = Hs.map((H) => slots(H, T + 1)); // hs[k][0]: the initial state
  const cs = Hs.map((H, k) => (isLstm[k] ? slots(H, T + 1) : []));
  const gates = gateRows.map((n) => slots(n, T));
  const ghs = recurrent.map((l) => (l.type === 'gru' ? slots(3 * l.hiddenSize, T) : []));
  const douts = dense.map((d) => slots(d.outputSize, T));
  const outBuf = new F(T * O);

  // ---- backward scratch -----------------------------------------------------------------
  const f64 = (n: number) => new Float64Array(n);
  const dhNext = Hs.map(f64), dhPrev = Hs.map(f64), dhCur = Hs.map(f64);
  const dcNext = Hs.map(f64), dcPrev = Hs.map(f64);
  const dFromAbove = Hs.map(f64); // ∂loss/∂h of layer k at the current step, from layer k+1 / the head
  const dpre = gateRows.map(f64);
  const dpreH = recurrent.map((l) => f64(3 * l.hiddenSize));
  const dDenseIn = dense.map((d) => f64(d.inputSize));
  const dDensePre = dense.map((d) => f64(d.outputSize)); // scratch of denseBackward
  const dLastOut = f64(O); // ∂loss/∂(model output) at the current step

  function forwardStep(t: number): void {
    let cur = xs[t];
    for (let k = 0; k < R; k++) {
      const l = recurrent[k];
      const h = hs[k][t + 1], hPrev = hs[k][t];
      if (l.type === 'lstm') lstmStep(as32(h), as32(cs[k][t + 1]), as32(gates[k][t]), l, as32(cur), as32(hPrev), as32(cs[k][t]));
      else if (l.type === 'gru') gruStep(as32(h), as32(gates[k][t]), as32(ghs[k][t]), l, as32(cur), as32(hPrev));
      else rnnStep(as32(h), as32(gates[k][t]), l, as32(cur), as32(hPrev));
      cur = h;
    }
    for (let d = 0; d < dense.length; d++) {
      denseForward(as32(douts[d][t]), dense[d], as32(cur));
      cur = douts[d][t];
    }
    for (let o = 0; o < O; o++) outBuf[t * O + o] = cur[o];
  }

  function forwardWindow(state: FloatArray, x: FloatArray, x0: number, steps: number): FloatArray {
    if (steps > T) throw new RangeError(`forwardWindow: ${steps} steps, the network was built for ${T}`);
    for (let k = 0; k < R; k++) {
      const { hiddenSize: H, hOffset, cOffset } = plan.recurrent[k];
      for (let j = 0; j < H; j++) hs[k][0][j] = state[hOffset + j];
      if (cOffset >= 0) for (let j = 0; j < H; j++) cs[k][0][j] = state[cOffset + j];
    }
    for (let t = 0; t < steps; t++) {
      const xt = xs[t];
      for (let i = 0; i < I; i++) xt[i] = x[x0 + t * I + i];
      forwardStep(t);
    }
    for (let k = 0; k < R; k++) {
      const { hiddenSize: H, hOffset, cOffset } = plan.recurrent[k];
      for (let j = 0; j < H; j++) state[hOffset + j] = hs[k][steps][j];
      if (cOffset >= 0) for (let j = 0; j < H; j++) state[cOffset + j] = cs[k][steps][j];
    }
    return outBuf;
  }

  function backwardWindow(dOut: Float64Array, steps: number, logitGrad: boolean): void {
    for (let k = 0; k < R; k++) {
      dhNext[k].fill(0);
      dcNext[k].fill(0);
    }
    for (let t = steps - 1; t >= 0; t--) {
      // Dense head, last layer first; dy of layer d is ∂loss/∂(its output).
      let dy = dLastOut; // a copy: a view of dOut's row would allocate
      for (let o = 0; o < O; o++) dy[o] = dOut[t * O + o];
      if (dense.length > 0) {
        const last = dense.length - 1;
        for (let d = last; d >= 0; d--) {
          const l = dense[d];
          const xin = d > 0 ? douts[d - 1][t] : hs[R - 1][t + 1];
          const dxin = dDenseIn[d];
          dxin.fill(0);
          if (d === last && logitGrad) denseBackwardPre(dxin, denseGrads[d].dW, denseGrads[d].db, l as never, dy, xin);
          else denseBackward(dxin, denseGrads[d].dW, denseGrads[d].db, dDensePre[d], l as never, dy, xin, douts[d][t]);
          dy = dxin;
        }
      }
      // Recurrent layers, top first.
      for (let k = R - 1; k >= 0; k--) {
        const l = recurrent[k];
        const H = Hs[k];
        const dh = dhCur[k], from = k === R - 1 ? dy : dFromAbove[k];
        for (let j = 0; j < H; j++) dh[j] = dhNext[k][j] + from[j];
        const dx = k > 0 ? dFromAbove[k - 1] : null;
        if (dx) dx.fill(0);
        const xin = k > 0 ? hs[k - 1][t + 1] : xs[t];
        dhPrev[k].fill(0);
        if (l.type === 'lstm') {
          dcPrev[k].fill(0);
          lstmStepBackward(dx, dhPrev[k], dcPrev[k], cellGrads[k], dpre[k], l as never, dh, dcNext[k], xin,
            hs[k][t], cs[k][t], cs[k][t + 1], gates[k][t]);
          const tc = dcNext[k]; dcNext[k] = dcPrev[k]; dcPrev[k] = tc;
        } else if (l.type === 'gru') {
          gruStepBackward(dx, dhPrev[k], cellGrads[k], dpre[k], dpreH[k], l as never, dh, xin, hs[k][t], gates[k][t], ghs[k][t]);
        } else {
          rnnStepBackward(dx, dhPrev[k], cellGrads[k], dpre[k], l as never, dh, xin, hs[k][t], hs[k][t + 1]);
        }
        const th = dhNext[k]; dhNext[k] = dhPrev[k]; dhPrev[k] = th;
      }
    }
  }

  // Inference buffers, stepped in place like the runtime session.
  const runH = Hs.map((H) => new F(H));
  const runC = Hs.map((H) => new F(H));
  const runGates = gateRows.map((n) => new F(n));
  const runGh = recurrent.map((l) => new F(3 * l.hiddenSize));
  const runDense = dense.map((d) => new F(d.outputSize));
  const runX = new F(I);

  function runSeries(out: FloatArray, x: FloatArray, n: number): void {
    for (let k = 0; k < R; k++) {
      runH[k].fill(0);
      runC[k].fill(0);
    }
    for (let t = 0; t < n; t++) {
      for (let i = 0; i < I; i++) runX[i] = x[t * I + i];
      let cur: FloatArray = runX;
      for (let k = 0; k < R; k++) {
        const l = recurrent[k];
        const h = runH[k];
        if (l.type === 'lstm') lstmStep(as32(h), as32(runC[k]), as32(runGates[k]), l, as32(cur), as32(h), as32(runC[k]));
        else if (l.type === 'gru') gruStep(as32(h), as32(runGates[k]), as32(runGh[k]), l, as32(cur), as32(h));
        else rnnStep(as32(h), as32(runGates[k]), l, as32(cur), as32(h));
        cur = h;
      }
      for (let d = 0; d < dense.length; d++) {
        denseForward(as32(runDense[d]), dense[d], as32(cur));
        cur = runDense[d];
      }
      for (let o = 0; o < O; o++) out[t * O + o] = cur[o];
    }
  }

  return {
    precision, layers, inputSize: I, outputSize: O, maxSteps, params, grads, tensors, stateSize,
    forwardWindow, backwardWindow, runSeries,
  };
}
