// The training loop end to end on small synthetic series: clipping, the dataset split and
// statistics, a seeded run whose loss falls and whose model bytes repeat exactly, and the
// trainer/runtime replay equality (training and serving compute the same numbers).
//
// Exactness is against the runtime's JS kernels, which the trainer itself runs. The
// WebAssembly SIMD session (the default where available) accumulates in float32 and is
// held to its own tolerance by the runtime's tests; here it must stay within 1e-4.
import { describe, expect, it } from 'vitest';
import { encodeModel, type Model } from '../../src/model/index.js';
import { createSession } from '../../src/runtime/session.js';
import { withEnv } from './with-env.js';
import { predictRecorded } from '../../src/cli/commands/predict.js';
import { buildDataset, clipGlobalNorm, createNetwork, globalNorm, initialModel, lossCurveSvg, seriesOutputs, train, type DatasetInput, type TrainOptions } from '../../src/train/index.js';
import { validationMetrics } from '../../src/train/metrics.js';

/** Two devices of noisy sines with different phases; a label marks the top of the wave. */
function synthetic(rowsPerDevice = 240): { input: Omit<DatasetInput, 'target'>; temp: number[]; hum: number[]; label: string[]; devices: string[] } {
  const temp: number[] = [], hum: number[] = [], label: string[] = [], devices: string[] = [];
  // Interleave the devices row by row, as a real recording does; the builder must untangle them.
  for (let t = 0; t < rowsPerDevice; t++) {
    for (const [d, phase] of [['a', 0], ['b', 1.3]] as const) {
      const s = Math.sin(t / 6 + phase);
      temp.push(20 + 3 * s + 0.1 * Math.sin(t * 1.7 + phase * 5));
      hum.push(50 - 5 * Math.cos(t / 6 + phase));
      label.push(s > 0.7 ? '1' : '0');
      devices.push(d);
    }
  }
  return { input: { inputNames: ['temp', 'hum'], inputs: [temp, hum], devices, valFraction: 0.25, seqLen: 12 }, temp, hum, label, devices };
}

/** `predict`'s stepping (float32 CSV readings, JS kernels) gives exactly the trainer's outputs, per device. */
function expectPredictEqualsTrainer(
  model: Model, s: ReturnType<typeof synthetic>, net: Parameters<typeof seriesOutputs>[0], ds: Parameters<typeof seriesOutputs>[1],
): void {
  const inputs = Float32Array.from(s.temp.flatMap((t, i) => [t, s.hum[i]]));
  const byDevice = new Map<string, number[]>();
  withEnv('EDGE_RNN_KERNELS', 'js', () =>
    predictRecorded(model, inputs, s.devices, (p) => byDevice.set(p.device!, [...(byDevice.get(p.device!) ?? []), ...p.y])));
  ds.series.forEach((ser) => {
    const trainer = seriesOutputs(net, ds, ser, new Float32Array(ser.n * 2));
    expect(byDevice.get(ser.device)!.map(Math.fround)).toEqual(Array.from(trainer));
  });
}

const opts: TrainOptions = {
  name: 'syn', cell: 'lstm', hidden: 8, layers: 1, seqLen: 12, batch: 4, epochs: 6, lr: 0.02, clip: 1, patience: 0, seed: 7,
};

describe('global-norm clipping', () => {
  it('scales a gradient above the threshold to exactly the threshold norm, keeping its direction', () => {
    const g = Float64Array.from([3, -4, 12, 0.5, -7]);
    const before = Float64Array.from(g);
    const norm = clipGlobalNorm(g, 2.5);
    expect(norm).toBeCloseTo(Math.sqrt(9 + 16 + 144 + 0.25 + 49), 12);
    expect(Math.abs(globalNorm(g) - 2.5)).toBeLessThan(1e-14);
    for (let i = 0; i < g.length; i++) expect(g[i] / before[i]).toBeCloseTo(2.5 / norm, 14);
  });
  it('leaves a gradient at or below the threshold untouched', () => {
    const g = Float64Array.from([0.3, -0.4]);
    clipGlobalNorm(g, 0.5);
    expect([...g]).toEqual([0.3, -0.4]);
  });
});

