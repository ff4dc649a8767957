// The CLI side of `train --window W` (issue 19): the flags, the combinations refused with a
// reason, and `--compare-with`, which runs a per-reading classifier through the runtime on
// the same validation readings as the windowed model (src/train/event-compare.ts).
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ModelFileError, readModelFile } from '../../io/model-file.js';
import { sameInputs } from '../../model/same-inputs.js';
import type { Model } from '../../model/types.js';
import { createSession } from '../../runtime/session.js';
import type { Dataset } from '../../train/dataset.js';
import { compareEvents, scoreEvents, type EventComparison, type SeriesDecisions } from '../../train/event-compare.js';
import { createWindowNetwork } from '../../train/window-network.js';
import { validationEnds } from '../../train/window-samples.js';
import type { WindowOptions } from '../../train/window-trainer.js';
import { CliError } from '../errors.js';

export interface WindowCliOptions {
  window?: number;
  hop?: number;
  bidirectional?: boolean;
  pool?: 'last' | 'mean';
  windowLabel?: 'last' | 'any';
  compareWith?: string;
}

const MAX_WINDOW = 4096; // the format's bound

const int = (min: number, max: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
  return n;
};

export function addWindowOptions(cmd: Command): Command {
  return cmd
    .option('--window <W>', 'windowed model: classify (or forecast from) each window of the last W readings as a whole, from a zero state, instead of one output per reading', int(1, MAX_WINDOW))
    .option('--hop <K>', 'with --window: the model gives one result every K readings (1..W; default 1). Training and validation use every window', int(1, MAX_WINDOW))
    .option('--bidirectional', 'with --window: every recurrent layer also reads the window right to left (PyTorch bidirectional=True); its output is both directions\' h, 2 x --hidden')
    .addOption(new Option('--pool <how>', 'with --window: the vector the dense head reads: last (the forward direction\'s h at the window\'s last reading, with the reverse direction\'s at its first) or mean (the mean over the window)').choices(['last', 'mean']))
    .addOption(new Option('--window-label <rule>', 'with --window and --label: a window\'s class is that of its last reading (last), or the highest class (in label order) of any of its readings (any: with 0/1 labels, 1 when an event touches the window). Default last').choices(['last', 'any']))
    .option('--compare-with <model>', 'with --window and --label: a per-reading classifier (e.g. models/mote-events.msgpack) scored with this model on the same validation readings: event precision, recall, F1 and decision delay, in the card');
}

