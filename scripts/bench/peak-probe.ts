// The core's peak f32 multiply-add rate, for bench:peers' "of peak" column: a tight WebAssembly
// loop of independent f32x4 mul+add chains, assembled here with wabt (it is a benchmark probe,
// so it stays out of the runtime's kernels module).
import wabtInit from 'wabt';

// `iters` rounds of 12 independent f32x4 mul+add chains (48 multiply-adds a round: 12 chains x
// 4 lanes; enough chains to cover the mul+add latency, so the loop is bound by the vector units'
// throughput; no memory traffic).
const PEAK_WAT = `(module
  (func (export "peak_f32") (param $iters i32) (result f32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128) (local $a8 v128) (local $a9 v128) (local $a10 v128) (local $a11 v128) (local $m v128)
    (local.set $m (v128.const f32x4 0.999 0.999 0.999 0.999))
    (local.set $a1 (v128.const f32x4 1 1 1 1))
    (local.set $a2 (v128.const f32x4 2 2 2 2))
    (local.set $a3 (v128.const f32x4 3 3 3 3))
    (local.set $a4 (v128.const f32x4 4 4 4 4))
    (local.set $a5 (v128.const f32x4 5 5 5 5))
    (local.set $a6 (v128.const f32x4 6 6 6 6))
    (local.set $a7 (v128.const f32x4 7 7 7 7))
    (local.set $a8 (v128.const f32x4 8 8 8 8))
    (local.set $a9 (v128.const f32x4 9 9 9 9))
    (local.set $a10 (v128.const f32x4 10 10 10 10))
    (local.set $a11 (v128.const f32x4 11 11 11 11))
    (loop $l
      (local.set $a0 (f32x4.add (f32x4.mul (local.get $a0) (local.get $m)) (local.get $m)))
      (local.set $a1 (f32x4.add (f32x4.mul (local.get $a1) (local.get $m)) (local.get $m)))
      (local.set $a2 (f32x4.add (f32x4.mul (local.get $a2) (local.get $m)) (local.get $m)))
      (local.set $a3 (f32x4.add (f32x4.mul (local.get $a3) (local.get $m)) (local.get $m)))
      (local.set $a4 (f32x4.add (f32x4.mul (local.get $a4) (local.get $m)) (local.get $m)))
      (local.set $a5 (f32x4.add (f32x4.mul (local.get $a5) (local.get $m)) (local.get $m)))
      (local.set $a6 (f32x4.add (f32x4.mul (local.get $a6) (local.get $m)) (local.get $m)))
      (local.set $a7 (f32x4.add (f32x4.mul (local.get $a7) (local.get $m)) (local.get $m)))
      (local.set $a8 (f32x4.add (f32x4.mul (local.get $a8) (local.get $m)) (local.get $m)))
      (local.set $a9 (f32x4.add (f32x4.mul (local.get $a9) (local.get $m)) (local.get $m)))
      (local.set $a10 (f32x4.add (f32x4.mul (local.get $a10) (local.get $m)) (local.get $m)))
      (local.set $a11 (f32x4.add (f32x4.mul (local.get $a11) (local.get $m)) (local.get $m)))
      (local.set $iters (i32.sub (local.get $iters) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $iters) (i32.const 0))))
    (f32x4.extract_lane 0 (f32x4.add (f32x4.add (f32x4.add (f32x4.add (f32x4.add (f32x4.add (f32x4.add (f32x4.add (f32x4.add (f32x4.add (f32x4.add (local.get $a0) (local.get $a1)) (local.get $a2)) (local.get $a3)) (local.get $a4)) (local.get $a5)) (local.get $a6)) (local.get $a7)) (local.get $a8)) (local.get $a9)) (local.get $a10)) (local.get $a11))))
)`;

// The WebAssembly JS API members used here (this project's TS lib has no DOM types).
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

async function peakProbe(): Promise<(iters: number) => number> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('peak.wat', PEAK_WAT, { simd: true });
  try {
    const { buffer } = mod.toBinary({ log: false });
    const instance = new wasmApi.Instance(new wasmApi.Module(buffer), {});
    return instance.exports.peak_f32 as (iters: number) => number;
  } finally {
    mod.destroy();
  }
}

/** Best of 5 runs of the probe, in multiply-adds per second on one core. */
export async function peakMacsPerSecond(): Promise<number> {
  const peak = await peakProbe();
  peak(1e6); // warm up / tier up
  let best = 0;
  for (let r = 0; r < 5; r++) {
    const iters = 2e7;
    const t0 = performance.now();
    peak(iters);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, (iters * 48) / s); // 12 chains x 4 lanes of mul+add per iteration
  }
  return best;
}
