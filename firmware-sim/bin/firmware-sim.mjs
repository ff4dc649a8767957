#!/usr/bin/env node
// `node firmware-sim/bin/firmware-sim.mjs --help`: the simulator on its own, from TypeScript source.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
