// npm run build:wasm — assembles src/kernels/wasm/kernels.wat (hand-written WebAssembly
// SIMD) with wabt's wat2wasm (compiled to JS, from the npm registry) into two modules, the
// baseline (SIMD) one and the relaxed-SIMD one (the kernels the .wat's NAME_RELAXED macros
// change, assembled with those in place of NAME), and writes both as base64 into
// src/kernels/wasm/kernels-module.ts. The generated
// modules are committed, so `npm ci` needs no build step and the bundler embeds them;
// test/wasm/wasm-kernels.test.ts re-assembles the .wat and checks the committed bytes match.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WAT_PATH = join(ROOT, 'src/kernels/wasm/kernels.wat');
export const MODULE_PATH = join(ROOT, 'src/kernels/wasm/kernels-module.ts');

/**
 * Statement macros, expanded before assembling. V8 (Node 18-22) does not inline wasm calls,
 * and a call spills every live v128 (all vector registers are caller-saved), so the math in
 * the hot loops is written once as a macro and pasted where it is used:
 *   ;;@def NAME {a} {b}        ... body, with {a} {b} replaced by the use's arguments ...
 *   ;;@end
 *   ;;@NAME $x $y               (a use: one line, arguments separated by spaces)
 * Uses may appear inside macro bodies (expanded until none are left).
 * `relaxed`: every NAME_RELAXED definition replaces NAME's (the relaxed-SIMD module).
 */
export function expandMacros(src: string, relaxed = false): string {
  const defs = new Map<string, { params: string[]; body: string }>();
  let out = src.replace(/^[ \t]*;;@def (\w+)([^\n]*)\n([\s\S]*?)^[ \t]*;;@end[^\n]*\n/gm, (_m, name: string, params: string, body: string) => {
    defs.set(name, { params: params.trim().split(/\s+/).filter(Boolean), body });
    return '';
  });
  for (const [name, def] of [...defs]) {
    if (!name.endsWith('_RELAXED')) continue;
    defs.delete(name);
    if (relaxed) defs.set(name.slice(0, -'_RELAXED'.length), def);
  }
  for (let depth = 0; /^[ \t]*;;@\w/m.test(out); depth++) {
    if (depth > 8) throw new Error('kernels.wat: macros nested too deep (or a use of an undefined macro)');
    out = out.replace(/^[ \t]*;;@(\w+)([^\n]*)$/gm, (_m, name: string, args: string) => {
      const d = defs.get(name);
      if (!d) throw new Error(`kernels.wat: no macro ${name}`);
      const a = args.trim().split(/\s+/).filter(Boolean);
      if (a.length !== d.params.length) throw new Error(`kernels.wat: ${name} takes ${d.params.length} arguments, got ${a.length}`);
      return d.params.reduce((b, p, i) => b.split(p).join(a[i]), d.body).replace(/\n$/, '');
    });
  }
  return out;
}

export type KernelsVariant = 'baseline' | 'relaxed';

/**
 * The kernels whose code the relaxed-SIMD variant changes (those using a NAME_RELAXED macro).
 * The relaxed module holds only these, importing the baseline instance's memory ("kernels"
 * "memory"): the session takes every other export from the baseline instance (the device
 * bundle carries about 2 KB for the variant, not a second 12 KB module).
 */
export const RELAXED_EXPORTS = ['mv_f32', 'mm_f32'] as const;

/** The text of `(func (export "name") ...)` in src, to its balancing parenthesis (comments skipped). */
function funcText(src: string, name: string): string {
  const start = src.indexOf(`(func (export "${name}")`);
  if (start < 0) throw new Error(`kernels.wat: no func ${name}`);
  for (let i = start, depth = 0; i < src.length; i++) {
    if (src.startsWith(';;', i)) i = src.indexOf('\n', i);
    else if (src[i] === '(') depth++;
    else if (src[i] === ')' && --depth === 0) return src.slice(start, i + 1);
    if (i < 0) break;
  }
  throw new Error(`kernels.wat: func ${name} is not closed`);
}

/** The .wat of a variant: the whole module (baseline), or RELAXED_EXPORTS alone over an imported memory (relaxed). */
export function variantSource(wat: string, variant: KernelsVariant): string {
  const base = expandMacros(wat, false);
  if (variant === 'baseline') return base;
  const relaxed = expandMacros(wat, true);
  // The swap must change nothing outside RELAXED_EXPORTS (else they would not be the only ones).
  const outside = (src: string) => RELAXED_EXPORTS.reduce((t, name) => t.replace(funcText(t, name), name), src);
  if (outside(relaxed) !== outside(base)) throw new Error(`kernels.wat: a _RELAXED macro is used outside ${RELAXED_EXPORTS.join(', ')}`);
  return ['(module', '  (import "kernels" "memory" (memory 1))', ...RELAXED_EXPORTS.map((name) => '  ' + funcText(relaxed, name)), ')', ''].join('\n');
}

/** A variant assembled to wasm bytes (SIMD and multi-value on; relaxed SIMD only in the relaxed variant). */
export async function assembleKernels(variant: KernelsVariant = 'baseline'): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const relaxed = variant === 'relaxed';
  const mod = wabt.parseWat('kernels.wat', variantSource(readFileSync(WAT_PATH, 'utf8'), variant), { simd: true, multi_value: true, relaxed_simd: relaxed });
  try {
    mod.validate();
    return mod.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    mod.destroy();
  }
}

export function moduleSource(baseline: Uint8Array, relaxed: Uint8Array): string {
  const constant = (name: string, what: string, bytes: Uint8Array) => [
    `// ${what}: ${bytes.length} bytes of WebAssembly, base64.`,
    `export const ${name} =`,
    (Buffer.from(bytes).toString('base64').match(/.{1,100}/g) ?? []).map((l) => `  '${l}'`).join(' +\n') + ';',
  ];
  return [
    '// GENERATED by scripts/build-wasm.ts from kernels.wat — do not edit; run `npm run build:wasm`.',
    ...constant('KERNELS_WASM_BASE64', 'The baseline SIMD module', baseline),
    ...constant('KERNELS_RELAXED_WASM_BASE64', `The relaxed-SIMD module (${RELAXED_EXPORTS.join(', ')} with f32x4.relaxed_madd; imports the baseline's memory)`, relaxed),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const baseline = await assembleKernels('baseline');
  const relaxed = await assembleKernels('relaxed');
  writeFileSync(MODULE_PATH, moduleSource(baseline, relaxed));
  console.log(`wrote ${MODULE_PATH} (${baseline.length} + ${relaxed.length} bytes of wasm)`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
