// The layer rule from DESIGN.md (plus src/eval, issue 14) as code: which of our folders may import which, and what the
// compute core may not touch. Pure functions over (path, source text), so the rule itself is
// tested on synthetic sources before it is run over the tree.
import { posix } from 'node:path';
import ts from 'typescript';

/** Each layer may import only itself and the layers before it. */
// `eval` (float-vs-int8 comparison, the quantization report) sits after `train`: it
// judges models, so it may use the trainer's metrics, and nothing that serves imports it.
// `import` (issue 16, the ONNX converter) reads bytes and writes a model: it needs only `model`,
// and only the full CLI's `import` command uses it (never the device bundle).
export const LAYERS = ['kernels', 'model', 'runtime', 'protocol', 'train', 'eval', 'import', 'stream', 'io', 'cli'] as const;
export type Layer = (typeof LAYERS)[number];
type Unit = Layer | 'firmware-sim';

/** No network, files, processes or clock: tested with golden vectors, runs in any JS runtime. */
export const COMPUTE_CORE: readonly Layer[] = ['kernels', 'model', 'runtime', 'train', 'eval', 'import'];

// Modules that do I/O. (Use of the `process` global is hard to spot reliably, so it is not checked.)
const IO_MODULE = /^(node:)?(fs|fs\/promises|net|http|https|http2|tls|dgram|child_process)$|^(node:)?(fs|child_process)\/|^mqtt($|\/)/;

export interface Violation {
  readonly file: string;
  /** The import specifier, or the offending expression for clock reads. */
  readonly what: string;
  readonly rule: string;
}

/** Specifiers of static imports, `export … from`, `import type`, `import(…)` and `require(…)`; not those in comments or strings. */
export function importSpecifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** The folder a repo-relative path belongs to: a layer, firmware-sim, an unknown src folder ("src/x"), or null outside both. */
export function unitOf(path: string): Unit | `src/${string}` | null {
  const parts = posix.normalize(path).split('/');
  if (parts[0] === 'firmware-sim') return 'firmware-sim';
  if (parts[0] !== 'src') return null;
  if (parts.length < 3) return `src/${parts[1]}`; // a file directly under src/ belongs to no layer
  return (LAYERS as readonly string[]).includes(parts[1]) ? (parts[1] as Layer) : `src/${parts[1]}`;
}

/** `Date.now` / `performance.now` (also via globalThis), found in the syntax tree, so comments and strings do not count. */
export function clockReads(source: string): string[] {
  const file = ts.createSourceFile('x.ts', source, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isPropertyAccessExpression(node) && node.name.text === 'now') ||
        (ts.isElementAccessExpression(node) && ts.isStringLiteral(node.argumentExpression) && node.argumentExpression.text === 'now')) {
      const target = node.expression.getText(file).replace(/^globalThis\./, '');
      if (target === 'Date' || target === 'performance') found.push(node.getText(file));
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** The npm package's library entry (issue 17): the one file directly under src/. */
export const PACKAGE_ENTRY = 'src/index.ts';

/** What the package entry may re-export: the pure layers, whose only dependencies are msgpackr and rxjs. */
export const LIBRARY_LAYERS: readonly Layer[] = ['kernels', 'model', 'runtime', 'protocol', 'stream'];

/** Every rule broken by one file (`file` is the path relative to the repository root, with `/`). */
export function checkFile(file: string, source: string): Violation[] {
  const from = unitOf(file);
  if (from === null) return [];
  const out: Violation[] = [];
  const add = (what: string, rule: string): void => void out.push({ file, what, rule });
  if (posix.normalize(file) === PACKAGE_ENTRY) {
    for (const spec of importSpecifiers(source)) {
      const to = spec.startsWith('.') ? unitOf(posix.normalize(posix.join('src', spec))) : null;
      if (!LIBRARY_LAYERS.includes(to as Layer)) add(spec, `${PACKAGE_ENTRY} (the library entry) re-exports only ${LIBRARY_LAYERS.join(', ')}: no I/O, CLI, trainer or packages`);
    }
    return out;
  }
  if (from.startsWith('src/')) add(file, `${from}/ is not a layer (${LAYERS.join(' < ')}); place the file in one or add the layer to this rule`);

  for (const spec of importSpecifiers(source)) {
    if (from !== 'firmware-sim' && COMPUTE_CORE.includes(from as Layer) && IO_MODULE.test(spec)) {
      add(spec, `the compute core (${COMPUTE_CORE.join(', ')}) does no I/O; only src/io touches files, network and processes`);
    }
    if (!spec.startsWith('.')) continue; // packages and node: built-ins
    const target = posix.normalize(posix.join(posix.dirname(file), spec));
    const to = unitOf(target);
    if (to === null || to === from) continue;
    if (typeof to === 'string' && to.startsWith('src/')) {
      add(spec, `${to}/ is not a layer (${LAYERS.join(' < ')})`);
    } else if (from === 'firmware-sim') {
      if (to !== 'protocol') add(spec, 'firmware-sim may import only src/protocol (it plays the sensors, which know nothing else of ours)');
    } else if (to === 'firmware-sim') {
      if (from !== 'cli') add(spec, 'only src/cli (sim, demo) may import firmware-sim');
    } else if (LAYERS.indexOf(to as Layer) > LAYERS.indexOf(from as Layer)) {
      add(spec, from === 'kernels'
        ? 'src/kernels imports nothing of ours'
        : `src/${from} may not import src/${to}: imports flow ${LAYERS.join(' <- ')} (each only from its left)`);
    }
  }

  if (COMPUTE_CORE.includes(from as Layer)) {
    for (const read of clockReads(source)) add(read, `the compute core (${COMPUTE_CORE.join(', ')}) does not read the clock; take time as an argument`);
  }
  return out;
}
