// The windowed rows of `npm run bench:step` (issue 19): a windowed model's cost per window
// (the hop readings that end one: hop − 1 ring pushes and one forward pass over W readings,
// both directions) and per reading, against the causal step session of the same cell and
// hidden size measured in the same interleaved rounds: 2·W steps (what a bidirectional
// pass computes; W for a forward-only window) and one step per reading. Plus the bytes a
// long run of pushes allocates (~0: the window path allocates nothing per reading).
import { initModel, tensorF32, type DenseLayer, type Model, type RecurrentLayer } from '../../src/model/index.js';
import { quantizeModel } from '../../src/model/quantize.js';
import { createSession, type Session } from '../../src/runtime/session.js';
import { isWindowSession } from '../../src/runtime/session-window.js';
import { getHeapSpaceStatistics } from 'node:v8';
import { summarize } from './stats.js';

const INPUT = 8;

interface WindowCase {
  readonly cell: 'lstm' | 'gru';
  readonly hidden: number;
  readonly size: number;
  readonly hop: number;
  readonly bidirectional: boolean;
  readonly int8?: boolean;
}

const CASES: readonly WindowCase[] = [
  { cell: 'lstm', hidden: 16, size: 32, hop: 8, bidirectional: true },
  { cell: 'lstm', hidden: 64, size: 32, hop: 8, bidirectional: true },
  { cell: 'lstm', hidden: 64, size: 32, hop: 8, bidirectional: false },
  { cell: 'gru', hidden: 64, size: 128, hop: 16, bidirectional: true },
  { cell: 'lstm', hidden: 64, size: 32, hop: 8, bidirectional: true, int8: true },
];

