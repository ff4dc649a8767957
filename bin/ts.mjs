#!/usr/bin/env node
// Runs a TypeScript entry point from the source tree: `node bin/ts.mjs FILE.ts [args]`.
// The deployable artefact is the esbuild bundle; this loader is for the checkout.
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

register();
const [entry, ...rest] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node bin/ts.mjs FILE.ts [args...]');
  process.exit(2);
}
process.argv = [process.argv[0], resolve(entry), ...rest];
await import(pathToFileURL(resolve(entry)).href);
