// Stand-alone entry: `node firmware-sim/bin/firmware-sim.mjs [flags]` (same flags as `edge-rnn sim`).
import { Command, CommanderError } from 'commander';
import { MoteDataError } from './mote-data.js';
import { SimOptionError, type SimFlags } from './options.js';
import { defineSimCommand, runSim } from './run-sim.js';

export async function main(argv: readonly string[]): Promise<number> {
  const cmd = defineSimCommand(new Command('firmware-sim').description('simulated MQTT sensor nodes: replay real mote data or synthetic signals, with faults'))
    .exitOverride()
    .action(async (flags: SimFlags & { printPlan?: boolean; json?: boolean }) => {
      const ac = new AbortController();
      const onSignal = () => ac.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        await runSim(flags, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), signal: ac.signal });
      } finally {
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
      }
    });
  try {
    await cmd.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof SimOptionError || e instanceof MoteDataError) {
      process.stderr.write(`firmware-sim: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
