// `edge-rnn <command>` on a device (dist/edge-rnn-device.mjs, issue 17): only what a device
// runs. train, quantize, sim, demo and import are in the full CLI (dist/edge-rnn.mjs); asking this
// build for one is a one-line error, exit 2. Shares everything else with src/cli/main.ts.
import { DEVICE_COMMANDS, FULL_ONLY_COMMANDS, runCli, type CliOptions } from './program.js';

export const DEVICE: CliOptions = {
  commands: DEVICE_COMMANDS,
  elsewhere: { names: FULL_ONLY_COMMANDS, where: 'in the full CLI (edge-rnn.mjs), not in the device bundle' },
};

/** Runs the device CLI; resolves to the process exit code. */
export function main(argv: readonly string[]): Promise<number> {
  return runCli(DEVICE, argv);
}
