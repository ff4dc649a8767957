// `edge-rnn sim`: simulated sensor nodes over MQTT (firmware-sim/): replay the real mote
// data set or synthetic signals, with seeded faults. Same flags as firmware-sim/bin.
import type { Command } from 'commander';
import { MoteDataError, SimOptionError, type SimFlags } from '../../../firmware-sim/src/index.js';
import { defineSimCommand, runSim } from '../../../firmware-sim/src/run-sim.js';
import { shippedFile, shippedFileHint } from '../../io/shipped-files.js';
import { CliError } from '../errors.js';
import { runUntilSignal } from '../run-until-signal.js';

export function registerSim(program: Command): void {
  const cmd = program.command('sim').description('simulated sensor nodes publishing readings over MQTT (replay real mote data or synthetic signals, with faults)');
  defineSimCommand(cmd, { dataPath: shippedFile('moteData') }).action(async (flags: SimFlags & { printPlan?: boolean; json?: boolean }) => {
    try {
      await runUntilSignal((signal) => runSim(flags, { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s), signal }));
    } catch (e) {
      if (e instanceof MoteDataError) throw new CliError(moteDataMessage(e, flags));
      if (e instanceof SimOptionError) throw new CliError(e.message);
      throw e;
    }
  });
}

/** A missing shipped data set says where it should be and how to do without it. */
export function moteDataMessage(e: MoteDataError, flags: { source?: string; data?: string }): string {
  const shipped = flags.source !== 'synthetic' && flags.data === shippedFile('moteData') && e.message.startsWith('cannot read');
  return shipped ? `${e.message} ${shippedFileHint('--data')}` : e.message;
}
