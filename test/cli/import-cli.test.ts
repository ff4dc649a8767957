// `edge-rnn import` then `edge-rnn predict`, as a user runs them: a real torch.onnx.export
// graph, a normalisation side file, raw readings in a CSV; the printed predictions match
// PyTorch's own outputs from the zero state (where predict starts) to 1e-5. A refused graph
// exits 1 with one line and writes nothing.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelFile } from '../../src/io/model-file.js';
import { loadOnnxFixtures, onnxPath, ONNX_DIR } from '../import/onnx-fixture.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/edge-rnn.mjs');
const run = async (...args: string[]) => {
  try {
    const r = await promisify(execFile)(process.execPath, [CLI, ...args], { cwd: ROOT });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
};

const tmp = mkdtempSync(join(tmpdir(), 'edge-rnn-import-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('import -> predict', () => {
  const fx = loadOnnxFixtures().find((f) => f.name === 'lstm-l2-h6-tanh-head')!;
  // Powers of two for std, so raw = x·std + mean and back are (near) exact in float32.
  const norm = { inputs: { mean: [0.25, -0.5, 1], std: [2, 0.5, 4] }, outputs: { mean: [1.5, -2], std: [2, 0.25] } };

  it('predicts what PyTorch computed, through the normalisation side file, over every row', async () => {
    writeFileSync(join(tmp, 'stats.json'), JSON.stringify(norm));
    const lines = [fx.inputNames.join(',')];
    for (const x of fx.inputs) lines.push(x.map((v, i) => String(v * norm.inputs.std[i] + norm.inputs.mean[i])).join(','));
    writeFileSync(join(tmp, 'readings.csv'), lines.join('\n') + '\n');
    const out = join(tmp, 'm.msgpack');
    const imp = await run('import', onnxPath(fx), '--inputs', fx.inputNames.join(','), '--outputs', 'level,rate', '--norm', join(tmp, 'stats.json'), '--name', 'from-torch', '--out', out);
    expect(imp.stderr).toBe('');
    expect(imp.code).toBe(0);
    const card = JSON.parse(readFileSync(join(tmp, 'm.card.json'), 'utf8'));
    expect(card.normalisation).toBe('from --norm stats.json');
    expect(card.importedFrom.producer).toMatch(/^pytorch 1\.13/); // the exporter, from the ONNX file itself
    expect(readFileSync(join(tmp, 'm.card.md'), 'utf8')).toContain('Not part of an ONNX graph. Here: from --norm stats.json.');
    const { model } = readModelFile(out);
    expect(model.outputs.names).toEqual(['level', 'rate']);
    expect(Array.from(model.inputs.std.data)).toEqual(norm.inputs.std);

    const pred = await run('predict', '--model', out, '--data', join(tmp, 'readings.csv'), '--json');
    expect(pred.code, pred.stderr).toBe(0);
    const rows = pred.stdout.trim().split('\n').map((l) => JSON.parse(l) as { row: number; y: number[] });
    expect(rows).toHaveLength(fx.steps);
    let worst = 0;
    rows.forEach((r, t) => r.y.forEach((y, o) => {
      const want = fx.expectedFromZero[t][o] * norm.outputs.std[o] + norm.outputs.mean[o];
      worst = Math.max(worst, Math.abs(y - want) / norm.outputs.std[o]); // in the network's own units
    }));
    expect(worst).toBeLessThanOrEqual(1e-5);
  }, 30_000);

  it('refuses a graph it cannot run: exit 1, one line naming why, no file', async () => {
    // A bidirectional layer runs only in a windowed model (issue 19): refused without --window.
    const out = join(tmp, 'bidir.msgpack');
    const r = await run('import', join(ONNX_DIR, 'refused', 'bidirectional.onnx'), '--inputs', 'a,b', '--outputs', 'y', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^edge-rnn: cannot import .*bidirectional\.onnx: --window: layers\[0\] is bidirectional: the runtime reads it over a window of readings/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(tmp, 'bidir.card.md'))).toBe(false);
  }, 30_000);

  it('refuses a malformed side file and mixed normalisation sources as usage errors', async () => {
    writeFileSync(join(tmp, 'bad.json'), JSON.stringify({ inputs: { mean: [0, 0, 0] } }));
    const a = await run('import', onnxPath(fx), '--inputs', 'a,b,c', '--outputs', 'y,z', '--norm', join(tmp, 'bad.json'), '--out', join(tmp, 'x.msgpack'));
    expect(a.code).toBe(1);
    expect(a.stderr).toContain('bad.json: inputs.std is missing');
    const b = await run('import', onnxPath(fx), '--inputs', 'a,b,c', '--outputs', 'y,z', '--norm', join(tmp, 'bad.json'), '--input-mean', '0,0,0', '--out', join(tmp, 'x.msgpack'));
    expect(b.code).toBe(2);
    expect(existsSync(join(tmp, 'x.msgpack'))).toBe(false);
  }, 30_000);

  it('--help names every flag', async () => {
    const h = await run('import', '--help');
    for (const f of ['--inputs', '--outputs', '--task', '--labels', '--name', '--norm', '--input-mean', '--output-std', '--out']) expect(h.stdout).toContain(f);
  }, 30_000);
});