describe('dataset', () => {
  it('keeps devices apart, splits each one by time, and takes statistics from the training rows only', () => {
    const s = synthetic(100);
    const ds = buildDataset({ ...s.input, target: { task: 'regression', targetNames: ['temp'], targets: [s.temp], horizon: 3 } });
    expect(ds.series.map((x) => [x.device, x.n, x.trainEnd])).toEqual([['a', 100, 75], ['b', 100, 75]]);
    // Independent mean over the first 75 rows of each device (rows interleave a, b, a, b…).
    const train = s.temp.filter((_, r) => Math.floor(r / 2) < 75);
    const mean = train.reduce((a, b) => a + b, 0) / train.length;
    const std = Math.sqrt(train.reduce((a, b) => a + (b - mean) ** 2, 0) / train.length);
    expect(ds.inputMean[0]).toBe(Math.fround(mean));
    expect(ds.inputStd[0]).toBe(Math.fround(std));
    // Device b's series holds only b's rows, in order; the target is 3 steps ahead.
    const b = ds.series[1];
    expect(b.raw[10]).toBe(s.temp[2 * 10 + 1]);
    expect(b.y[10]).toBe(Math.fround((s.temp[2 * 13 + 1] - ds.targetMean![0]) / ds.targetStd![0]));
    // Training targets never reach into the validation part.
    expect(ds.trainSteps).toBe(2 * (75 - 3));
    expect(ds.valSteps).toBe(2 * (25 - 3));
  });
});

