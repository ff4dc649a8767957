// `edge-rnn import --window` against PyTorch (issue 19): torch.onnx.export graphs of
// nn.LSTM / nn.GRU(bidirectional=True), 1 and 2 layers, reduced by out.mean over the steps
// (and a forward-only stack reduced to its last step), with PyTorch's output for every
// window of a 120-reading stream, each from the zero state
// (scripts/python/make-onnx-fixtures.py, test/fixtures/onnx/window/). Imported, encoded,
// decoded and fed reading by reading through the windowed session on both kernel paths,
// every window's result matches PyTorch to 1e-5. What the runtime cannot run is refused.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importOnnx, OnnxImportError, type ImportOptions } from '../../src/import/index.js';
import { decodeModel, encodeModel } from '../../src/model/index.js';
import { isWindowSession } from '../../src/runtime/session-window.js';
import { createSession } from '../../src/runtime/session.js';
import { ONNX_DIR } from './onnx-fixture.js';

const TOLERANCE = 1e-5;
const DIR = join(ONNX_DIR, 'window');

interface WindowFixture {
  readonly name: string;
  readonly torch: string;
  readonly cell: 'lstm' | 'gru';
  readonly numLayers: number;
  readonly bidirectional: boolean;
  readonly pool: 'mean' | 'last';
  readonly window: number;
  readonly hop: number;
  readonly task: 'regression' | 'classification';
  readonly inputNames: string[];
  readonly outputNames: string[];
  readonly labels?: string[];
  readonly inputs: number[][];
  readonly ends: number[];
  readonly expected: number[][];
}

const fixtures: WindowFixture[] = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()
  .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')));

/** Import options of a fixture; window null: none given. */
const options = (fx: WindowFixture, window: ImportOptions['window'] | null = { size: fx.window, hop: fx.hop }): ImportOptions => ({
  name: fx.name, inputs: fx.inputNames, ...(fx.task === 'classification' ? { labels: fx.labels } : { outputs: fx.outputNames }),
  ...(window ? { window } : {}), source: { file: `${fx.name}.onnx`, sha256: '0'.repeat(64) },
});
const bytes = (name: string, dir = DIR) => readFileSync(join(dir, `${name}.onnx`));

it('has the fixtures: bidirectional LSTM and GRU, 1 and 2 layers (regenerate with /usr/bin/python3 scripts/python/make-onnx-fixtures.py)', () => {
  const kinds = new Set(fixtures.filter((f) => f.bidirectional).map((f) => `${f.cell}/${f.numLayers}`));
  for (const k of ['lstm/1', 'lstm/2', 'gru/1', 'gru/2']) expect(kinds).toContain(k);
  expect(fixtures.some((f) => !f.bidirectional && f.pool === 'last')).toBe(true);
});

describe.each(fixtures.flatMap((fx) => (['js', 'wasm'] as const).map((k) => [fx.name, k, fx] as const)))('%s on %s kernels', (_n, kernels, fx) => {
  it(`imports as a windowed model and matches torch ${fx.torch} within ${TOLERANCE} at every window`, () => {
    const { model, facts } = importOnnx(bytes(fx.name), options(fx));
    const m = decodeModel(encodeModel(model));
    expect(m.window).toEqual({ size: fx.window, hop: fx.hop });
    expect(m.outputs.from).toBe(fx.pool);
    expect(facts.from).toBe(fx.pool);
    const rec = m.layers.filter((l) => l.type !== 'dense');
    expect(rec.length).toBe(fx.numLayers);
    for (const l of rec) expect('direction' in l ? l.direction : undefined).toBe(fx.bidirectional ? 'bidirectional' : undefined);
    const session = createSession(m, { kernels });
    if (!isWindowSession(session)) throw new Error('expected a windowed session');
    const state = session.createState();
    const y = new Float32Array(session.outputSize);
    const ends: number[] = [];
    let worst = 0;
    fx.inputs.forEach((x, t) => {
      if (!session.window.push(state, x, t, y)) return;
      const want = fx.expected[ends.length];
      ends.push(t);
      expect(y.length).toBe(want.length);
      for (let o = 0; o < y.length; o++) worst = Math.max(worst, Math.abs(y[o] - want[o]));
    });
    expect(ends).toEqual(fx.ends);
    expect(worst).toBeLessThanOrEqual(TOLERANCE);
  });
});

