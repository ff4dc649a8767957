// The import direction from DESIGN.md, enforced: kernels < model < runtime < protocol < train <
// eval < stream < io < cli, firmware-sim on src/protocol only, and no I/O or clock in the compute core.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkFile, clockReads, importSpecifiers, unitOf, type Violation } from './import-rules.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function tsFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return []; // a folder that does not exist yet
  }
  return entries.flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : tsFiles(p);
    return /\.(ts|mts|cts)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

const show = (v: Violation[]): string[] => v.map((x) => `${x.file}: ${x.what} — ${x.rule}`);

describe('import direction across the tree', () => {
  const files = [...tsFiles(join(root, 'src')), ...tsFiles(join(root, 'firmware-sim'))];

  it('finds the source files (so an empty scan cannot pass)', () => {
    const units = new Set(files.map((f) => unitOf(relative(root, f).split(sep).join('/'))));
    for (const layer of ['kernels', 'model', 'runtime', 'eval']) expect(units).toContain(layer);
    expect(files.length).toBeGreaterThan(10);
  });

  it('every file under src/ and firmware-sim/ follows the layer rule', () => {
    const violations = files.flatMap((f) => checkFile(relative(root, f).split(sep).join('/'), readFileSync(f, 'utf8')));
    expect(show(violations)).toEqual([]);
  });
});

