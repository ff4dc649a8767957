#!/usr/bin/env node
// `npx edge-rnn`. In a checkout (src/ beside bin/, tsx installed by npm ci as a dev
// dependency) it runs the CLI from the TypeScript sources; in an installed package, which
// has neither, it runs the bundled CLI dist/edge-rnn.mjs (every dependency inside).
import { existsSync } from 'node:fs';

const sources = new URL('../src/cli/main.ts', import.meta.url);
const bundle = new URL('../dist/edge-rnn.mjs', import.meta.url);

async function tsxRegister() {
  try {
    return (await import('tsx/esm/api')).register;
  } catch (e) {
    if (e?.code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw e;
  }
}

const register = existsSync(sources) ? await tsxRegister() : undefined;
if (register) {
  register();
  const { main } = await import(sources.href);
  process.exitCode = await main(process.argv.slice(2));
} else if (existsSync(bundle)) {
  await import(bundle.href); // reads process.argv and sets process.exitCode itself
} else {
  console.error('edge-rnn: no CLI to run: neither tsx for the sources (npm ci) nor dist/edge-rnn.mjs (npm run bundle) is here');
  process.exitCode = 1;
}
