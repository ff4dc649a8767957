// The step session against PyTorch: every fixture in test/fixtures/golden (float64 torch on
// the same float32 weights, regenerate with scripts/golden/make-golden.py) is built into a
// model, sent through the codec, and stepped from its non-zero initial state, on each kernel
// path: the JS kernels and the WebAssembly SIMD kernels.
import { afterAll, describe, expect, it } from 'vitest';
import { decodeModel, encodeModel, seededRandom, type Model } from '../../src/model/index.js';
import { createSession, type KernelChoice, type Session, type StreamState } from '../../src/runtime/session.js';
import { fixtureModel, loadFixtures, type TorchFixture } from './torch-fixture.js';

/** Max abs difference allowed against the float64 reference, per kernel path (both keep f32 state). */
const TOLERANCES: Readonly<Record<KernelChoice, number>> = {
  js: 1e-5, // float64 sums
  wasm: 1e-5, // float32 sums, in SIMD lane order
};
const PATHS = Object.keys(TOLERANCES) as KernelChoice[];

const fixtures = loadFixtures();
const observed: Record<string, { steps: number; maxOutputDiff: number; maxStateDiff: number }> = {};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Bit patterns, so that === comparisons also tell -0 from 0 and see NaN payloads. */
function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(Float32Array.from(a).buffer);
}

function setState(state: StreamState, fx: TorchFixture): void {
  fx.layers.forEach((l, k) => {
    state.h[k].set(l.h0);
    if (fx.cell === 'lstm') state.c[k]!.set(l.c0);
  });
}

/** Steps `state` through `inputs`; returns every output, concatenated [T, O]. */
function run(session: Session, state: StreamState, inputs: readonly Float32Array[]): Float32Array {
  const O = session.outputSize;
  const ys = new Float32Array(inputs.length * O);
  inputs.forEach((x, t) => ys.set(session.step(state, x), t * O));
  return ys;
}

function roundTrip(model: Model): Model {
  return decodeModel(encodeModel(model));
}

afterAll(() => {
  // The numbers behind the assertions, for the record (visible in the vitest output).
  console.table(observed);
});

it('has the fixtures (regenerate with /usr/bin/python3 scripts/golden/make-golden.py)', () => {
  expect(fixtures.length).toBeGreaterThanOrEqual(20);
  const cells = new Set(fixtures.map((f) => `${f.cell}/${f.activation ?? ''}/${f.numLayers}`));
  for (const c of ['rnn/tanh/1', 'rnn/tanh/2', 'rnn/relu/1', 'rnn/relu/2', 'lstm//1', 'lstm//2', 'gru//1', 'gru//2']) {
    expect(cells).toContain(c);
  }
  const heads = new Set(fixtures.flatMap((f) => f.dense.map((d) => d.activation)));
  expect([...heads].sort()).toEqual(['linear', 'relu', 'sigmoid', 'softmax', 'tanh']);
  expect(fixtures.some((f) => f.normalisation !== null)).toBe(true);
  expect(fixtures.some((f) => f.hiddenSize === 1)).toBe(true);
  expect(fixtures.some((f) => f.inputSize === 1)).toBe(true);
});

