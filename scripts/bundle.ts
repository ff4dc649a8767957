// npm run bundle — the deployable artefact: one ESM file, dist/edge-rnn.mjs, with every
// runtime dependency inside, for Node >= 18 (Raspberry Pi OS / Debian bookworm ship 18).
// No native addon is loaded at run time, and test/build tooling can never slip in: the
// build fails if it does. Prints the size and what takes it (from esbuild's metafile).
import { build, type Metafile, type Plugin } from 'esbuild';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { BUNDLE_DATA_DIR, SHIPPED_FILES, type ShippedFile } from '../src/io/shipped-files.js';
import { pageFileSources } from '../src/io/observe/page-files.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_OUTFILE = join(ROOT, 'dist', 'edge-rnn.mjs');
export const DEFAULT_DEVICE_OUTFILE = join(ROOT, 'dist', 'edge-rnn-device.mjs');

/**
 * Size budget for dist/edge-rnn.mjs (minified, bytes). The build fails above it so that a
 * new dependency is a decision, not an accident. See docs/deploy.md for what takes it.
 */
// 640 KiB until issues 12-14 (sequence rules, input guard, model lifecycle and probation,
// push --wait, shared settings, bounded envelopes, checkpoints) added about 30 KiB of our
// own code; 680 KiB until issue 15 (baselines, linear AR, verdict, validation split, anomaly
// scores, search, AR start) added its train and run code to this every-command bundle. A
// device-only build without train/sim/demo (issue 17) is the way back down. 880 KiB since
// issue 16: `edge-rnn import` brings protobufjs (light build, 66 KiB, with long 11 KiB) and
// src/import (24 KiB, 7 KiB of it the ONNX schema) into this every-command bundle only.
// 944 KiB since issue 18 (observability, in both bundles: `run --http`): 20 KiB of
// src/io/observe and the status page's files, 34 KiB (uPlot and the HTML, gzipped, base64).
// 1 168 KiB since issue 20: `run --cluster` brings the NATS client (nats 2.29, 220.7 KiB
// minified: core, JetStream, KV) and src/io/cluster (~15 KiB); measured 1 149.2 KiB with
// main of 2026-12-03 merged. The device bundle does not carry either (DEVICE_FORBIDDEN).
// 1 296 KiB when issues 17-21 landed together: 1 233 KiB measured with observability (the
// page's files), the windowed trainer and the cluster client in this every-command bundle.
export const SIZE_BUDGET_BYTES = 1296 * 1024;

/**
 * Size budget for dist/edge-rnn-device.mjs, the device bundle (issue 17): run, predict,
 * inspect, keygen, push, status; no train, quantize, sim or demo. Set ~5 % above its measured size:
 * 487.8 KiB when it was split off (push takes 11.3 KiB of it; it shares run's MQTT code).
 * 576 KiB since issue 18: `run --http` (metrics, health, the status page) added 54 KiB,
 * 545.5 KiB measured: 20 KiB of src/io/observe, 34 KiB of page files (uPlot + HTML, gzipped).
 */
export const DEVICE_SIZE_BUDGET_BYTES = 576 * 1024;

/**
 * Optional modules that dependencies `require` inside try/catch and do without: native
 * addons (msgpackr -> msgpackr-extract for faster string decoding; ws -> bufferutil and
 * utf-8-validate) and debug -> supports-color. Each becomes a module that throws
 * MODULE_NOT_FOUND, so the bundle always takes the pure-JS path and never looks into a
 * node_modules folder on the device.
 */
export const OPTIONAL_MODULES = ['msgpackr-extract', 'bufferutil', 'utf-8-validate', 'supports-color'];

/**
 * Features of MQTT.js a device does not use, left out to keep the file small (-70 KiB).
 * Each becomes a stand-in that throws a clear error on first use (never at load): SOCKS
 * proxies (socks, ip-address, smart-buffer) and browser worker timers. MQTT over
 * WebSocket (ws) stays: `run --broker ws://...` is part of the CLI contract.
 */
export const LEFT_OUT: Record<string, string> = {
  socks: 'SOCKS proxies (MQTTJS_SOCKS_PROXY) are not supported by the edge-rnn bundle',
  'worker-timers': 'browser worker timers are not in the edge-rnn bundle',
};