/** The window of this run, or undefined for a per-reading model; refuses flags that make no sense together. */
export function windowSpec(o: WindowCliOptions & {
  label?: string; residual?: boolean; eventColumn?: string; period?: number; initFrom?: string; init?: string; burnIn?: number; search?: unknown;
  /** The flags given explicitly among the search axes (train.ts fills it from commander). */
  searchFixed?: readonly string[];
}): WindowOptions | undefined {
  if (o.window === undefined) {
    const stray = (['hop', 'bidirectional', 'pool', 'windowLabel', 'compareWith'] as const).find((k) => o[k] !== undefined);
    if (stray) throw new CliError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --window (it describes a windowed model)`);
    return undefined;
  }
  const W = o.window, hop = o.hop ?? 1;
  if (hop > W) throw new CliError(`--hop ${hop} is larger than --window ${W}: readings between windows would never be read`);
  if (!o.label && o.windowLabel !== undefined) throw new CliError('--window-label is for classification (--label); a windowed regression forecasts the target of the window\'s last reading');
  if (!o.label && o.compareWith !== undefined) throw new CliError('--compare-with compares event classifiers (--label)');
  if (o.residual === true) throw new CliError('--residual is refused with --window: a windowed model outputs levels (the format refuses residual windowed models)');
  if (o.eventColumn !== undefined) throw new CliError('--event-column scores a per-reading forecaster\'s anomaly flag; the format has no anomaly scale for a windowed model');
  if (o.period !== undefined) throw new CliError('--period sets the per-reading baselines; a windowed regression is compared with persistence only');
  if (o.initFrom !== undefined) throw new CliError('--init-from is not supported with --window (a windowed model starts from a seeded initialisation)');
  if (o.init !== undefined && o.init !== 'auto' && o.init !== 'random') throw new CliError(`--init ${o.init} is not supported with --window (a windowed model starts from a seeded random initialisation)`);
  if (o.searchFixed?.includes('seqLen')) throw new CliError('--seq-len is the BPTT window of a per-reading model; a windowed model trains on whole windows of --window readings');
  if (o.burnIn !== undefined) throw new CliError('--burn-in is for per-reading models: every window starts from the zero state');
  if (o.search !== undefined) throw new CliError('--search is not supported with --window');
  return { size: W, hop, bidirectional: o.bidirectional === true, from: o.pool ?? 'last', label: o.windowLabel ?? 'last' };
}

/** The event comparison of the trained windowed model with the per-reading classifier at `path`. */
export function compareWithCausal(path: string, ds: Dataset, windowed: Model): EventComparison {
  let causal: Model;
  try {
    causal = readModelFile(path).model;
  } catch (e) {
    if (e instanceof ModelFileError) throw new CliError(`--compare-with: ${e.message}`);
    throw e;
  }
  if (causal.window) throw new CliError(`--compare-with ${path}: it is a windowed model; compare with a per-reading classifier`);
  if (causal.task !== 'classification' || !sameInputs(causal, windowed)) {
    throw new CliError(`--compare-with ${path}: expected a classifier of the same inputs (${windowed.inputs.names.join(', ')}); it is a ${causal.task} model of ${causal.inputs.names.join(', ')}`);
  }
  const labels = ds.labels!;
  const eventLabel = labels[labels.length - 1]; // the event class: the last label in order (1 of 0/1)
  const causalEvent = causal.outputs.labels!.indexOf(eventLabel);
  if (causalEvent < 0) throw new CliError(`--compare-with ${path}: its classes (${causal.outputs.labels!.join(', ')}) have no "${eventLabel}"`);
  const net = createWindowNetwork(windowed);
  const session = createSession(causal, { kernels: 'js' });
  const W = net.windowSize, hop = windowed.window!.hop, I = ds.inputNames.length, E = labels.length - 1;
  const argmax = (y: ArrayLike<number>) => { let b = 0; for (let c = 1; c < y.length; c++) if (y[c] > y[b]) b = c; return b; };
  const mine: SeriesDecisions[] = [], theirs: SeriesDecisions[] = [];
  for (const s of ds.series) {
    const readings = validationEnds(ds, s, W);
    const event = Uint8Array.from(s.cls, (c) => (c === E ? 1 : 0));
    const dw = new Uint8Array(s.n), dc = new Uint8Array(s.n);
    // Windowed: one result every `hop` readings from the W-th, standing until the next; only
    // the windows that stand at a compared reading are run.
    let last = -1, standing = 0;
    for (let k = 0; k < readings.length; k++) {
      const e = readings[k], end = W - 1 + Math.floor((e - (W - 1)) / hop) * hop;
      if (end !== last) { standing = argmax(net.forward(s.x, (end - W + 1) * I)) === E ? 1 : 0; last = end; }
      dw[e] = standing;
    }
    const state = session.createState();
    for (let t = 0; t < s.n; t++) dc[t] = argmax(session.step(state, s.xRaw.subarray(t * I, (t + 1) * I))) === causalEvent ? 1 : 0;
    mine.push({ device: s.device, readings, event, decision: dw });
    theirs.push({ device: s.device, readings, event, decision: dc });
  }
  const grace = W - 1;
  const name = causal.name;
  return compareEvents(eventLabel, grace, scoreEvents(windowed.name, mine, grace), scoreEvents(name, theirs, grace));
}
