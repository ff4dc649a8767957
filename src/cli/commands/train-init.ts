// The CLI side of `train --init auto|linear-ar|persistence|random`: which flags the user gave
// (an explicit --cell/--hidden/--layers/--rnn-activation is a choice auto keeps; an explicit
// --lr is kept for the AR's fine-tuning), and the start applied to the run's options. The
// choice itself is src/train/init-choice.ts.
import { Option, type Command } from 'commander';
import { chooseStart, INIT_MODES, startOptions, type InitMode, type StartChoice } from '../../train/init-choice.js';
import { TrainDataError, type Dataset, type TrainOptions } from '../../train/index.js';
import { CliError } from '../errors.js';

export interface InitCliOptions {
  /** --init (default auto). */
  init?: InitMode;
  /** Filled by the action from commander's value sources; absent (scripts): nothing given. */
  initGiven?: { readonly architecture: boolean; readonly lr: boolean };
}

export function initOption(): Option {
  return new Option(
    '--init <start>',
    'where the weights start: linear-ar (the linear AR on the last k readings, fitted on the training split, as an exact ReLU RNN of 2·k·inputs units, then fine-tuned), ' +
    'persistence (residual outputs start at "no change"), random (seeded initialisation); auto: linear-ar when it beats persistence by more than 20 % on the end of the training split, ' +
    'else the default cell at persistence (an explicit --cell/--hidden/--layers is kept)',
  ).choices([...INIT_MODES]).default('auto');
}

const given = (cmd: Command, key: string) => {
  const source = cmd.getOptionValueSource(key);
  return source !== undefined && source !== 'default';
};

export function initGiven(cmd: Command): { architecture: boolean; lr: boolean } {
  return { architecture: ['cell', 'hidden', 'layers', 'rnnActivation'].some((k) => given(cmd, k)), lr: given(cmd, 'lr') };
}

/** The run's options at its start, and the start for the card. */
export function startRun(ds: Dataset, o: InitCliOptions, topts: TrainOptions): { options: TrainOptions; start: StartChoice } {
  try {
    const start = chooseStart(ds, o.init ?? 'auto', o.initGiven?.architecture ?? false);
    return { options: startOptions(ds, topts, start, o.initGiven?.lr ?? false), start };
  } catch (e) {
    if (e instanceof TrainDataError) throw new CliError(e.message);
    throw e;
  }
}
