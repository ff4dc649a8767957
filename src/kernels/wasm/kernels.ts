// Loads the WebAssembly SIMD kernels (kernels.wat, embedded as base64 in kernels-module.ts):
// the relaxed-SIMD module where the engine validates it (Node 22; not Node 18 or 20), else
// the baseline SIMD module. Each module is compiled once per process; each session gets its
// own instance and memory.
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from './kernels-module.js';

// The few WebAssembly JS API members used here (this project's TS lib has no DOM types).
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** The kernels' exports; every pointer is a byte offset into `memory`. See kernels.wat. */
export interface WasmKernels {
  readonly memory: WasmMemory;
  /** First byte free for the caller: below it, the kernels' constant table. */
  readonly heap_base: { readonly value: number };
  exp_v(x: number, y: number, n: number): void;
  sigmoid_v(x: number, y: number, n: number): void;
  tanh_v(x: number, y: number, n: number): void;
  mv_f32(w: number, x: number, y: number, sp: number, cols: number): void;
  quant_act(x: number, q: number, n: number): number;
  mv_q8(w: number, xq: number, sx: number, scale: number, y: number, sp: number, cp: number): void;
  /** quant_act(x, xq, n) then mv_q8 with its scale: one call. */
  qmv_q8(w: number, x: number, xq: number, n: number, scale: number, y: number, sp: number, cp: number): void;
  lstm_gates(gx: number, gh: number, bi: number, bh: number, c: number, h: number, groups: number): void;
  gru_gates(gx: number, gh: number, bi: number, bh: number, h: number, groups: number): void;
  rnn_gates(gx: number, gh: number, bi: number, bh: number, h: number, groups: number, relu: number): void;
  mm_f32(w: number, xT: number, yT: number, sp: number, cols: number, n: number): void;
  quant_act_t(xT: number, qT: number, sx: number, rows: number, n: number): void;
  mm_q8(w: number, xqT: number, sx: number, scale: number, yT: number, sp: number, cp: number, n: number): void;
  lstm_gates_t(gx: number, gh: number, bi: number, bh: number, c: number, h: number, groups: number, n: number): void;
  gru_gates_t(gx: number, gh: number, bi: number, bh: number, h: number, groups: number, n: number): void;
  rnn_gates_t(gx: number, gh: number, bi: number, bh: number, h: number, units: number, n: number, relu: number): void;
  gather_t(src: number, stride: number, dT: number, rows: number, rowsP: number, m: number, n: number): void;
  scatter_t(sT: number, dst: number, stride: number, rows: number, m: number, n: number): void;
  /** dst [m][o] = f32(std · src + mean) in float64 (the output stage); src rows `stride` floats apart. */
  affine_out(src: number, stride: number, std: number, mean: number, dst: number, o: number, m: number): void;
}

// (module (func (result v128) (v128.const i32x4 0 0 0 0))): validates only where SIMD is on.
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
  0x03, 0x02, 0x01, 0x00, // one function of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, // code: no locals, v128.const
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b,
]);

let simd: boolean | undefined;
/** Whether this JS engine runs WebAssembly with 128-bit SIMD. */
export function wasmSimdSupported(): boolean {
  simd ??= wasmApi !== undefined && typeof wasmApi.validate === 'function' && wasmApi.validate(SIMD_PROBE);
  return simd;
}

/** baseline: 128-bit SIMD, f32 mul then add; relaxed: the same kernels with f32x4.relaxed_madd. */
export type KernelsVariant = 'baseline' | 'relaxed';

/** An assembled kernels module's bytes. */
export function kernelsWasmBytes(variant: KernelsVariant = 'baseline'): Uint8Array {
  const bin = atob(variant === 'relaxed' ? KERNELS_RELAXED_WASM_BASE64 : KERNELS_WASM_BASE64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

let relaxed: boolean | undefined;
/** Whether this engine validates the relaxed-SIMD module (the module itself is the probe). */
export function wasmRelaxedSimdSupported(): boolean {
  relaxed ??= wasmSimdSupported() && wasmApi!.validate(kernelsWasmBytes('relaxed'));
  return relaxed;
}

/** The variant a session gets by default: relaxed where the engine runs it, else baseline. */
export function defaultKernelsVariant(): KernelsVariant {
  return wasmRelaxedSimdSupported() ? 'relaxed' : 'baseline';
}

const compiled = new Map<KernelsVariant, object>();
function compiledModule(variant: KernelsVariant): object {
  let mod = compiled.get(variant);
  if (!mod) compiled.set(variant, (mod = new wasmApi!.Module(kernelsWasmBytes(variant))));
  return mod;
}

/**
 * A fresh instance (its own memory, one 64 KiB page to start) of the given variant (default:
 * defaultKernelsVariant()). Needs wasmSimdSupported(), and for 'relaxed' wasmRelaxedSimdSupported().
 * The relaxed module holds only the kernels it changes (mv_f32, mm_f32, see scripts/build-wasm.ts),
 * over the baseline instance's memory; every other kernel is the baseline's.
 */
export function instantiateKernels(variant: KernelsVariant = defaultKernelsVariant()): WasmKernels {
  if (!wasmApi) throw new Error('WebAssembly is not available in this JS engine');
  if (variant === 'relaxed' && !wasmRelaxedSimdSupported()) {
    throw new Error('the relaxed-SIMD kernels need an engine with WebAssembly relaxed SIMD (Node 22 or later)');
  }
  const base = new wasmApi.Instance(compiledModule('baseline'), {}).exports as unknown as WasmKernels;
  if (variant === 'baseline') return base;
  const relaxed = new wasmApi.Instance(compiledModule('relaxed'), { kernels: { memory: base.memory } }).exports as unknown as
    Pick<WasmKernels, 'mv_f32' | 'mm_f32'>;
  return { ...base, mv_f32: relaxed.mv_f32, mm_f32: relaxed.mm_f32 };
}
