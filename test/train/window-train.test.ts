// `train --window` (issue 19): window samples and labels, the event comparison's numbers by
// hand, a seeded windowed run (loss falls, same bytes twice, the file decodes), the runtime's
// windowed session and `predict` against the trainer's forward pass, and the CLI's refusals
// of flags that do not go together.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { decodeModel, encodeModel } from '../../src/model/index.js';
import { buildDataset, type DatasetInput, type TrainOptions } from '../../src/train/index.js';
import { scoreEvents } from '../../src/train/event-compare.js';
import { validationEnds, windowClass, windowEndSampler } from '../../src/train/window-samples.js';
import { trainWindowed, windowOutputs, type WindowOptions } from '../../src/train/window-trainer.js';
import { createWindowNetwork } from '../../src/train/window-network.js';
import { createSession } from '../../src/runtime/session.js';
import { isWindowSession } from '../../src/runtime/session-window.js';
import { predictRecorded } from '../../src/cli/commands/predict.js';
import { trainingRuns } from '../../src/train/windows.js';
import { seededRandom } from '../../src/model/index.js';

/** Two devices; the label marks short bumps in `a` (an "event" of 3 readings every 20). */
function synthetic(rows = 200): { input: Omit<DatasetInput, 'target'>; label: string[]; a: number[]; b: number[]; devices: string[] } {
  const a: number[] = [], b: number[] = [], label: string[] = [], devices: string[] = [];
  for (let t = 0; t < rows; t++) {
    for (const [d, phase] of [['p', 0], ['q', 7]] as const) {
      const ev = (t + phase) % 20 < 3;
      a.push(Math.sin(t / 5 + phase) + (ev ? 2 : 0));
      b.push(Math.cos(t / 7 + phase));
      label.push(ev ? '1' : '0');
      devices.push(d);
    }
  }
  return { input: { inputNames: ['a', 'b'], inputs: [a, b], devices, valFraction: 0.25, seqLen: 8 }, label, a, b, devices };
}

const opts: TrainOptions = { name: 'win', cell: 'gru', hidden: 6, layers: 2, seqLen: 8, batch: 4, epochs: 10, lr: 0.02, clip: 1, patience: 0, seed: 3, minSteps: 8, passes: 0.2 };
const win: WindowOptions = { size: 8, hop: 2, bidirectional: true, from: 'last', label: 'any' };

describe('window samples', () => {
  const s = synthetic();
  const ds = buildDataset({ ...s.input, target: { task: 'classification', labelName: 'label', labels: s.label } });
  it('labels: last is the last reading\'s class; any is 1 when an event touches the window', () => {
    const ser = ds.series[0]; // device p: events at t % 20 < 3
    expect(windowClass(ser, 8, 9, 'last')).toBe(0);
    expect(windowClass(ser, 8, 9, 'any')).toBe(1); // window 2..9 holds reading 2
    expect(windowClass(ser, 8, 10, 'any')).toBe(0); // window 3..10 holds none
    expect(windowClass(ser, 8, 21, 'last')).toBe(1);
  });
  it('training windows lie wholly in training runs; validation windows end at validation readings', () => {
    const runs = trainingRuns(ds);
    const sampler = windowEndSampler(runs, 8);
    const rand = seededRandom(1);
    for (let k = 0; k < 500; k++) {
      const { series, end } = sampler.sample(rand);
      expect(runs.some((r) => r.series === series && r.start <= end - 7 && end < r.end)).toBe(true);
    }
    expect(sampler.count).toBe(runs.reduce((a, r) => a + Math.max(0, r.end - r.start - 7), 0));
    const ends = validationEnds(ds, ds.series[0], 8);
    expect(ends[0]).toBe(ds.series[0].trainEnd); // tail split: validation starts right after training
    expect(ends.length).toBe(ds.series[0].n - ds.series[0].trainEnd);
  });
});

describe('event comparison', () => {
  it('precision, recall, F1 and delay by hand', () => {
    // readings 0..11; events at 2..4 and 8..9; decisions at 3, 4, 6 and 11.
    const event = Uint8Array.from([0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0]);
    const decision = Uint8Array.from([0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 1]);
    const readings = Int32Array.from({ length: 12 }, (_, i) => i);
    const s = scoreEvents('m', [{ device: 'd', readings, event, decision }], 2);
    expect([s.tp, s.fp, s.fn]).toEqual([2, 2, 3]);
    expect(s.precision).toBe(0.5);
    expect(s.recall).toBe(0.4);
    expect(s.f1).toBeCloseTo(2 * 0.5 * 0.4 / 0.9, 12);
    // event 2..4: first decision at 3 -> delay 1; event 8..9: decision 11 is within grace 2 of 9 -> delay 3.
    expect(s.delays).toEqual([1, 3]);
    expect(s.events).toBe(2);
    const strict = scoreEvents('m', [{ device: 'd', readings, event, decision }], 1);
    expect(strict.delays).toEqual([1]); // 11 is 2 past the event's end: missed with grace 1
  });
});

