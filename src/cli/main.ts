// `edge-rnn <command>`: builds the commander program from one module per command and
// maps errors to exit codes. Commands never call process.exit; main returns the code.
import { Command, CommanderError } from 'commander';
import { CsvError } from '../io/csv.js';
import { ModelFileError } from '../io/model-file.js';
import { ModelFormatError } from '../model/errors.js';
import { CliError } from './errors.js';

type Register = (program: Command) => void;

// Each command's module is loaded only when that command runs (or for the full --help), so
// `predict` does not pay for loading MQTT, the broker or the trainer. In the bundle,
// esbuild turns these imports into lazily initialised modules inside the one file.
const COMMANDS: Readonly<Record<string, () => Promise<Register>>> = {
  inspect: async () => (await import('./commands/inspect.js')).registerInspect,
  predict: async () => (await import('./commands/predict.js')).registerPredict,
  keygen: async () => (await import('./commands/keygen.js')).registerKeygen,
  push: async () => (await import('./commands/push.js')).registerPush,
  run: async () => (await import('./commands/run.js')).registerRun,
  train: async () => (await import('./commands/train.js')).registerTrain,
  quantize: async () => (await import('./commands/quantize.js')).registerQuantize,
  sim: async () => (await import('./commands/sim.js')).registerSim,
  demo: async () => (await import('./commands/demo.js')).registerDemo,
};

export const VERSION = '0.1.0';

/** The program with every command, or only `only` when given (the one being run). */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('edge-rnn')
    .description('Stateful RNN / LSTM / GRU inference for edge devices over MQTT')
    .version(VERSION)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const names = only !== undefined && only in COMMANDS ? [only] : Object.keys(COMMANDS);
  for (const register of await Promise.all(names.map((n) => COMMANDS[n]()))) register(program);
  program.commands.forEach((c) => c.exitOverride());
  return program;
}

// `edge-rnn … | head -1`: the reader of stdout left, so nobody wants the rest. End at once
// and quietly with 0, as a program killed by SIGPIPE would (Node ignores SIGPIPE, so a
// write gets EPIPE and, unhandled, prints a stack trace). `run` logs through pino, which
// stops writing on EPIPE and keeps serving: a service must not stop predicting because
// its log reader went away (the unit restarts only on failure). (issue 12)
let brokenPipeHandled = false;
function endQuietlyOnBrokenPipe(): void {
  if (brokenPipeHandled) return;
  brokenPipeHandled = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  endQuietlyOnBrokenPipe();
  const program = await buildProgram(argv[0]);
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