/**
 * Modules replaced by a Node built-in with the same API: readable-stream v4 is a copy of
 * Node 18's streams for browsers, and Node >= 18 has the original.
 */
export const BUILTIN_ALIASES: Record<string, string> = { 'readable-stream': 'node:stream' };

/** Packages that must never be in the bundle (test runner, TS tooling, training-only deps). */
export const FORBIDDEN: string[] = ['vitest', 'vite', 'tsx', 'typescript', 'esbuild', '@tensorflow', 'node-gyp-build', 'node-gyp-build-optional-packages', 'msgpackr-extract', '@msgpackr-extract', ...OPTIONAL_MODULES, ...Object.keys(LEFT_OUT), ...Object.keys(BUILTIN_ALIASES)];

/**
 * What the device bundle must not contain on top of FORBIDDEN: the training, simulator and
 * demo code (our src/train), the ONNX importer (src/import) and the packages only those use
 * (the embedded broker, the live view, the progress bar, protobufjs), and the NATS client of
 * `run --cluster` (issue 20: src/io/cluster is loaded by the full CLI's main.ts only).
 */
export const DEVICE_FORBIDDEN: string[] = [...FORBIDDEN, 'src/train', 'aedes', 'log-update', 'cli-progress', 'src/import', 'protobufjs', 'nats'];

export type Variant = 'full' | 'device';

/**
 * Per bundle: its entry module (src/cli), default output, budget, forbidden owners, and the
 * shipped data files (src/io/shipped-files.ts) copied into edge-rnn-data/ beside it: the
 * full CLI's demo model and the simulator's mote data; a device needs none.
 */
export const VARIANTS: Record<Variant, { main: string; outfile: string; budget: number; forbidden: string[]; data: ShippedFile[] }> = {
  full: { main: './main.js', outfile: DEFAULT_OUTFILE, budget: SIZE_BUDGET_BYTES, forbidden: FORBIDDEN, data: ['demoModel', 'moteData', 'moteDataReadme'] },
  device: { main: './device-main.js', outfile: DEFAULT_DEVICE_OUTFILE, budget: DEVICE_SIZE_BUDGET_BYTES, forbidden: DEVICE_FORBIDDEN, data: [] },
};

// The entry: what bin/edge-rnn.mjs does through tsx in a checkout, without tsx.
const entry = (main: string) => `import { main } from '${main}';
process.exitCode = await main(process.argv.slice(2));
`;

// Top of the file. CJS dependencies bundled into ESM call require() for Node built-ins
// (esbuild emits __require, which needs a real require in scope): give them one.
const BANNER = [
  '#!/usr/bin/env node',
  "import { createRequire as __edgeRnnCreateRequire } from 'node:module';",
  'const require = __edgeRnnCreateRequire(import.meta.url);',
].join('\n');

const escape = (n: string) => n.replace(/[-/.@]/g, '\\$&');
const exactly = (names: string[]) => new RegExp(`^(${names.map(escape).join('|')})$`);