describe('the scanner itself', () => {
  it('finds static, type-only, side-effect, re-export and dynamic imports, but not comments or strings', () => {
    const src = [
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "import './side.js';",
      "export * from './c.js';",
      'export { d } from "./d.js";',
      "const m = await import('./dyn.js');",
      "// import z from './comment.js';",
      "const s = \"import y from './string.js'\";",
      "/* export * from './block.js' */",
    ].join('\n');
    expect(importSpecifiers(src)).toEqual(['./a.js', '../b.js', './side.js', './c.js', './d.js', './dyn.js']);
  });

  it('places paths in their layer', () => {
    expect(unitOf('src/model/wire.ts')).toBe('model');
    expect(unitOf('src/cli/commands/predict.ts')).toBe('cli');
    expect(unitOf('src/eval/compare.ts')).toBe('eval');
    expect(unitOf('firmware-sim/replay.ts')).toBe('firmware-sim');
    expect(unitOf('src/utils/x.ts')).toBe('src/utils');
    expect(unitOf('src/index.ts')).toBe('src/index.ts');
    expect(unitOf('test/model/x.ts')).toBeNull();
  });

  const rulesBroken = (file: string, src: string): string[] => checkFile(file, src).map((v) => v.what);

  it('allows imports from the same or a lower layer', () => {
    expect(rulesBroken('src/model/types.ts', "import type { Activation } from '../kernels/activations.js';")).toEqual([]);
    expect(rulesBroken('src/cli/commands/run.ts', "import { x } from '../../io/mqtt-source.js';\nimport { y } from '../../kernels/matvec.js';")).toEqual([]);
    expect(rulesBroken('src/train/bptt.ts', "import { a } from '../runtime/index.js'; import { b } from '../protocol/reading.js';")).toEqual([]);
    expect(rulesBroken('src/io/files.ts', "import { readFile } from 'node:fs/promises'; import mqtt from 'mqtt';")).toEqual([]);
    expect(rulesBroken('src/kernels/cells.ts', "import { sigmoid } from './activations.js'; import x from 'some-npm-math';")).toEqual([]);
  });

  it('fails an import of a higher layer, naming the file and the import', () => {
    const v = checkFile('src/model/wire.ts', "import { createSession } from '../runtime/session.js';");
    expect(v).toEqual([{ file: 'src/model/wire.ts', what: '../runtime/session.js', rule: expect.stringMatching(/src\/model may not import src\/runtime/) }]);
    expect(rulesBroken('src/runtime/x.ts', "export * from '../stream/index.js';")).toEqual(['../stream/index.js']);
    expect(rulesBroken('src/io/x.ts', "const m = await import('../cli/main.js');")).toEqual(['../cli/main.js']);
    expect(rulesBroken('src/protocol/x.ts', "import type { Cfg } from '../train/config.js';")).toEqual(['../train/config.js']);
    expect(rulesBroken('src/stream/deep/x.ts', "import { z } from '../../io/x.js';")).toEqual(['../../io/x.js']);
  });

  it('places eval after train: it may judge with the trainer\'s metrics; the serving path and the trainer never import it', () => {
    expect(rulesBroken('src/eval/x.ts', "import { a } from '../runtime/session.js'; import { b } from '../train/metrics.js'; import { c } from '../model/quantize.js';")).toEqual([]);
    expect(rulesBroken('src/cli/commands/quantize.ts', "import { q } from '../../eval/quantization-report.js';")).toEqual([]);
    for (const from of ['src/runtime/x.ts', 'src/train/x.ts', 'src/model/x.ts', 'src/protocol/x.ts']) {
      expect(rulesBroken(from, "import { compareModels } from '../eval/compare.js';"), from).toEqual(['../eval/compare.js']);
    }
    expect(rulesBroken('src/eval/x.ts', "import { s } from '../stream/index.js';")).toEqual(['../stream/index.js']);
  });

  it('kernels import nothing of ours', () => {
    const v = checkFile('src/kernels/matvec.ts', "import type { Model } from '../model/types.js';");
    expect(v.map((x) => x.rule)).toEqual(['src/kernels imports nothing of ours']);
  });

  it('firmware-sim imports only src/protocol; only the CLI imports firmware-sim', () => {
    expect(rulesBroken('firmware-sim/node.ts', "import { encodeReading } from '../src/protocol/reading.js'; import { n } from './noise.js'; import mqtt from 'mqtt';")).toEqual([]);
    expect(rulesBroken('firmware-sim/node.ts', "import { decodeModel } from '../src/model/index.js';")).toEqual(['../src/model/index.js']);
    expect(rulesBroken('firmware-sim/sub/node.ts', "import { x } from '../../src/io/csv.js';")).toEqual(['../../src/io/csv.js']);
    expect(rulesBroken('src/cli/commands/sim.ts', "import { startSim } from '../../../firmware-sim/index.js';")).toEqual([]);
    expect(rulesBroken('src/stream/x.ts', "import { startSim } from '../../firmware-sim/index.js';")).toEqual(['../../firmware-sim/index.js']);
  });

  it('lets the package entry src/index.ts re-export the library layers only; nothing imports it', () => {
    expect(rulesBroken('src/index.ts', "export * from './model/index.js';\nexport { createSession } from './runtime/session.js';\nexport * from './stream/index.js';")).toEqual([]);
    expect(rulesBroken('src/index.ts', "export * from './io/mqtt-runtime.js';")).toEqual(['./io/mqtt-runtime.js']);
    expect(rulesBroken('src/index.ts', "export { main } from './cli/main.js';")).toEqual(['./cli/main.js']);
    expect(rulesBroken('src/index.ts', "export { train } from './train/index.js';")).toEqual(['./train/index.js']);
    expect(rulesBroken('src/index.ts', "export { Packr } from 'msgpackr';")).toEqual(['msgpackr']);
    expect(rulesBroken('src/stream/x.ts', "import { createSession } from '../index.js';")).toEqual(['../index.js']);
  });

  it('fails folders under src/ that are not layers', () => {
    expect(rulesBroken('src/utils/x.ts', '')).toEqual(['src/utils/x.ts']);
    expect(rulesBroken('src/model/x.ts', "import { u } from '../utils/x.js';")).toEqual(['../utils/x.js']);
  });

  it('the compute core does no I/O', () => {
    for (const layer of ['kernels', 'model', 'runtime', 'train', 'eval']) {
      for (const spec of ['node:fs', 'fs', 'fs/promises', 'node:fs/promises', 'node:net', 'node:http', 'https', 'node:child_process', 'mqtt', 'mqtt/lib/client.js']) {
        expect(rulesBroken(`src/${layer}/x.ts`, `import * as m from '${spec}';`), `${layer} ${spec}`).toEqual([spec]);
      }
    }
    expect(rulesBroken('src/model/x.ts', "const fs = await import('node:fs');")).toEqual(['node:fs']);
    expect(rulesBroken('src/model/x.ts', "import { posix } from 'node:path'; import { Packr } from 'msgpackr'; import { x } from 'fsevents-like';")).toEqual([]);
    expect(rulesBroken('src/stream/x.ts', "import mqtt from 'mqtt';")).toEqual([]); // stream is outside the core
  });

  it('the compute core does not read the clock (code, not comments or strings)', () => {
    expect(clockReads('const t = Date.now(); const u = performance.now(); const v = globalThis.performance.now(); const w = Date["now"]();'))
      .toEqual(['Date.now', 'performance.now', 'globalThis.performance.now', 'Date["now"]']);
    expect(clockReads("// Date.now() is not called here\nconst s = 'performance.now()'; const n = model.now; const d = new Date(ts);")).toEqual([]);
    expect(rulesBroken('src/train/loop.ts', 'const started = Date.now();')).toEqual(['Date.now']);
    expect(rulesBroken('src/runtime/x.ts', 'const t0 = performance.now();')).toEqual(['performance.now']);
    expect(rulesBroken('src/eval/x.ts', 'const t0 = performance.now();')).toEqual(['performance.now']);
    expect(rulesBroken('src/io/clock.ts', 'export const now = () => Date.now();')).toEqual([]);
  });
});
