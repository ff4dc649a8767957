// `edge-rnn <command>`: builds the commander program from one module per command and
// maps errors to exit codes. Commands never call process.exit; main returns the code.
import { Command, CommanderError } from 'commander';
import { CsvError } from '../io/csv.js';
import { ModelFileError } from '../io/model-file.js';
import { ModelFormatError } from '../model/errors.js';
import { CliError } from './errors.js';
import { registerInspect } from './commands/inspect.js';
import { registerPredict } from './commands/predict.js';
import { registerRun } from './commands/run.js';
import { registerKeygen } from './commands/keygen.js';
import { registerPush } from './commands/push.js';
import { registerQuantize } from './commands/quantize.js';
import { registerTrain } from './commands/train.js';
import { registerSim } from './commands/sim.js';
import { registerDemo } from './commands/demo.js';

export const VERSION = '0.1.0';

export function buildProgram(): Command {
  const program = new Command('edge-rnn')
    .description('Stateful RNN / LSTM / GRU inference for edge devices over MQTT')
    .version(VERSION)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const register of [registerInspect, registerPredict, registerKeygen, registerPush, registerRun, registerTrain, registerQuantize, registerSim, registerDemo]) register(program);
  program.commands.forEach((c) => c.exitOverride());
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length === 0) {
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof CliError || e instanceof CsvError || e instanceof ModelFormatError || e instanceof ModelFileError) {
      process.stderr.write(`edge-rnn: ${e.message}\n`);
      return e instanceof CliError ? e.exitCode : 1;
    }
    process.stderr.write(`edge-rnn: unexpected error: ${(e as Error).stack ?? e}\n`);
    return 70;
  }
}
