#!/usr/bin/env node
// `npx edge-rnn` in a checkout: load the CLI from TypeScript source through tsx.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
