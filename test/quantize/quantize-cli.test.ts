// `edge-rnn quantize` end to end on the shipped example model and sample readings: the file
// it writes, the report it prints and stores, and the report's output differences checked
// against `edge-rnn predict` run separately on the float32 and int8 files.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/model/index.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/edge-rnn.mjs');
const MODEL = join(ROOT, 'models/example-lstm.msgpack');
const DATA = join(ROOT, 'models/sample-readings.csv');
const run = promisify(execFile);

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { cwd: ROOT, maxBuffer: 1 << 26 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

function predictions(stdout: string): number[][] {
  return stdout.trim().split('\n').map((l) => JSON.parse(l).y as number[]);
}

describe('edge-rnn quantize', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-rnn-quantize-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the int8 model with its report and matches predict on both files', async () => {
    const out = join(dir, 'example.int8.msgpack');
    const r = await cli(['quantize', MODEL, '--out', out, '--data', DATA, '--device-column', 'mote_id', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);

    const bytes = readFileSync(out);
    const model = decodeModel(bytes);
    const source = decodeModel(readFileSync(MODEL));
    expect(model.layers.map((l) => (l.type === 'dense' ? l.w.dtype : `${l.wIh.dtype}/${l.wHh.dtype}`))).toEqual(['i8/i8', 'i8']);
    expect(model.meta!.description).toBe(source.meta!.description); // source meta kept
    const stored = model.meta!.quantization as Record<string, any>;
    expect(stored.int8FileBytes).toBe(bytes.length);
    expect(stored.floatFileBytes).toBe(statSync(MODEL).size);
    expect(report.sizes.int8FileBytes).toBe(bytes.length);
    expect(report.comparison.rows).toBe(240);
    expect(report.comparison.streams).toBe(2);
    expect(report.metric.kind).toBe('regression');
    expect(report.checks.map((c: { name: string }) => c.name)).toEqual(['RMSE temperature', 'MAE temperature', 'RMSE humidity', 'MAE humidity']);

    // The report's differences, recomputed from predict's output on the two files.
    const [pf, pq] = await Promise.all([
      cli(['predict', '--model', MODEL, '--data', DATA, '--device-column', 'mote_id', '--json']),
      cli(['predict', '--model', out, '--data', DATA, '--device-column', 'mote_id', '--json']),
    ]);
    const yf = predictions(pf.stdout), yq = predictions(pq.stdout);
    expect(yf.length).toBe(240);
    let max = 0, sum = 0;
    yf.forEach((y, r) => y.forEach((v, o) => {
      const d = Math.abs(v - yq[r][o]);
      max = Math.max(max, d);
      sum += d;
    }));
    expect(max).toBeGreaterThan(0);
    // predict prints float32 values at 9 significant digits: agreement to ~1e-6 relative.
    expect(Math.abs(report.comparison.maxAbsDiff - max)).toBeLessThan(1e-4 * Math.max(1, max));
    expect(Math.abs(report.comparison.meanAbsDiff - sum / (240 * 2))).toBeLessThan(1e-4);
  }, 60_000);

  it('prints a readable report with the verdict', async () => {
    const out = join(dir, 'plain.int8.msgpack');
    const r = await cli(['quantize', MODEL, '--out', out, '--data', DATA, '--device-column', 'mote_id']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/file: +\d+ -> \d+ bytes/);
    expect(r.stdout).toMatch(/max \|diff\|/);
    expect(r.stdout).toMatch(/RMSE temperature/);
    expect(r.stdout).toMatch(/of float32 \(target ≤ 30\.0%\): (met|NOT met)/);
  }, 60_000);

  it('refuses bad arguments with a message and a non-zero exit code', async () => {
    const [noOut, badLayer, missing] = await Promise.all([
      cli(['quantize', MODEL]),
      cli(['quantize', MODEL, '--out', join(dir, 'x.msgpack'), '--layers', '7']),
      cli(['quantize', join(dir, 'nope.msgpack'), '--out', join(dir, 'y.msgpack')]),
    ]);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/--out/);
    expect(badLayer.code).toBe(2);
    expect(badLayer.stderr).toMatch(/no layer 7/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such file/);
  }, 60_000);
});