describe('training', () => {
  it('a seeded run lowers the loss and gives byte-identical models when re-run', () => {
    const s = synthetic();
    const input = { ...s.input, target: { task: 'regression' as const, targetNames: ['temp'], targets: [s.temp], horizon: 2 } };
    const a = train(buildDataset(input), opts);
    const b = train(buildDataset(input), opts);
    const first = a.history[1], last = a.history[a.history.length - 1];
    expect(last.trainLoss).toBeLessThan(0.5 * first.trainLoss);
    expect(a.bestValLoss).toBeLessThan(0.5 * first.valLoss);
    expect(Buffer.from(encodeModel(a.model)).equals(Buffer.from(encodeModel(b.model)))).toBe(true);
    const c = train(buildDataset(input), { ...opts, seed: 8 });
    expect(Buffer.from(encodeModel(a.model)).equals(Buffer.from(encodeModel(c.model)))).toBe(false);
  });

  it('early stopping keeps the best epoch\'s weights', () => {
    const s = synthetic();
    const ds = buildDataset({ ...s.input, target: { task: 'regression', targetNames: ['temp'], targets: [s.temp], horizon: 2 } });
    // A learning rate this high makes validation loss bounce, so the best epoch is not the last.
    const r = train(ds, { ...opts, lr: 0.3, epochs: 8, patience: 2 });
    const best = Math.min(...r.history.map((h) => h.valLoss));
    expect(r.bestValLoss).toBe(best);
    expect(r.history[r.bestEpoch]).toMatchObject({ epoch: r.bestEpoch, valLoss: best });
    // The exported model reproduces the best validation loss.
    const net = createNetwork(r.model, 1);
    const out = new Float32Array(ds.series[0].n);
    let sum = 0, n = 0;
    for (const ser of ds.series) {
      net.runSeries(out, ser.x, ser.n);
      for (let t = ser.trainEnd; t + 2 < ser.n; t++) { sum += (out[t] - ser.y[t]) ** 2; n++; }
    }
    expect(sum / n).toBeCloseTo(best, 10);
    if (r.stoppedEarly) expect(r.epochsRun - r.bestEpoch).toBe(2);
  });

  it('epoch 0 scores the starting weights; when no epoch beats them, the start is returned unchanged', () => {
    const s = synthetic();
    const ds = buildDataset({ ...s.input, target: { task: 'regression', targetNames: ['temp'], targets: [s.temp], horizon: 2 } });
    const start = initialModel(ds, opts);
    // Independent: the starting model's mean squared error on the validation steps.
    const net = createNetwork(start, 1);
    const out = new Float32Array(ds.series[0].n);
    let sum = 0, n = 0;
    for (const ser of ds.series) {
      net.runSeries(out, ser.x, ser.n);
      for (let t = ser.trainEnd; t + 2 < ser.n; t++) { sum += (out[t] - ser.y[t]) ** 2; n++; }
    }
    const r0 = train(ds, opts);
    expect(r0.history[0].epoch).toBe(0);
    expect(r0.history[0].trainLoss).toBeNaN();
    expect(r0.history[0].valLoss).toBeCloseTo(sum / n, 10);
    expect(r0.history.map((h) => h.epoch)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(r0.epochsRun).toBe(6);
    // A learning rate so large that every update makes things worse: epoch 0 stays best.
    const r = train(ds, { ...opts, lr: 50, epochs: 3 });
    expect(r.history.slice(1).every((h) => h.valLoss > r.history[0].valLoss)).toBe(true);
    expect(r.bestEpoch).toBe(0);
    expect(r.bestValLoss).toBe(r.history[0].valLoss);
    const weights = (m: Model) => m.layers.flatMap((l) => (l.type === 'dense' ? [...l.w.data, ...l.b.data] : [...l.wIh.data, ...l.wHh.data, ...l.bIh.data, ...l.bHh.data]));
    expect(weights(r.model)).toEqual(weights(start));
    // The curve draws epoch 0 (validation only) at the left edge, marked best.
    const svg = lossCurveSvg(r.history, 't', r.bestEpoch);
    expect(svg).not.toMatch(/NaN/);
    expect(svg).toMatch(/<line x1="64\.0" y1="40" x2="64\.0" y2="312" stroke="#2a2"/);
    const paths = [...svg.matchAll(/<path d="([^"]*)"/g)].map((m) => m[1].split(' ').length);
    expect(paths).toEqual([3, 4]); // train: epochs 1-3; validation: epochs 0-3
  });

  it('residual: the start is persistence (epoch 0 RMSE equals the persistence baseline), and training keeps that unless it does better', () => {
    const s = synthetic();
    const ds = buildDataset({ ...s.input, target: { task: 'regression', targetNames: ['temp', 'hum'], targets: [s.temp, s.hum], horizon: 3, residual: true } });
    for (const cell of ['lstm', 'gru'] as const) {
      const r0 = train(ds, { ...opts, cell, lr: 50, epochs: 2 }); // updates that only make it worse
      expect(r0.bestEpoch).toBe(0);
      const m = r0.metrics;
      if (m.task !== 'regression') throw new Error('expected regression metrics');
      for (const t of m.targets) expect(Math.abs(t.rmse - t.persistenceRmse)).toBeLessThan(1e-6 * t.persistenceRmse);
      // The output layer of the start: zero weights, bias -mean/std of the change.
      const head = r0.model.layers[r0.model.layers.length - 1];
      if (head.type !== 'dense') throw new Error('expected a dense head');
      expect([...head.w.data].every((w) => w === 0)).toBe(true);
      expect([...head.b.data]).toEqual([0, 1].map((o) => Math.fround(-ds.targetMean![o] / ds.targetStd![o])));
      // A sensible run beats it on these smooth sines.
      const r = train(ds, { ...opts, cell });
      expect(r.bestEpoch).toBeGreaterThan(0);
      expect(r.bestValLoss).toBeLessThan(r.history[0].valLoss);
    }
  });

  it('shouldStop ends the run between gradient steps; the epoch in progress is scored and the best weights kept', () => {
    const s = synthetic();
    const ds = buildDataset({ ...s.input, target: { task: 'regression', targetNames: ['temp'], targets: [s.temp], horizon: 2 } });
    let stepsPerEpoch = 0;
    const full = train(ds, opts, (e) => { if (e.type === 'start') stepsPerEpoch = e.stepsPerEpoch; });
    let calls = 0, steps = 0, reason = '';
    // Stop after 1.5 epochs' worth of checks: epoch 2 is cut short, scored, and the run ends.
    const r = train(ds, { ...opts, shouldStop: () => ++calls > Math.floor(1.5 * stepsPerEpoch) }, (e) => {
      if (e.type === 'batch') steps++;
      if (e.type === 'stop') reason = e.reason;
    });
    expect(reason).toBe('budget');
    expect(r.stoppedEarly).toBe(true);
    expect(r.epochsRun).toBe(2);
    expect(steps).toBeLessThan(2 * stepsPerEpoch);
    expect(steps).toBeGreaterThan(stepsPerEpoch);
    // Epoch 1 is the same as the uninterrupted run's: the callback changes nothing else.
    expect(r.history[1]).toEqual(full.history[1]);
    expect(r.bestValLoss).toBe(Math.min(...r.history.map((h) => h.valLoss)));
    // A stop before the first step returns the start.
    const r0 = train(ds, { ...opts, shouldStop: () => true });
    expect(r0.epochsRun).toBe(0);
    expect(r0.bestEpoch).toBe(0);
  });

  for (const cell of ['lstm', 'gru', 'rnn'] as const) {
    it(`${cell}: a trained model replayed step by step through the runtime gives exactly the trainer's outputs`, () => {
      const s = synthetic(120);
      const ds = buildDataset({ ...s.input, target: { task: 'regression', targetNames: ['temp', 'hum'], targets: [s.temp, s.hum], horizon: 2 } });
      const r = train(ds, { ...opts, cell, layers: 2, epochs: 2 });
      const net = createNetwork(r.model, 1);
      const session = createSession(r.model, { kernels: 'js' });
      const fast = createSession(r.model);
      const raw = (dev: string) => s.devices.flatMap((d, row) => (d === dev ? [[s.temp[row], s.hum[row]]] : []));
      ds.series.forEach((ser) => {
        const trainer = seriesOutputs(net, ds, ser, new Float32Array(ser.n * 2));
        const state = session.createState(), fastState = fast.createState();
        const served = new Float32Array(ser.n * 2), servedFast = new Float32Array(ser.n * 2);
        raw(ser.device).forEach((x, t) => {
          served.set(session.step(state, x.map(Math.fround)), t * 2);
          servedFast.set(fast.step(fastState, x.map(Math.fround)), t * 2);
        });
        expect(served).toEqual(trainer);
        servedFast.forEach((v, i) => expect(Math.abs(v - trainer[i])).toBeLessThan(1e-4 * (1 + Math.abs(trainer[i]))));
      });
      // And through `predict`'s stepping (Float32 readings from a CSV), per device.
      expectPredictEqualsTrainer(r.model, s, net, ds);
    });
  }

  it('residual: targets are changes from the same-named input; replay through the runtime equals the trainer; metrics on levels', () => {
    const s = synthetic(120);
    const k = 3;
    // Targets hum, temp: the other order than the inputs (temp, hum), so the input index matters.
    const ds = buildDataset({ ...s.input, target: { task: 'regression', targetNames: ['hum', 'temp'], targets: [s.hum, s.temp], horizon: k, residual: true } });
    expect(Array.from(ds.residualInputs!)).toEqual([1, 0]);
    // Independent: the change over k steps of each device's rows, statistics over the steps
    // whose target is still in the training part (t + k < 90 of 120 rows per device).
    const rowsOf = (dev: string) => s.devices.flatMap((d, row) => (d === dev ? [row] : []));
    const changes = (col: number[]) => ['a', 'b'].flatMap((dev) => {
      const rows = rowsOf(dev);
      return rows.slice(0, 90 - k).map((r, t) => col[rows[t + k]] - Math.fround(col[r]));
    });
    for (const [o, col] of [[0, s.hum], [1, s.temp]] as const) {
      const d = changes(col);
      const mean = d.reduce((a, b) => a + b, 0) / d.length;
      const std = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / d.length);
      expect(ds.targetMean![o]).toBe(Math.fround(mean));
      expect(ds.targetStd![o]).toBe(Math.fround(std));
      const b = ds.series[1], rows = rowsOf('b');
      expect(b.y[10 * 2 + o]).toBe(Math.fround((col[rows[10 + k]] - Math.fround(col[rows[10]]) - ds.targetMean![o]) / ds.targetStd![o]));
    }
    const r = train(ds, { ...opts, cell: 'rnn', rnnActivation: 'relu', layers: 2, epochs: 3 });
    expect(r.model.outputs).toMatchObject({ names: ['hum', 'temp'], horizon: k, residual: true });
    const net = createNetwork(r.model, 1);
    const session = createSession(r.model, { kernels: 'js' });
    const fast = createSession(r.model, { kernels: 'wasm' });
    let se = [0, 0], steps = 0;
    ds.series.forEach((ser) => {
      const trainer = seriesOutputs(net, ds, ser, new Float32Array(ser.n * 2));
      const state = session.createState(), fastState = fast.createState();
      const rows = rowsOf(ser.device);
      rows.forEach((row, t) => {
        const x = [Math.fround(s.temp[row]), Math.fround(s.hum[row])];
        const y = Array.from(session.step(state, x));
        expect(y).toEqual(Array.from(trainer.subarray(t * 2, t * 2 + 2)));
        fast.step(fastState, x).forEach((v, o) => expect(Math.abs(v - y[o])).toBeLessThan(1e-4 * (1 + Math.abs(y[o]))));
        if (t >= ser.trainEnd && t + k < ser.n) {
          steps++;
          se = se.map((e, o) => e + (y[o] - [s.hum, s.temp][o][rows[t + k]]) ** 2);
        }
      });
    });
    // The card's RMSE is of the levels the runtime outputs against the true future levels.
    const m = r.metrics;
    if (m.task !== 'regression') throw new Error('expected regression metrics');
    expect(m.steps).toBe(steps);
    m.targets.forEach((t, o) => expect(t.rmse).toBeCloseTo(Math.sqrt(se[o] / steps), 10));
    // And through `predict`'s stepping, per device.
    expectPredictEqualsTrainer(r.model, s, net, ds);
  });

  it('residual: refused when a target is not an input', () => {
    const s = synthetic(60);
    expect(() => buildDataset({ ...s.input, inputNames: ['temp'], inputs: [s.temp], target: { task: 'regression', targetNames: ['temp', 'hum'], targets: [s.temp, s.hum], horizon: 2, residual: true } }))
      .toThrow(/--residual: target "hum" is not an input/);
  });

  it('classification: class weights, softmax head, labels; replay equals the trainer', () => {
    const s = synthetic();
    const ds = buildDataset({ ...s.input, target: { task: 'classification', labelName: 'peak', labels: s.label } });
    expect(ds.labels).toEqual(['0', '1']);
    const r = train(ds, { ...opts, cell: 'gru', epochs: 8 });
    const n0 = ds.classCounts![0], n1 = ds.classCounts![1];
    expect(r.classWeights![0]).toBeCloseTo((n0 + n1) / (2 * n0), 12);
    expect(r.classWeights![1]).toBeCloseTo((n0 + n1) / (2 * n1), 12);
    expect(r.model.outputs).toEqual({ names: ['peak'], labels: ['0', '1'] });
    expect(r.model.layers[r.model.layers.length - 1]).toMatchObject({ type: 'dense', activation: 'softmax', outputSize: 2 });
    expect(r.history[r.history.length - 1].trainLoss).toBeLessThan(r.history[1].trainLoss);
    const m = r.metrics;
    if (m.task !== 'classification') throw new Error('expected classification metrics');
    expect(m.confusion.flat().reduce((a, b) => a + b, 0)).toBe(ds.valSteps);
    const session = createSession(r.model, { kernels: 'js' });
    const net = createNetwork(r.model, 1);
    const ser = ds.series[0];
    const trainer = seriesOutputs(net, ds, ser, new Float32Array(ser.n * 2));
    const state = session.createState();
    for (let t = 0; t < ser.n; t++) {
      const row = 2 * t; // device a's rows are the even ones
      expect(Array.from(session.step(state, [Math.fround(s.temp[row]), Math.fround(s.hum[row])]))).toEqual(Array.from(trainer.subarray(2 * t, 2 * t + 2)));
    }
  });
});

