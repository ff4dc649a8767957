// Places weights in a WebAssembly kernels instance's memory (shared by the step session's
// layout, wasm-memory.ts, and the window forward pass, window-forward-wasm.ts): a bump
// allocator over byte offsets, 16-byte aligned, from the kernels' heap_base; weights are
// queued and written by finish(), once the memory has grown to its final size.
import type { WasmKernels } from '../kernels/wasm/kernels.js';
import { ceilTo, layoutF32, layoutQ8, layoutRows, type GateShape } from '../kernels/wasm/layout.js';
import type { Tensor } from '../model/types.js';

export interface WasmWeights {
  readonly q8: boolean;
  readonly ptr: number; // [sp][cols][16] f32, or [sp][cp][16][2] int8 values as i16
  readonly scale: number; // int8: [sp*16] f32 row scales
  readonly cols: number; // f32: columns; int8: column pairs
}

export class WasmPlacer {
  private size: number;
  private readonly jobs: (() => void)[] = [];

  constructor(private readonly kernels: WasmKernels) {
    this.size = kernels.heap_base.value;
  }

  /** `bytes` of scratch; returns the byte offset. */
  alloc(bytes: number): number {
    const at = this.size;
    this.size = ceilTo(at + bytes, 16);
    return at;
  }

  /** A gate matrix [G*H, cols] in the kernels' layout, with colsOut (≥ cols) columns. */
  weights(t: Tensor, shape: GateShape, cols: number, colsOut: number, sp: number): WasmWeights {
    const k = this.kernels;
    if (t.dtype === 'f32') {
      const ptr = this.alloc(sp * colsOut * 16 * 4);
      this.jobs.push(() => layoutF32(new Float32Array(k.memory.buffer, ptr, sp * colsOut * 16), t.data, shape, cols, colsOut));
      return { q8: false, ptr, scale: 0, cols: colsOut };
    }
    const cp = Math.ceil(colsOut / 2);
    const ptr = this.alloc(sp * cp * 64); // i16
    const scale = this.alloc(sp * 16 * 4);
    this.jobs.push(() => {
      layoutQ8(new Int16Array(k.memory.buffer, ptr, sp * cp * 32), t.data, shape, cols, cp);
      layoutRows(new Float32Array(k.memory.buffer, scale, sp * 16), t.scale, shape);
    });
    return { q8: true, ptr, scale, cols: cp };
  }

  /** A per-row vector [G*H] (a bias) in panel order. */
  rows(v: Float32Array, shape: GateShape, sp: number): number {
    const ptr = this.alloc(sp * 16 * 4);
    this.jobs.push(() => layoutRows(new Float32Array(this.kernels.memory.buffer, ptr, sp * 16), v, shape));
    return ptr;
  }

  /** Grows the memory once to hold everything allocated, then writes the queued weights. */
  finish(): void {
    const memory = this.kernels.memory;
    const have = memory.buffer.byteLength;
    if (this.size > have) memory.grow(Math.ceil((this.size - have) / 65536));
    for (const job of this.jobs.splice(0)) job();
  }
}