describe('trainWindowed', () => {
  const s = synthetic();
  const ds = buildDataset({ ...s.input, target: { task: 'classification', labelName: 'label', labels: s.label } });
  it('seeded: the validation loss falls, the same bytes twice, and the file decodes to a windowed bidirectional model', () => {
    const a = trainWindowed(ds, opts, win);
    const b = trainWindowed(ds, opts, win);
    expect(a.bestValLoss).toBeLessThan(a.history[0].valLoss * 0.3);
    expect(a.metrics.task === 'classification' && a.metrics.accuracy).toBeGreaterThan(0.9);
    const bytes = encodeModel(a.model);
    expect(Buffer.from(encodeModel(b.model)).equals(Buffer.from(bytes))).toBe(true);
    const m = decodeModel(bytes);
    expect(m.window).toEqual({ size: 8, hop: 2 });
    expect(m.outputs.from).toBe('last');
    const l1 = m.layers[1];
    expect(l1.type === 'gru' && l1.direction === 'bidirectional' && l1.inputSize === 12 && l1.reverse !== undefined).toBe(true);
    expect(m.layers[2].inputSize).toBe(12);
    expect(a.metrics.task === 'classification' && a.metrics.steps).toBe(a.valWindows);
  });
  it('regression: the target of the last reading, against persistence', () => {
    const dr = buildDataset({ ...s.input, target: { task: 'regression', targetNames: ['a'], targets: [s.a], horizon: 1 } });
    const r = trainWindowed(dr, { ...opts, layers: 1 }, { ...win, from: 'mean', bidirectional: false });
    expect(r.metrics.task).toBe('regression');
    expect(r.bestValLoss).toBeLessThan(r.history[0].valLoss);
    expect(decodeModel(encodeModel(r.model)).outputs.from).toBe('mean');
  });
});

describe('edge-rnn train --window: refusals', () => {
  let dir: string;
  let stderr: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edge-rnn-wtrain-'));
    stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((x: string | Uint8Array) => ((stderr += String(x)), true));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => vi.restoreAllMocks());
  const data = () => {
    const s = synthetic(80);
    const path = join(dir, 'd.csv');
    writeFileSync(path, ['dev,a,b,label', ...s.a.map((v, i) => `${s.devices[i]},${v.toFixed(4)},${s.b[i].toFixed(4)},${s.label[i]}`)].join('\n') + '\n');
    return path;
  };
  const run = (extra: string[]) => main(['train', '--data', data(), '--inputs', 'a,b', '--device-column', 'dev', '--epochs', '1', '--hidden', '3',
    '--no-progress', '--out', join(dir, 'm.msgpack'), ...extra]);
  const cases: [string, string[], RegExp][] = [
    ['--hop without --window', ['--label', 'label', '--hop', '2'], /--hop needs --window/],
    ['--bidirectional without --window', ['--label', 'label', '--bidirectional'], /--bidirectional needs --window/],
    ['--hop larger than --window', ['--label', 'label', '--window', '4', '--hop', '5'], /--hop 5 is larger than --window 4/],
    ['--window-label for regression', ['--target', 'a', '--window', '4', '--window-label', 'any'], /--window-label is for classification/],
    ['--residual with --window', ['--target', 'a', '--window', '4', '--residual'], /--residual is refused with --window/],
    ['--compare-with a missing file', ['--label', 'label', '--window', '4', '--compare-with', '/nonexistent.msgpack'], /--compare-with: cannot read model/],
    ['--seq-len with --window', ['--label', 'label', '--window', '6', '--seq-len', '10'], /--seq-len is the BPTT window of a per-reading model/],
    ['--window 0', ['--label', 'label', '--window', '0'], /--window.*expected an integer in 1\.\.4096/],
    ['a window longer than a device\'s training part', ['--label', 'label', '--window', '70'], /device "p" has 80 rows: too few for --window 70/],
    ['no training run as long as the window', ['--label', 'label', '--window', '20', '--val-mode', 'blocks', '--val-blocks', '4', '--val-gap', '5'], /no 20 consecutive training readings for a training window \(the longest run of them is \d+\): use a smaller --window/],
  ];
  for (const [what, extra, pattern] of cases) {
    it(what, async () => {
      const code = await run(extra);
      expect(code).not.toBe(0);
      expect(code).not.toBe(70);
      expect(stderr).toMatch(pattern);
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(stderr.trim().split('\n').filter((l) => !l.startsWith('(add --help'))).toHaveLength(1);
      expect(existsSync(join(dir, 'm.msgpack'))).toBe(false);
    });
  }
  it('a good windowed run writes a card that says what the window is, and --json says it too', async () => {
    let stdout = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((x: string | Uint8Array) => ((stdout += String(x)), true));
    expect(await run(['--label', 'label', '--window', '6', '--bidirectional', '--window-label', 'any', '--seed', '1', '--json'])).toBe(0);
    expect(JSON.parse(stdout).window).toEqual({ size: 6, hop: 1, from: 'last', bidirectional: true });
    const card = readFileSync(join(dir, 'm.card.md'), 'utf8');
    expect(card).toMatch(/\*\*Window:\*\* 6 readings, one result every 1; bidirectional/);
    expect(card).toMatch(/highest class of any of its readings/);
    const json = JSON.parse(readFileSync(join(dir, 'm.card.json'), 'utf8'));
    expect(json.window).toMatchObject({ size: 6, hop: 1, bidirectional: true, from: 'last', label: 'any' });
  });
});