it('the reverse weights matter: dropping a bidirectional layer\'s reverse bias moves the outputs far beyond the tolerance', () => {
  const fx = fixtures.find((f) => f.bidirectional && f.cell === 'gru')!;
  const { model } = importOnnx(bytes(fx.name), options(fx));
  const l = model.layers[0];
  if (l.type === 'dense' || !l.reverse) throw new Error('expected a bidirectional first layer');
  l.reverse.bIh.data.fill(0);
  const session = createSession(model, { kernels: 'js' });
  if (!isWindowSession(session)) throw new Error('expected a windowed session');
  const state = session.createState();
  const y = new Float32Array(session.outputSize);
  let worst = 0, k = 0;
  fx.inputs.forEach((x, t) => {
    if (session.window.push(state, x, t, y)) worst = Math.max(worst, ...Array.from(y, (v, o) => Math.abs(v - fx.expected[k][o]))), k++;
  });
  expect(worst).toBeGreaterThan(100 * TOLERANCE);
});

describe('what the runtime cannot run is refused, naming why', () => {
  const refusal = (b: Uint8Array, o: ImportOptions): OnnxImportError => {
    try {
      importOnnx(b, o);
    } catch (e) {
      if (e instanceof OnnxImportError) return e;
      throw e;
    }
    throw new Error('imported');
  };
  const fx = fixtures.find((f) => f.bidirectional && f.pool === 'mean')!;
  it('a bidirectional graph without --window', () => {
    const e = refusal(bytes(fx.name), options(fx, null));
    expect(e.where).toBe('--window');
    expect(e.reason).toMatch(/layers\[0\] is bidirectional: the runtime reads it over a window of readings/);
    expect(e.message.split('\n')).toHaveLength(1);
  });
  it('the last step of a bidirectional layer, with --window', () => {
    const e = refusal(bytes('bidirectional-last-step', join(ONNX_DIR, 'refused')), { ...options(fx, { size: 8, hop: 1 }), labels: undefined, outputs: ['y0'] });
    expect(e.where).toBe('--window');
    expect(e.reason).toMatch(/last step of bidirectional layers\[0\] \(out\[:, -1\]\), whose reverse half has read one reading only/);
  });
  it('a per-step graph with --window', () => {
    const e = refusal(readFileSync(join(ONNX_DIR, 'lstm-l1-h1.onnx')), { name: 'm', inputs: ['a', 'b'], outputs: ['y0'], window: { size: 4, hop: 1 }, source: { file: 'x', sha256: '' } });
    expect(e.reason).toMatch(/the graph predicts at every step: a windowed model reduces its window to one result/);
  });
});

describe('edge-rnn import --window', () => {
  it('writes the windowed model and says so in the card; --hop without --window is refused', async () => {
    const { main } = await import('../../src/cli/main.js');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'edge-rnn-import-window-'));
    const fx = fixtures.find((f) => f.name === 'gru-bi-l2-h2-mean')!;
    const out = join(dir, 'm.msgpack');
    const quiet = { write: process.stdout.write, err: process.stderr.write };
    let stderr = '';
    process.stdout.write = (() => true) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => ((stderr += s), true)) as typeof process.stderr.write;
    try {
      expect(await main(['import', join(DIR, `${fx.name}.onnx`), '--inputs', 'a,b', '--outputs', 'y0,y1', '--window', String(fx.window), '--hop', String(fx.hop), '-o', out])).toBe(0);
      expect(await main(['import', join(DIR, `${fx.name}.onnx`), '--inputs', 'a,b', '--outputs', 'y0,y1', '--hop', '2', '-o', join(dir, 'n.msgpack')])).toBe(2);
    } finally {
      process.stdout.write = quiet.write;
      process.stderr.write = quiet.err;
    }
    expect(stderr).toMatch(/--hop needs --window/);
    expect(decodeModel(readFileSync(out)).window).toEqual({ size: fx.window, hop: fx.hop });
    expect(readFileSync(join(dir, 'm.card.md'), 'utf8')).toMatch(/windowed: the graph reads a sequence and reduces it \(the mean over its steps\); edge-rnn runs it over the last 6 readings/);
  });
});
