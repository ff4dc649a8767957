// npm run bench:step — per-step latency of the float32 step runtime against a
// straightforward JS loop measured in the same run, for LSTM and GRU (input 8,
// hidden 16/64/128/256, batch 1 and 64). Rounds alternate between the two so that
// machine noise hits both alike. Also checks that stepping allocates nothing.
// int8 rows (issue 6): the same shapes with per-row int8 weights against float32, both on
// the JS kernels, timed in the same interleaved rounds. Windowed rows (issue 19): bench-window.ts.
import { cpus } from 'node:os';
import { initModel, type Model, type RecurrentLayer } from '../../src/model/index.js';
import { quantizeModel } from '../../src/model/quantize.js';
import { createSession, type Session } from '../../src/runtime/session.js';
import { summarize } from './stats.js';
import { printWindowRows } from './bench-window.js';

const INPUT = 8;
const HIDDENS = (process.env.BENCH_HIDDEN ?? '16,64,128,256').split(',').map(Number);
const BATCHES = [1, 64];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);

/** The straightforward loop: one sum per gate row over x then h, then the gate math. */
function naiveStepper(model: Model) {
  const l = model.layers[0] as RecurrentLayer;
  const I = l.inputSize, H = l.hiddenSize;
  const wIh = l.wIh.data as Float32Array, wHh = l.wHh.data as Float32Array;
  const bIh = l.bIh.data, bHh = l.bHh.data;
  const G = l.type === 'lstm' ? 4 : 3;
  const gi = new Float32Array(G * H), gh = new Float32Array(G * H);
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  return (h: Float32Array, c: Float32Array, x: Float32Array) => {
    for (let r = 0; r < G * H; r++) {
      let a = bIh[r];
      for (let j = 0; j < I; j++) a += wIh[r * I + j] * x[j];
      gi[r] = a;
      let b = bHh[r];
      for (let j = 0; j < H; j++) b += wHh[r * H + j] * h[j];
      gh[r] = b;
    }
    if (l.type === 'lstm') {
      for (let j = 0; j < H; j++) {
        const i = sig(gi[j] + gh[j]), f = sig(gi[H + j] + gh[H + j]);
        const g = Math.tanh(gi[2 * H + j] + gh[2 * H + j]), o = sig(gi[3 * H + j] + gh[3 * H + j]);
        c[j] = f * c[j] + i * g;
        h[j] = o * Math.tanh(c[j]);
      }
    } else {
      for (let j = 0; j < H; j++) {
        const r = sig(gi[j] + gh[j]), z = sig(gi[H + j] + gh[H + j]);
        const n = Math.tanh(gi[2 * H + j] + r * gh[2 * H + j]);
        h[j] = (1 - z) * n + z * h[j];
      }
    }
  };
}

/** A session on the JS kernels whatever EDGE_RNN_KERNELS says (the int8-vs-float32 rows compare those). */
function jsSession(model: Model): Session {
  const saved = process.env.EDGE_RNN_KERNELS;
  process.env.EDGE_RNN_KERNELS = 'js';
  try {
    return createSession(model);
  } finally {
    if (saved === undefined) delete process.env.EDGE_RNN_KERNELS;
    else process.env.EDGE_RNN_KERNELS = saved;
  }
}

function stepper(session: Session, batch: number, xs: Float32Array): () => void {
  const states = Array.from({ length: batch }, () => session.createState());
  const ys = new Float32Array(batch * session.outputSize);
  const x1 = xs.subarray(0, INPUT);
  return batch === 1 ? () => { session.step(states[0], x1, ys); } : () => session.stepBatch(states, xs, ys);
}

function xsFor(batch: number): Float32Array {
  const xs = new Float32Array(batch * INPUT);
  for (let i = 0; i < xs.length; i++) xs[i] = Math.sin(i * 0.37);
  return xs;
}

/** Times `calls` invocations of fn individually; µs per call. */
function timeCalls(fn: () => void, calls: number, out: number[]): void {
  for (let k = 0; k < calls; k++) {
    const t0 = performance.now();
    fn();
    out.push((performance.now() - t0) * 1000);
  }
}

