// The shared core of every `edge-rnn` entry (src/cli/main.ts: the full CLI; src/cli/device-main.ts:
// the device bundle, issue 17): builds the commander program from a table of commands, one
// module per command, and maps errors to exit codes. Commands never call process.exit;
// the entry's main returns the code. Each entry names its own table, so a bundle built from
// it contains only those commands' code.
import { Command, CommanderError } from 'commander';
import { CsvError } from '../io/csv.js';
import { ModelFileError } from '../io/model-file.js';
import { ModelFormatError } from '../model/errors.js';
import { CliError } from './errors.js';

export type Register = (program: Command) => void;
export type CommandTable = Readonly<Record<string, () => Promise<Register>>>;

export const VERSION = '0.1.0';

// Each command's module is loaded only when that command runs (or for the full --help), so
// `predict` does not pay for loading MQTT, the broker or the trainer. In a bundle, esbuild
// turns these imports into lazily initialised modules inside the one file.
/** What a device runs: the commands of the device bundle (dist/edge-rnn-device.mjs). */
export const DEVICE_COMMANDS: CommandTable = {
  inspect: async () => (await import('./commands/inspect.js')).registerInspect,
  predict: async () => (await import('./commands/predict.js')).registerPredict,
  keygen: async () => (await import('./commands/keygen.js')).registerKeygen,
  push: async () => (await import('./commands/push.js')).registerPush,
  run: async () => (await import('./commands/run.js')).registerRun,
  status: async () => (await import('./commands/status.js')).registerStatus,
};

/** Commands only the full CLI has (their code is never in the device bundle). */
export const FULL_ONLY_COMMANDS = ['train', 'quantize', 'sim', 'demo', 'import'] as const;

export interface CliOptions {
  commands: CommandTable;
  /** Command names this entry knows of but does not carry: refused with a one-line error (exit 2). */
  elsewhere?: { names: readonly string[]; where: string };
}

/** The program with every command of the table, or only `only` when given (the one being run). */
export async function buildProgram(opts: CliOptions, only?: string): Promise<Command> {
  const { commands, elsewhere } = opts;
  const program = new Command('edge-rnn')
    .description('Stateful RNN / LSTM / GRU inference for edge devices over MQTT')
    .version(VERSION)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  if (elsewhere) program.addHelpText('after', `\n${elsewhere.names.join(', ')}: ${elsewhere.where}\n`);
  const names = only !== undefined && only in commands ? [only] : Object.keys(commands);
  for (const register of await Promise.all(names.map((n) => commands[n]()))) register(program);
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

/** Runs the CLI with the given commands; resolves to the process exit code. */
export async function runCli(opts: CliOptions, argv: readonly string[]): Promise<number> {
  endQuietlyOnBrokenPipe();
  const first = argv[0];
  if (first !== undefined && opts.elsewhere?.names.includes(first) && !(first in opts.commands)) {
    process.stderr.write(`edge-rnn: '${first}' is ${opts.elsewhere.where}\n`);
    return 2;
  }
  const program = await buildProgram(opts, first);
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
