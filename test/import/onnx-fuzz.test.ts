// Corrupt ONNX files: every truncation and thousands of byte flips of real exports give a
// model or an OnnxImportError / ModelFormatError with one line, nothing else (no TypeError
// from a field the damage removed, no hang).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { importOnnx, OnnxImportError } from '../../src/import/index.js';
import { ModelFormatError } from '../../src/model/errors.js';
import { seededRandom } from '../../src/model/index.js';
import { loadOnnxFixtures, ONNX_DIR, importOptions } from './onnx-fixture.js';

function outcome(bytes: Uint8Array, opts: Parameters<typeof importOnnx>[1]): string {
  try {
    importOnnx(bytes, opts);
    return 'ok';
  } catch (e) {
    if (e instanceof OnnxImportError || e instanceof ModelFormatError) {
      expect(e.message.split('\n')).toHaveLength(1);
      return e.name;
    }
    throw new Error(`not a clean refusal: ${(e as Error).stack}`);
  }
}

it('every truncation and 3000 byte flips of each export are imported or refused cleanly', () => {
  const rand = seededRandom(16);
  const seen = new Map<string, number>();
  for (const fx of loadOnnxFixtures().slice(0, 4)) {
    const good = new Uint8Array(readFileSync(join(ONNX_DIR, `${fx.name}.onnx`)));
    const opts = importOptions(fx);
    expect(outcome(good, opts)).toBe('ok');
    for (let cut = 0; cut < good.length; cut++) {
      const r = outcome(good.subarray(0, cut), opts);
      seen.set(r, (seen.get(r) ?? 0) + 1);
    }
    for (let k = 0; k < 750; k++) {
      const bad = good.slice();
      const flips = 1 + Math.floor(rand() * 3);
      for (let f = 0; f < flips; f++) bad[Math.floor(rand() * bad.length)] ^= 1 << Math.floor(rand() * 8);
      const r = outcome(bad, opts);
      seen.set(r, (seen.get(r) ?? 0) + 1);
    }
  }
  expect(seen.get('OnnxImportError') ?? 0).toBeGreaterThan(100); // the damage is seen, not ignored
}, 60_000); // a few seconds alone; the full suite on a loaded 2-core machine takes longer