const stubs: Plugin = {
  name: 'stubs',
  setup(b) {
    b.onResolve({ filter: exactly(OPTIONAL_MODULES) }, (args) => ({ path: args.path, namespace: 'optional' }));
    b.onLoad({ filter: /.*/, namespace: 'optional' }, (args) => ({
      contents: `const e = new Error(${JSON.stringify(`Cannot find module '${args.path}' (optional, left out of the edge-rnn bundle)`)}); e.code = 'MODULE_NOT_FOUND'; throw e;`,
      loader: 'js',
    }));
    b.onResolve({ filter: exactly(Object.keys(LEFT_OUT)) }, (args) => ({ path: args.path, namespace: 'left-out' }));
    // A callable, constructible stand-in: any call, `new` or method call throws; `__esModule`
    // reads undefined so TypeScript's __importDefault wraps it like a CommonJS module.
    b.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
      contents: `const fail = () => { throw new Error(${JSON.stringify(`${LEFT_OUT[args.path]}`)}); };
module.exports = new Proxy(function () {}, { get: (_, k) => (typeof k === 'string' && k !== '__esModule' && k !== 'then' ? fail : undefined), apply: fail, construct: fail });`,
      loader: 'js',
    }));
    b.onResolve({ filter: exactly(Object.keys(BUILTIN_ALIASES)) }, (args) => ({ path: args.path, namespace: 'builtin-alias' }));
    b.onLoad({ filter: /.*/, namespace: 'builtin-alias' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(BUILTIN_ALIASES[args.path])});`,
      loader: 'js',
    }));
  },
};

// RxJS's exports map sends the "node" condition to its CommonJS build, which esbuild cannot
// tree-shake. Point rxjs imports at its ES2015 module build instead.
const rxjsEsm: Plugin = {
  name: 'rxjs-esm',
  setup(b) {
    const req = createRequire(join(ROOT, 'package.json'));
    let dist: string | undefined;
    b.onResolve({ filter: /^rxjs(\/.*)?$/ }, (args) => {
      dist ??= join(dirname(req.resolve('rxjs/package.json')), 'dist', 'esm');
      const sub = args.path.slice('rxjs'.length).replace(/^\//, '');
      const path = sub === '' ? join(dist, 'index.js') : sub.startsWith('internal/') ? join(dist, `${sub}.js`) : join(dist, sub, 'index.js');
      return { path };
    });
  },
};

// The status page's files (src/io/observe/page-files.ts: its HTML and uPlot) go inside the
// bundle, gzipped, in place of the module that reads them from disk in a checkout.
const pageFilesEmbedded: Plugin = {
  name: 'page-files',
  setup(b) {
    b.onResolve({ filter: /[/\\]page-files\.js$/ }, (args) => ({ path: args.path, namespace: 'page-files' }));
    b.onLoad({ filter: /.*/, namespace: 'page-files' }, () => {
      const files = pageFileSources().map(({ path, type, file }) => ({ path, type, gz: gzipSync(readFileSync(file), { level: 9 }).toString('base64') }));
      return {
        contents: `const files = ${JSON.stringify(files)}.map((f) => ({ path: f.path, type: f.type, gz: Buffer.from(f.gz, 'base64') }));