describe('trainer and runtime agree', () => {
  // Exact against the runtime's JS kernels (the trainer runs the same kernels on the same
  // float32 numbers); the WebAssembly SIMD path accumulates in float32: within 1e-5.
  const s = synthetic(120);
  const cases: [string, TrainOptions, WindowOptions, 'classification' | 'regression'][] = [
    ['bidirectional lstm x2, pool last, classification, hop 3', { ...opts, cell: 'lstm', epochs: 2 }, { ...win, hop: 3 }, 'classification'],
    ['bidirectional gru x1, pool mean, regression, hop 1', { ...opts, layers: 1, epochs: 2 }, { ...win, from: 'mean', hop: 1 }, 'regression'],
    ['forward rnn x2, pool last, classification, hop 2', { ...opts, cell: 'rnn', rnnActivation: 'tanh', epochs: 2 }, { ...win, bidirectional: false }, 'classification'],
  ];
  for (const [what, o, w, task] of cases) {
    it(what, () => {
      const ds = buildDataset({ ...s.input, target: task === 'classification' ? { task, labelName: 'label', labels: s.label } : { task, targetNames: ['b'], targets: [s.b], horizon: 2 } });
      const r = trainWindowed(ds, o, w);
      const model = decodeModel(encodeModel(r.model)); // what a device loads
      const net = createWindowNetwork(model);
      for (const kernels of ['js', 'wasm'] as const) {
        const session = createSession(model, { kernels });
        if (!isWindowSession(session)) throw new Error('expected a windowed session');
        for (const [si, ser] of ds.series.entries()) {
          const ends = Int32Array.from({ length: Math.floor((ser.n - w.size) / w.hop) + 1 }, (_, k) => w.size - 1 + k * w.hop);
          const trainer = windowOutputs(net, ds, si, ends, new Float32Array(ends.length * net.outputSize));
          const state = session.createState();
          const got: number[] = [];
          const y = new Float32Array(session.outputSize);
          for (let t = 0; t < ser.n; t++) if (session.window.push(state, ser.xRaw.subarray(t * 2, t * 2 + 2), t, y)) got.push(...y);
          expect(got.length).toBe(trainer.length);
          if (kernels === 'js') expect(got).toEqual(Array.from(trainer));
          else got.forEach((v, k) => expect(Math.abs(v - trainer[k])).toBeLessThan(1e-5 * Math.max(1, Math.abs(trainer[k]))));
        }
      }
      // `predict` on the raw readings of the CSV (devices interleaved) prints the same numbers.
      const inputs = Float32Array.from(s.a.flatMap((v, i) => [v, s.b[i]]));
      const byDevice = new Map<string, number[]>();
      predictRecorded(model, inputs, s.devices, (p) => byDevice.set(p.device!, [...(byDevice.get(p.device!) ?? []), ...p.y]), { kernels: 'js' });
      for (const [si, ser] of ds.series.entries()) {
        const ends = Int32Array.from({ length: Math.floor((ser.n - w.size) / w.hop) + 1 }, (_, k) => w.size - 1 + k * w.hop);
        const trainer = windowOutputs(net, ds, si, ends, new Float32Array(ends.length * net.outputSize));
        expect(byDevice.get(ser.device)!.map(Math.fround)).toEqual(Array.from(trainer));
      }
    });
  }
});