const names = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}${i}`);

/** The causal model (one layer, dense head 2) and its windowed twin (reverse weights from another seed). */
function models(c: WindowCase): { causal: Model; windowed: Model } {
  const spec = { name: 'bench', inputs: names('x', INPUT), outputs: ['y0', 'y1'], cell: c.cell, hiddenSizes: [c.hidden], dense: [{ size: 2, activation: 'linear' as const }] };
  const causal = initModel(spec, 7);
  const fwd = causal.layers[0] as RecurrentLayer;
  const rev = initModel(spec, 8).layers[0] as RecurrentLayer;
  const width = c.bidirectional ? 2 * c.hidden : c.hidden;
  const head: DenseLayer = {
    type: 'dense', inputSize: width, outputSize: 2, activation: 'linear',
    w: tensorF32([2, width], Array.from({ length: 2 * width }, (_, i) => Math.sin(i) * 0.1)), b: tensorF32([2], [0, 0]),
  };
  const layer: RecurrentLayer = c.bidirectional ? { ...fwd, direction: 'bidirectional', reverse: { wIh: rev.wIh, wHh: rev.wHh, bIh: rev.bIh, bHh: rev.bHh } } : fwd;
  const windowed: Model = { ...causal, layers: [layer, head], window: { size: c.size, hop: c.hop }, outputs: { ...causal.outputs, from: 'mean' } };
  return c.int8 ? { causal: quantizeModel(causal), windowed: quantizeModel(windowed) } : { causal, windowed };
}

function readings(n: number): Float32Array[] {
  return Array.from({ length: n }, (_, k) => Float32Array.from({ length: INPUT }, (_, i) => Math.sin(k * 0.37 + i)));
}

function time(fn: () => void, calls: number, out: number[]): void {
  for (let k = 0; k < calls; k++) {
    const t0 = performance.now();
    fn();
    out.push((performance.now() - t0) * 1000);
  }
}

function benchCase(c: WindowCase, rounds: number) {
  const { causal, windowed } = models(c);
  const ws = createSession(windowed);
  if (!isWindowSession(ws)) throw new Error('expected a windowed session');
  const cs: Session = createSession(causal);
  const xs = readings(c.size * 4);
  const wState = ws.createState(), cState = cs.createState();
  const y = new Float32Array(2);
  let k = 0;
  for (; k < c.size - 1; k++) ws.window.push(wState, xs[k], k, y); // fill the ring: every hop now ends a window
  let ended = 0;
  const hop = () => {
    for (let r = 0; r < c.hop; r++, k++) if (ws.window.push(wState, xs[k % xs.length], k, y)) ended++;
  };
  const steps = c.bidirectional ? 2 * c.size : c.size;
  let j = 0;
  const causalPass = () => { for (let s = 0; s < steps; s++) cs.step(cState, xs[j++ % xs.length], y); };
  const causalStep = () => { cs.step(cState, xs[j++ % xs.length], y); };
  const work = (c.cell === 'lstm' ? 4 : 3) * c.hidden * (INPUT + c.hidden) * steps;
  const calls = Math.max(10, Math.round(1e7 / work));
  const contenders = [hop, causalPass, causalStep];
  for (let w = 0; w < 2; w++) contenders.forEach((fn) => time(fn, calls, []));
  ended = 0;
  const samples = contenders.map((): number[] => []);
  for (let r = 0; r < rounds; r++) contenders.forEach((fn, n) => time(fn, n === 2 ? calls * 4 : calls, samples[n]));
  if (ended !== rounds * calls) throw new Error(`expected one window per hop, got ${ended} in ${rounds * calls} hops`);
  const [perWindow, pass, step] = samples.map(summarize);
  return { perWindow, pass, step };
}

/**
 * Young-generation bytes allocated over many windowed pushes (V8's new space, read before
 * and after with no collection in between: heapUsed after a forced GC moves by tens of
 * bytes per reading between runs here even when nothing is allocated, from the JIT and the
 * loader; a run of 2 million pushes under --trace-gc saw no scavenge at all).
 */
export function windowAllocationCheck(): string {
  const { windowed } = models(CASES[1]);
  const ws = createSession(windowed);
  if (!isWindowSession(ws)) throw new Error('expected a windowed session');
  const st = ws.createState(), y = new Float32Array(2), xs = readings(64);
  for (let k = 0; k < 40000; k++) ws.window.push(st, xs[k % 64], k, y); // warm up: let the JIT settle
  const young = () => getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space')!.space_used_size;
  const pushes = 20000; // few enough that a young generation holding them would not fill up meanwhile
  // The JIT still allocates a little in the first chunks (it falls run to run): the last of 5 chunks counts.
  let grown = 0, read = 0;
  for (let chunk = 0; chunk < 5; chunk++) {
    const before = young();
    for (let k = 0; k < pushes; k++) ws.window.push(st, xs[k % 64], k, y);
    grown = young() - before;
    const r0 = young();
    read = young() - r0; // what reading the statistics allocates by itself
  }
  return `young-generation allocation over ${pushes} pushes (${pushes / 8} window passes) of a bi-LSTM-64 window 32 hop 8, 5th run: ${grown} bytes, of which reading the heap statistics ≈ ${read} (${((grown - read) / pushes).toFixed(3)} B/reading; negative: a scavenge ran meanwhile)`;
}

export function printWindowRows(rounds: number): void {
  console.log('\nwindowed models (issue 19), the session createSession picks, input 8, dense head 2, outputs.from "mean".');
  console.log('"per window": the hop readings that end one (hop − 1 ring pushes + one pass); "causal pass": the step session of');
  console.log('the same cell stepping the readings a pass computes (2·W bidirectional, W forward); "causal step": one reading.\n');
  console.log('| cell | hidden | W | hop | directions | weights | per window median µs | p99 µs | causal pass median µs | window / causal pass | per reading µs | causal step µs | per reading / causal step |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const c of CASES) {
    const r = benchCase(c, rounds);
    const perReading = r.perWindow.median / c.hop;
    console.log(`| ${c.cell} | ${c.hidden} | ${c.size} | ${c.hop} | ${c.bidirectional ? 2 : 1} | ${c.int8 ? 'int8' : 'f32'} | ${r.perWindow.median.toFixed(1)} | ${r.perWindow.p99.toFixed(1)} | ${r.pass.median.toFixed(1)} | ${(r.perWindow.median / r.pass.median).toFixed(2)}x | ${perReading.toFixed(2)} | ${r.step.median.toFixed(2)} | ${(perReading / r.step.median).toFixed(2)}x |`);
  }
  console.log('\n' + windowAllocationCheck());
}
