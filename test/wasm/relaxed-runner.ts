// Runs under Node 22 for test/wasm/wasm-relaxed.test.ts (Node 18 and 20 do not validate the
// relaxed-SIMD module) and prints one JSON report on stdout; the test makes the assertions.
//   products: mv_f32 and mm_f32 of the relaxed module over random shapes (sizes not multiples of
//     the 4-row panels, 16-row superpanels or 8-stream blocks included), each against the
//     fused-multiply-add mirror and the mul-then-add mirror (bit for bit) and float64.
//   sessions: the relaxed session's stepBatch against its own single steps, against the JS
//     session, and against the baseline module's session.
import { matvecBiasF32Ref } from '../../src/kernels/matvec.js';
import { instantiateKernels, wasmRelaxedSimdSupported } from '../../src/kernels/wasm/kernels.js';
import { layoutF32, panelRow, superpanels } from '../../src/kernels/wasm/layout.js';
import { matvecF32Seq, matvecF32SeqFused } from '../../src/kernels/wasm/reference.js';
import { seededRandom } from '../../src/model/index.js';
import { quantizeModel } from '../../src/model/quantize.js';
import { chooseWasmVariant, createJsSession } from '../../src/runtime/session.js';
import { createWasmSession } from '../../src/runtime/session-wasm.js';
import { inputs, maxRelDiff, MODELS, runAll } from './session-models.js';

export interface ProductCase { G: number; H: number; cols: number; n: number }
export interface ProductResult extends ProductCase {
  fused: boolean; unfused: boolean; mmEqualsMv: boolean; maxRel64: number; fusedDiffersFromUnfused: boolean;
}
export interface SessionResult { name: string; batchEqualsSingle: boolean; maxRelVsJs: number; differsFromBaseline: boolean }
export interface RelaxedReport { engine: string; relaxed: boolean; chosen: string; products: ProductResult[]; sessions: SessionResult[] }

const rand = seededRandom(23);
const uniform = (n: number, k = 1) => Float32Array.from({ length: n }, () => (rand() * 2 - 1) * k);

function products(): ProductResult[] {
  const k = instantiateKernels('relaxed');
  k.memory.grow(80);
  const out: ProductResult[] = [];
  for (const G of [1, 3, 4]) for (const H of [1, 3, 5, 16, 17, 30]) for (const cols of [1, 2, 7, 8, 13, 64, 131]) {
    const n = 4 * (1 + Math.floor(rand() * 16)); // 4..64: blocks of 8 streams and a last one of 4
    const rows = G * H, shape = { gates: G, hidden: H }, sp = superpanels(shape);
    let top = k.heap_base.value;
    const alloc = (b: number) => { const at = top; top = Math.ceil((top + b) / 16) * 16; return at; };
    const pw = alloc(sp * cols * 64), px = alloc(cols * 4), py = alloc(sp * 64), pxT = alloc(cols * n * 4), pyT = alloc(sp * 16 * n * 4);
    const w = uniform(rows * cols, 1 / Math.sqrt(cols)), xs = Array.from({ length: n }, () => uniform(cols));
    layoutF32(new Float32Array(k.memory.buffer, pw, sp * cols * 16), w, shape, cols, cols);
    const mem = new Float32Array(k.memory.buffer);
    for (let s = 0; s < n; s++) for (let j = 0; j < cols; j++) mem[(pxT >> 2) + j * n + s] = xs[s][j];
    k.mm_f32(pw, pxT, pyT, sp, cols, n);
    const fusedY = new Float32Array(rows), plainY = new Float32Array(rows), y64 = new Float32Array(rows), zero = new Float32Array(rows);
    const r: ProductResult = { G, H, cols, n, fused: true, unfused: true, mmEqualsMv: true, maxRel64: 0, fusedDiffersFromUnfused: false };
    for (let s = 0; s < n; s++) {
      mem.set(xs[s], px >> 2);
      k.mv_f32(pw, px, py, sp, cols);
      matvecF32SeqFused(fusedY, w, xs[s], rows, cols);
      matvecF32Seq(plainY, w, xs[s], rows, cols);
      matvecBiasF32Ref(y64, w, xs[s], zero, rows, cols);
      for (let g = 0; g < G; g++) for (let j = 0; j < H; j++) {
        const pr = panelRow(G, g, j), i = g * H + j, single = mem[(py >> 2) + pr], batched = mem[(pyT >> 2) + pr * n + s];
        if (single !== batched) r.mmEqualsMv = false;
        if (single !== fusedY[i]) r.fused = false;
        if (single !== plainY[i]) r.unfused = false;
        if (fusedY[i] !== plainY[i]) r.fusedDiffersFromUnfused = true;
        r.maxRel64 = Math.max(r.maxRel64, Math.abs(single - y64[i]) / Math.max(1, Math.abs(y64[i])));
      }
    }
    out.push(r);
  }
  return out;
}

function sessions(): SessionResult[] {
  const cases = [...MODELS, ...MODELS.slice(3, 6).map(([name, m]) => [`${name}, int8`, quantizeModel(m)] as const)];
  return cases.map(([name, m]) => {
    const n = 68; // a full chunk of 64 and a partial one of 4 (the 4-stream blocks)
    const xs = inputs(60, n, m.inputs.names.length);
    const batch = runAll(createWasmSession(m, instantiateKernels('relaxed')), xs, n, false);
    const single = runAll(createWasmSession(m, instantiateKernels('relaxed')), xs, n, true);
    const baseline = runAll(createWasmSession(m, instantiateKernels('baseline')), xs, n, false);
    return {
      name,
      batchEqualsSingle: batch.every((v, i) => Object.is(v, single[i])),
      maxRelVsJs: maxRelDiff(batch, runAll(createJsSession(m), xs, n, false)),
      differsFromBaseline: batch.some((v, i) => v !== baseline[i]),
    };
  });
}

const report: RelaxedReport = {
  engine: process.version, relaxed: wasmRelaxedSimdSupported(), chosen: chooseWasmVariant(), products: [], sessions: [],
};
if (report.relaxed) {
  report.products = products();
  report.sessions = sessions();
}
process.stdout.write(JSON.stringify(report));