export function pageFiles() { return files; }`,
        loader: 'js',
      };
    });
  },
};

export interface PackageShare {
  name: string;
  bytes: number;
}

export interface BundleReport {
  variant: Variant;
  budget: number;
  outfile: string;
  bytes: number;
  gzipBytes: number;
  mapBytes: number;
  packages: PackageShare[];
  /** Every source file in the bundle (metafile paths, relative to the repository). */
  inputs: string[];
  /** What the bundle imports at run time: Node built-ins only. */
  externals: string[];
  /** The shipped data files copied beside it (paths). */
  data: string[];
}

/** `node_modules/@scope/pkg/...` -> `@scope/pkg`; our own files -> their src folder. */
export function ownerOf(input: string): string {
  const parts = input.split('/');
  const nm = parts.lastIndexOf('node_modules');
  if (nm >= 0) return parts[nm + 1].startsWith('@') ? `${parts[nm + 1]}/${parts[nm + 2]}` : parts[nm + 1];
  const ns = /^(optional|left-out|builtin-alias|page-files):/.exec(input);
  if (ns) return `(${ns[1]} stand-ins)`;
  if (parts[0] === 'src') return `src/${parts[1]}`;
  return parts.length > 1 ? parts[0] : '(entry)';
}

function shares(meta: Metafile, outfile: string): PackageShare[] {
  const key = Object.keys(meta.outputs).find((k) => resolve(ROOT, k) === outfile);
  if (!key) throw new Error(`bundle: ${outfile} missing from metafile`);
  const by = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(meta.outputs[key].inputs)) {
    const owner = ownerOf(input);
    by.set(owner, (by.get(owner) ?? 0) + bytesInOutput);
  }
  return [...by].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

/** Builds one bundle; throws if a forbidden package got in or its budget is exceeded. */
export async function bundle(outfile?: string, variant: Variant = 'full'): Promise<BundleReport> {
  const v = VARIANTS[variant];
  outfile = resolve(outfile ?? v.outfile);
  const result = await build({
    stdin: { contents: entry(v.main), resolveDir: join(ROOT, 'src', 'cli'), sourcefile: 'edge-rnn-entry.ts', loader: 'ts' },
    bundle: true,
    outfile,
    platform: 'node',
    target: 'node18',
    format: 'esm',
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    banner: { js: BANNER },
    plugins: [stubs, rxjsEsm, pageFilesEmbedded],
    define: { __EDGE_RNN_BUNDLE__: 'true' }, // src/io/shipped-files.ts: data beside the bundle
    metafile: true,
    logLevel: 'warning',
    absWorkingDir: ROOT,
  });
  const inputs = Object.keys(result.metafile.inputs);
  const bad = inputs.filter((i) => v.forbidden.includes(ownerOf(i)));
  if (bad.length) throw new Error(`bundle: forbidden packages in the ${variant} bundle:\n  ${bad.join('\n  ')}`);
  // Whatever is still loaded at run time must come with Node itself.
  const externals = [...new Set(Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path)))].sort();
  const foreign = externals.filter((p) => !builtinModules.includes(p.replace(/^node:/, '')));
  if (foreign.length) throw new Error(`bundle: modules left to load at run time that are not Node built-ins: ${foreign.join(', ')}`);
  const data = v.data.map((f) => {
    const to = join(dirname(outfile), BUNDLE_DATA_DIR, SHIPPED_FILES[f].name);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(join(ROOT, SHIPPED_FILES[f].source), to);
    return to;
  });
  const code = readFileSync(outfile);
  const report: BundleReport = {
    variant,
    budget: v.budget,
    outfile,
    bytes: code.length,
    gzipBytes: gzipSync(code, { level: 9 }).length,
    mapBytes: readFileSync(`${outfile}.map`).length,
    packages: shares(result.metafile, outfile),
    inputs,
    externals,
    data,
  };
  if (report.bytes > v.budget) {
    throw new Error(`bundle: ${variant} bundle: ${report.bytes} bytes is over the ${v.budget}-byte budget (scripts/bundle.ts); see what takes it:\n${formatReport(report)}`);
  }
  return report;
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

export function formatReport(r: BundleReport): string {
  const lines = [
    `${relative(process.cwd(), r.outfile) || r.outfile}: ${kib(r.bytes)} (gzip ${kib(r.gzipBytes)}), source map ${kib(r.mapBytes)}; budget ${kib(r.budget)} (${r.variant})`,
    `loads at run time only Node built-ins: ${r.externals.map((e) => e.replace(/^node:/, '')).filter((e, i, a) => a.indexOf(e) === i).join(', ')}`,
    ...(r.data.length ? [`shipped data beside it: ${r.data.map((d) => relative(dirname(r.outfile), d)).join(', ')}`] : []),
    'what takes it (minified bytes in the output, by package):',
  ];
  for (const p of r.packages) {
    lines.push(`  ${p.name.padEnd(28)} ${kib(p.bytes).padStart(10)}  ${((100 * p.bytes) / r.bytes).toFixed(1).padStart(5)}%`);
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  // No argument: both bundles into dist/, then both sizes. `FILE`: the full bundle to FILE;
  // `--device FILE`: the device bundle to FILE (scripts/check-arm64.sh).
  try {
    const args = process.argv.slice(2);
    const usage = 'usage: scripts/bundle.ts [FILE | --device FILE]  (no argument: both bundles into dist/)';
    if (args.includes('--help') || args.includes('-h')) {
      console.log(usage);
      process.exit(0);
    }
    const device = args[0] === '--device';
    const file = device ? args[1] : args[0];
    // A mistyped flag must not become the output file's name (a stray `--variant` bundle was once committed).
    const rest = device ? args.slice(1) : args;
    if ((device && file === undefined) || rest.length > 1 || rest.some((a) => a.startsWith('-'))) {
      throw new Error(`bundle: unexpected arguments: ${args.join(' ')}\n${usage}`);
    }
    if (file !== undefined) {
      console.log(formatReport(await bundle(file, device ? 'device' : 'full')));
    } else {
      const reports = [await bundle(undefined, 'full'), await bundle(undefined, 'device')];
      for (const r of reports) console.log(`${formatReport(r)}\n`);
      for (const r of reports) console.log(`${r.variant.padEnd(6)} ${relative(process.cwd(), r.outfile)}: ${kib(r.bytes)} (budget ${kib(r.budget)})`);
    }
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 1;
  }
}