describe('validation metrics', () => {
  it('regression: RMSE/MAE and the persistence baseline against hand-computed values', () => {
    const v = [1, 2, 4, 7, 11, 16]; // one device, horizon 1, last 2 rows validation
    const ds2 = buildDataset({ inputNames: ['v'], inputs: [v], valFraction: 0.5, seqLen: 1, target: { task: 'regression', targetNames: ['v'], targets: [v], horizon: 1 } });
    expect(ds2.series[0].trainEnd).toBe(3); // val steps t = 3, 4 (targets 11, 16)
    const pred = Float32Array.from([0, 0, 0, 10, 17, 0]);
    const m = validationMetrics(ds2, () => pred);
    if (m.task !== 'regression') throw new Error('expected regression');
    expect(m.steps).toBe(2);
    expect(m.targets[0].rmse).toBeCloseTo(Math.sqrt((1 + 1) / 2), 12); // |10-11|, |17-16|
    expect(m.targets[0].mae).toBeCloseTo(1, 12);
    expect(m.targets[0].persistenceRmse).toBeCloseTo(Math.sqrt((16 + 25) / 2), 12); // 7->11, 11->16
    expect(m.targets[0].persistenceMae).toBeCloseTo(4.5, 12);
    expect(m.targets[0].rmseImprovement).toBeCloseTo(1 - 1 / Math.sqrt(20.5), 12);
  });

  it('classification: confusion matrix, precision, recall, F1 against hand-computed values', () => {
    const labels = ['0', '0', '0', '0', '1', '0', '1', '1', '0', '0'];
    const ds = buildDataset({ inputNames: ['v'], inputs: [labels.map((_, i) => i)], valFraction: 0.6, seqLen: 2, target: { task: 'classification', labelName: 'l', labels } });
    // Validation: rows 4..9, true 1 0 1 1 0 0; predicted (argmax) 1 1 0 1 0 0.
    const predicted = [0, 0, 0, 0, 1, 1, 0, 1, 0, 0];
    const p = Float32Array.from(predicted.flatMap((c) => (c ? [0.2, 0.8] : [0.9, 0.1])));
    const m = validationMetrics(ds, () => p);
    if (m.task !== 'classification') throw new Error('expected classification');
    expect(m.confusion).toEqual([[2, 1], [1, 2]]);
    expect(m.accuracy).toBeCloseTo(4 / 6, 12);
    expect(m.classes[1]).toMatchObject({ support: 3 });
    expect(m.classes[1].precision).toBeCloseTo(2 / 3, 12);
    expect(m.classes[1].recall).toBeCloseTo(2 / 3, 12);
    expect(m.classes[1].f1).toBeCloseTo(2 / 3, 12);
  });
});
