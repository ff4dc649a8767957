// createSession(model): one loaded model serving any number of streams. The model is
// read-only; each stream's recurrent state lives in a StreamState the caller owns; the
// scratch buffers below are allocated once, so a step allocates nothing.
import { lstmStep, gruStep, rnnStep } from '../kernels/cells.js';
import { createStreamState, type StreamState } from './stream-state.js';
import { denseStackForward } from '../kernels/dense.js';
import {
  instantiateKernels, wasmRelaxedSimdSupported, wasmSimdSupported, type KernelsVariant,
} from '../kernels/wasm/kernels.js';
import { planModel, type ModelPlan } from '../model/plan.js';
import type { Model } from '../model/types.js';
import { checkBatch } from './batch-check.js';
import { outputStage } from './output-stage.js';
import { createWasmSession } from './session-wasm.js';
import { createWindowSession } from './session-window.js';

export type { StreamState } from './stream-state.js';

export interface Session {
  readonly model: Model;
  /** The model's shape facts: layers, sizes, state layout, the swap shape key. */
  readonly plan: ModelPlan;
  readonly inputSize: number;
  readonly outputSize: number;
  /** Floats in a StreamState's buffer. */
  readonly stateSize: number;
  /** A zero state; over `buffer` (stateSize floats, its contents kept) when given. */
  createState(buffer?: Float32Array): StreamState;
  /** Back to the all-zero initial state. */
  reset(state: StreamState): void;
  /**
   * Advance `state` by one reading x [I] (raw, un-normalised values in the model's input
   * order) and return y [O] (de-normalised; residual outputs plus the reading of the input
   * of the same name). Writes y into `out` when given, else into a
   * buffer the session owns and overwrites on the next call.
   */
  step(state: StreamState, x: ArrayLike<number>, out?: Float32Array): Float32Array;
  /**
   * Advance N streams by one reading each: xs [N, I] row-major -> ys [N, O]. Gives exactly
   * the numbers of N single steps.
   */
  stepBatch(states: readonly StreamState[], xs: Float32Array, ys: Float32Array): void;
}

export type KernelChoice = 'js' | 'wasm';

export interface SessionOptions {
  /** Force a kernel path; default: EDGE_RNN_KERNELS (js|wasm), else the fastest available. */
  readonly kernels?: KernelChoice;
  /**
   * Which wasm module: default EDGE_RNN_WASM (baseline|relaxed), else relaxed SIMD where the
   * engine validates it, else baseline (docs/kernels.md: the numeric difference).
   */
  readonly wasmVariant?: KernelsVariant;
}

/** An environment variable where there is a Node-style environment; undefined in other JS runtimes. */
function fromEnv(name: string): string | undefined {
  return (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
}
const kernelsFromEnv = () => fromEnv('EDGE_RNN_KERNELS');

/** The wasm module variant: forced by the option or EDGE_RNN_WASM, else the best the engine runs. */
export function chooseWasmVariant(
  forced: string | undefined = fromEnv('EDGE_RNN_WASM'), relaxed: boolean = wasmRelaxedSimdSupported(),
): KernelsVariant {
  if (forced === 'baseline') return 'baseline';
  if (forced === 'relaxed') {
    if (!relaxed) throw new Error('EDGE_RNN_WASM=relaxed, but this JS engine has no WebAssembly relaxed SIMD (Node 22 or later has)');
    return 'relaxed';
  }
  if (forced !== undefined && forced !== '') throw new Error(`EDGE_RNN_WASM must be baseline or relaxed, got "${forced}"`);
  return relaxed ? 'relaxed' : 'baseline';
}

/**
 * The kernel path a session for `model` uses: forced by the option or EDGE_RNN_KERNELS,
 * else WebAssembly SIMD wherever the engine has it (it is faster at every shape measured,
 * batch 1 and batched; the session itself picks batched kernels by batch size), else JS.
 */
export function chooseKernels(
  _model: Model, forced: string | undefined = kernelsFromEnv(), simd: boolean = wasmSimdSupported(),
): KernelChoice {
  if (forced === 'js') return 'js';
  if (forced === 'wasm') {
    if (!simd) throw new Error('EDGE_RNN_KERNELS=wasm, but this JS engine has no WebAssembly SIMD');
    return 'wasm';
  }
  if (forced !== undefined && forced !== '') throw new Error(`EDGE_RNN_KERNELS must be js or wasm, got "${forced}"`);
  return simd ? 'wasm' : 'js';
}

export function createSession(model: Model, options: SessionOptions = {}): Session {
  const kernels = chooseKernels(model, options.kernels ?? kernelsFromEnv());
  const wasmKernels = () => instantiateKernels(chooseWasmVariant(options.wasmVariant ?? fromEnv('EDGE_RNN_WASM')));
  // A windowed model (issue 19) reads a whole window at once, not one reading at a time.
  if (model.window) return createWindowSession(model, planModel(model), kernels, wasmKernels);
  if (kernels === 'wasm') return createWasmSession(model, wasmKernels());
  return createJsSession(model);
}

/** The plain TypeScript session: the reference, and the fallback without WebAssembly SIMD. */
export function createJsSession(model: Model): Session {
  const plan = planModel(model);
  const { recurrent, dense, inputSize: I, outputSize: O } = plan;
  const mean = model.inputs.mean.data;
  const std = model.inputs.std.data;
  const writeOutput = outputStage(model, plan);

  const xn = new Float32Array(I);
  const gates = new Float32Array(plan.maxGateRows);
  const gh = new Float32Array(plan.maxGateRows);
  const denseOut = dense.map((d) => new Float32Array(d.outputSize));
  const ownOut = new Float32Array(O);

  // Runs the layers on the normalised input in `xn`; returns the last layer's output buffer.
  function forward(state: StreamState): Float32Array {
    let cur: Float32Array = xn;
    for (let k = 0; k < recurrent.length; k++) {
      const l = recurrent[k].layer;
      const h = state.h[k];
      if (l.type === 'lstm') lstmStep(h, state.c[k]!, gates, l, cur, h, state.c[k]!);
      else if (l.type === 'gru') gruStep(h, gates, gh, l, cur, h);
      else rnnStep(h, gates, l, cur, h);
      cur = h;
    }
    return denseStackForward(denseOut, dense, cur);
  }

  function step(state: StreamState, x: ArrayLike<number>, out: Float32Array = ownOut): Float32Array {
    for (let i = 0; i < I; i++) xn[i] = (x[i] - mean[i]) / std[i];
    writeOutput(forward(state), out, 0, x, 0);
    return out;
  }

  function stepBatch(states: readonly StreamState[], xs: Float32Array, ys: Float32Array): void {
    checkBatch(plan, states.length, xs, ys);
    for (let s = 0; s < states.length; s++) {
      const base = s * I;
      for (let i = 0; i < I; i++) xn[i] = (xs[base + i] - mean[i]) / std[i];
      writeOutput(forward(states[s]), ys, s * O, xs, base);
    }
  }

  return {
    model, plan, inputSize: I, outputSize: O, stateSize: plan.stateSize,
    createState: (buffer) => createStreamState(plan, buffer),
    reset: (state) => state.buffer.fill(0),
    step,
    stepBatch,
  };
}