function benchShape(cell: 'lstm' | 'gru', hidden: number, batch: number) {
  const model = initModel({ name: 'bench', inputs: Array.from({ length: INPUT }, (_, i) => `x${i}`), outputs: Array.from({ length: hidden }, (_, i) => `h${i}`), cell, hiddenSizes: [hidden] }, 7);
  const session = createSession(model);
  const states = Array.from({ length: batch }, () => session.createState());
  const xs = xsFor(batch);
  const ys = new Float32Array(batch * session.outputSize);
  const x1 = xs.subarray(0, INPUT);
  const ours = batch === 1 ? () => { session.step(states[0], x1, ys); } : () => session.stepBatch(states, xs, ys);

  const naive = naiveStepper(model);
  const hs = Array.from({ length: batch }, () => new Float32Array(hidden));
  const cs = Array.from({ length: batch }, () => new Float32Array(hidden));
  const xviews = Array.from({ length: batch }, (_, s) => xs.subarray(s * INPUT, (s + 1) * INPUT));
  const plain = () => { for (let s = 0; s < batch; s++) naive(hs[s], cs[s], xviews[s]); };

  const f32js = stepper(jsSession(model), batch, xs);
  const q8js = stepper(jsSession(quantizeModel(model)), batch, xs);
  const q8default = stepper(createSession(quantizeModel(model)), batch, xs);

  // ~20 ms of work per round per contender, at least 20 calls.
  const work = 4 * hidden * (INPUT + hidden) * batch;
  const calls = Math.max(20, Math.round(2e7 / work));
  const contenders = [ours, plain, f32js, q8js, q8default];
  for (let w = 0; w < 3; w++) for (const fn of contenders) timeCalls(fn, calls, []);
  const samples = contenders.map((): number[] => []);
  for (let r = 0; r < ROUNDS; r++) contenders.forEach((fn, k) => timeCalls(fn, calls, samples[k]));
  const [a, b, f, q, qd] = samples.map(summarize);
  return { ours: a, plain: b, f32: f, int8: q, int8Default: qd, macs: (cell === 'lstm' ? 4 : 3) * hidden * (INPUT + hidden) * batch };
}

/** Heap growth over many steps with GC excluded: ~0 when the step path allocates nothing. */
function allocationCheck(): string {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return 'allocation check skipped (run with node --expose-gc)';
  const model = initModel({ name: 'bench', inputs: Array.from({ length: INPUT }, (_, i) => `x${i}`), outputs: ['y'], cell: 'lstm', hiddenSizes: [64, 64], dense: [{ size: 1, activation: 'linear' }] }, 3);
  const session = createSession(model);
  const state = session.createState();
  const x = xsFor(1);
  for (let i = 0; i < 10000; i++) session.step(state, x); // warm up and let the JIT settle
  gc();
  const before = process.memoryUsage().heapUsed;
  const steps = 200000;
  for (let i = 0; i < steps; i++) session.step(state, x);
  const grown = process.memoryUsage().heapUsed - before;
  return `heap growth over ${steps} steps of a 2-layer LSTM-64 + dense: ${grown} bytes (${(grown / steps).toFixed(3)} B/step)`;
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`bench:step — ${cpu}, ${cpus().length} cores, Node ${process.version}, ${process.platform}-${process.arch}`);
console.log(`input ${INPUT}; per call: median and p99 in µs; ${ROUNDS} interleaved rounds\n`);
console.log('float32. "plain loop": the straightforward JS step; "JS kernels": src/kernels (EDGE_RNN_KERNELS=js);');
console.log(`"default": the session createSession picks (EDGE_RNN_KERNELS=${process.env.EDGE_RNN_KERNELS || 'auto'}: WebAssembly SIMD where available).\n`);
console.log('| cell | hidden | batch | plain loop median µs | JS kernels median µs | JS speed-up | default median µs | p99 µs | steps/s | default speed-up | GMAC/s |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
const int8Rows: string[] = [];
for (const cell of ['lstm', 'gru'] as const) {
  for (const hidden of HIDDENS) {
    for (const batch of BATCHES) {
      const r = benchShape(cell, hidden, batch);
      const stepsPerSec = (batch * 1e6) / r.ours.median;
      console.log(`| ${cell} | ${hidden} | ${batch} | ${r.plain.median.toFixed(2)} | ${r.f32.median.toFixed(2)} | ${(r.plain.median / r.f32.median).toFixed(2)}x | ${r.ours.median.toFixed(2)} | ${r.ours.p99.toFixed(2)} | ${Math.round(stepsPerSec).toLocaleString('en-US')} | ${(r.plain.median / r.ours.median).toFixed(2)}x | ${(r.macs / r.ours.median / 1000).toFixed(2)} |`);
      const js = r.f32.median / r.int8.median, dflt = r.ours.median / r.int8Default.median;
      const slower = hidden >= 64 && (js < 1 || dflt < 1) ? 'int8 SLOWER' : '';
      int8Rows.push(`| ${cell} | ${hidden} | ${batch} | ${r.f32.median.toFixed(2)} | ${r.int8.median.toFixed(2)} | ${r.int8.p99.toFixed(2)} | ${js.toFixed(2)}x | ${r.ours.median.toFixed(2)} | ${r.int8Default.median.toFixed(2)} | ${r.int8Default.p99.toFixed(2)} | ${dflt.toFixed(2)}x | ${slower} |`);
    }
  }
}
console.log('\nint8 vs float32 weights: same shapes, same interleaved rounds, per call in µs. "JS": the JS kernels');
console.log(`(float activations, int8 weights read 4 per word); "default": the session createSession picks (EDGE_RNN_KERNELS=${process.env.EDGE_RNN_KERNELS || 'auto'}).\n`);
console.log('| cell | hidden | batch | JS float32 median | JS int8 median | p99 | JS int8 speed-up | default float32 median | default int8 median | p99 | default int8 speed-up | note |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const row of int8Rows) console.log(row);
console.log('\n' + allocationCheck());
printWindowRows(ROUNDS);