describe.each(fixtures.flatMap((fx) => PATHS.map((kernels) => [fx.name, kernels, fx] as const)))('%s on %s kernels', (_name, kernels, fx) => {
  const TOLERANCE = TOLERANCES[kernels];
  const newSession = (m: Model) => createSession(m, { kernels });
  const model = roundTrip(fixtureModel(fx));
  const inputs = fx.inputs.map((row) => Float32Array.from(row));
  const T = fx.steps;

  it(`matches torch ${fx.torch} within ${TOLERANCE} on every step and the final state`, () => {
    expect(inputs.length).toBe(T);
    expect(T).toBeGreaterThanOrEqual(200);
    const session = newSession(model);
    const O = session.outputSize;
    expect(O).toBe(fx.expected.outputs[0].length);
    const state = session.createState();
    setState(state, fx);

    let maxOut = 0;
    let worstStep = -1;
    for (let t = 0; t < T; t++) {
      const y = session.step(state, inputs[t]);
      const d = maxAbsDiff(y, fx.expected.outputs[t]);
      if (!(d <= maxOut)) {
        maxOut = d;
        worstStep = t;
      }
    }
    let maxState = 0;
    for (let k = 0; k < fx.numLayers; k++) {
      maxState = Math.max(maxState, maxAbsDiff(state.h[k], fx.expected.h[k]));
      if (fx.cell === 'lstm') maxState = Math.max(maxState, maxAbsDiff(state.c[k]!, fx.expected.c![k]));
      else expect(state.c[k]).toBeNull();
    }
    observed[`${fx.name} ${kernels}`] = { steps: T, maxOutputDiff: maxOut, maxStateDiff: maxState };
    expect(maxOut, `worst step ${worstStep}`).toBeLessThanOrEqual(TOLERANCE);
    expect(maxState).toBeLessThanOrEqual(TOLERANCE);
  });

  it('depends on the initial state (so the comparison above checks it was used)', () => {
    const session = newSession(model);
    const zero = run(session, session.createState(), inputs.slice(0, 1));
    expect(maxAbsDiff(zero, fx.expected.outputs[0])).toBeGreaterThan(100 * TOLERANCE);
  });

  // Gated cells only (declared conditionally rather than skipped).
  if (fx.cell !== 'rnn') it('tells a swapped gate order apart (first two gate blocks exchanged)', () => {
    const H = fx.hiddenSize;
    const swapped = structuredClone(fx);
    for (const [k, l] of swapped.layers.entries()) {
      for (const key of [`weight_ih_l${k}`, `weight_hh_l${k}`, `bias_ih_l${k}`, `bias_hh_l${k}`]) {
        const w = l[key];
        const cols = w.length / ((fx.cell === 'lstm' ? 4 : 3) * H);
        const a = w.slice(0, H * cols);
        l[key] = [...w.slice(H * cols, 2 * H * cols), ...a, ...w.slice(2 * H * cols)];
      }
    }
    const session = newSession(fixtureModel(swapped));
    const state = session.createState();
    setState(state, fx);
    const ys = run(session, state, inputs);
    const O = session.outputSize;
    let worst = 0;
    for (let t = 0; t < T; t++) worst = Math.max(worst, maxAbsDiff(ys.subarray(t * O, (t + 1) * O), fx.expected.outputs[t]));
    expect(worst).toBeGreaterThan(100 * TOLERANCE);
  });

  it('stepBatch over independent streams gives bit for bit the numbers of single steps', () => {
    const N = 4;
    const session = newSession(model);
    const I = session.inputSize;
    const O = session.outputSize;
    const rand = seededRandom(0x5eed + T);
    // Stream 0 is the fixture; the others replay it rotated, from their own random state.
    const seqs = Array.from({ length: N }, (_, s) => Array.from({ length: T }, (_, t) => inputs[(t + 37 * s) % T]));
    const singles = Array.from({ length: N }, () => session.createState());
    const batched = Array.from({ length: N }, () => session.createState());
    setState(singles[0], fx);
    for (let s = 1; s < N; s++) for (let i = 0; i < session.stateSize; i++) singles[s].buffer[i] = (rand() * 2 - 1) * 1.5;
    singles.forEach((st, s) => batched[s].buffer.set(st.buffer));

    const ySingle = new Float32Array(T * N * O);
    const yBatch = new Float32Array(T * N * O);
    const xs = new Float32Array(N * I);
    const ys = new Float32Array(N * O);
    for (let t = 0; t < T; t++) {
      // Single steps interleave the streams, as a gateway would, sharing the session's scratch.
      for (let s = 0; s < N; s++) ySingle.set(session.step(singles[s], seqs[s][t]), (t * N + s) * O);
      for (let s = 0; s < N; s++) xs.set(seqs[s][t], s * I);
      session.stepBatch(batched, xs, ys);
      yBatch.set(ys, t * N * O);
    }
    expect(bits(yBatch)).toEqual(bits(ySingle));
    for (let s = 0; s < N; s++) expect(bits(batched[s].buffer)).toEqual(bits(singles[s].buffer));
    // And stream 0 is still the torch reference.
    for (let t = 0; t < T; t++) {
      expect(maxAbsDiff(yBatch.subarray(t * N * O, t * N * O + O), fx.expected.outputs[t])).toBeLessThanOrEqual(TOLERANCE);
    }
    // The streams really differ (a batch that mixed them up could not pass the bitwise check).
    const stream = (s: number) => Array.from({ length: T * O }, (_, k) => yBatch[(Math.floor(k / O) * N + s) * O + (k % O)]);
    expect(maxAbsDiff(stream(0), stream(1))).toBeGreaterThan(0);
  });

  it('reset() then replay equals a fresh run', () => {
    const used = newSession(model);
    const state = used.createState();
    setState(state, fx);
    run(used, state, inputs);
    used.reset(state);
    expect(Array.from(state.buffer).every((v) => Object.is(v, 0))).toBe(true);
    const replay = run(used, state, inputs);

    const fresh = newSession(roundTrip(model));
    const freshState = fresh.createState();
    const first = run(fresh, freshState, inputs);
    expect(bits(replay)).toEqual(bits(first));
    expect(bits(state.buffer)).toEqual(bits(freshState.buffer));
  });
});

it('runs two different kernel paths (their float32 outputs differ in the last bits somewhere)', () => {
  const differs = fixtures.some((fx) => {
    const model = fixtureModel(fx);
    const inputs = fx.inputs.map((row) => Float32Array.from(row));
    const [js, wasm] = PATHS.map((kernels) => {
      const session = createSession(model, { kernels });
      const state = session.createState();
      setState(state, fx);
      return bits(run(session, state, inputs));
    });
    return js.some((b, i) => b !== wasm[i]);
  });
  expect(PATHS).toEqual(['js', 'wasm']);
  expect(differs).toBe(true);
});
