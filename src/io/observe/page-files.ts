// The status page's static files, gzipped: page/index.html and uPlot (npm `uplot`, its
// minified browser build and stylesheet). In a checkout they are read from disk once; the
// bundles carry them inside (scripts/bundle.ts replaces this module with one that holds
// the same gzipped bytes), so nothing is built or fetched on the device.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

export interface PageFile {
  /** Path it is served under. */
  readonly path: string;
  readonly type: string;
  /** The file, gzipped. */
  readonly gz: Buffer;
}

/** Where each file comes from in a checkout (scripts/bundle.ts embeds the same list). */
export function pageFileSources(): { path: string; type: string; file: string }[] {
  const req = createRequire(import.meta.url);
  return [
    { path: '/', type: 'text/html; charset=utf-8', file: fileURLToPath(new URL('./page/index.html', import.meta.url)) },
    { path: '/uplot.js', type: 'text/javascript; charset=utf-8', file: req.resolve('uplot/dist/uPlot.iife.min.js') },
    { path: '/uplot.css', type: 'text/css; charset=utf-8', file: req.resolve('uplot/dist/uPlot.min.css') },
  ];
}

let cached: readonly PageFile[] | null = null;

export function pageFiles(): readonly PageFile[] {
  return (cached ??= pageFileSources().map(({ path, type, file }) => ({ path, type, gz: gzipSync(readFileSync(file), { level: 9 }) })));
}
