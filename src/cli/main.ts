// `edge-rnn <command>`, the full CLI (bin/edge-rnn.mjs, dist/edge-rnn.mjs): every command.
// The device bundle's entry is src/cli/device-main.ts; both share src/cli/program.ts.
import type { Command } from 'commander';
import { buildProgram as build, DEVICE_COMMANDS, runCli, type CliOptions, type CommandTable, type Register } from './program.js';

export { VERSION } from './program.js';

const FULL_COMMANDS: CommandTable = {
  ...DEVICE_COMMANDS,
  // run with --cluster: the NATS cluster mode is in this CLI only, never in the device bundle.
  run: async () => {
    const [{ registerRunWith }, { CLUSTER_PLUGIN }] = await Promise.all([import('./commands/run.js'), import('./cluster-mode.js')]);
    return registerRunWith(CLUSTER_PLUGIN);
  },
  train: async () => (await import('./commands/train.js')).registerTrain,
  quantize: async () => (await import('./commands/quantize.js')).registerQuantize,
  sim: async () => (await import('./commands/sim.js')).registerSim,
  demo: async () => (await import('./commands/demo.js')).registerDemo,
  import: async () => (await import('./commands/import.js')).registerImport,
} satisfies Record<string, () => Promise<Register>>;

const FULL: CliOptions = { commands: FULL_COMMANDS };

/** The program with every command, or only `only` when given (the one being run). */
export function buildProgram(only?: string): Promise<Command> {
  return build(FULL, only);
}

/** Runs the CLI; resolves to the process exit code. */
export function main(argv: readonly string[]): Promise<number> {
  return runCli(FULL, argv);
}
