// The shipped windowed classifier's card tells the truth (issue 19): its comparison with the
// per-reading mote-events on the same validation readings is recomputed here from the two
// shipped model files and the shipped data (the split read back from the model's meta), and
// must equal models/mote-events-window.card.json.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { columnsFromCsv } from '../../src/cli/commands/train.js';
import { compareWithCausal } from '../../src/cli/commands/train-window.js';
import { readCsv } from '../../src/io/csv.js';
import { readModelFile } from '../../src/io/model-file.js';
import { buildDataset } from '../../src/train/dataset.js';
import { eventComparisonJson } from '../../src/train/event-compare.js';
import { splitFromMeta } from '../../src/train/split.js';

it('models/mote-events-window.card.json: the event comparison with mote-events, recomputed from the shipped files', () => {
  const { model } = readModelFile('models/mote-events-window.msgpack');
  const meta = model.meta as { dataset: { valFraction: number; deviceColumn: string } };
  const split = splitFromMeta(meta.dataset, meta.dataset.valFraction);
  const inputs = [...model.inputs.names];
  const cols = columnsFromCsv(readCsv('firmware-sim/data/suthaharan-single-hop.csv'), { inputs, label: 'label', deviceColumn: meta.dataset.deviceColumn });
  const ds = buildDataset({
    inputNames: inputs, inputs: cols.inputs, devices: cols.devices, target: { task: 'classification', labelName: 'label', labels: cols.labels },
    valFraction: split.valFraction, valMode: split.mode, valBlocks: split.blocks, valGap: split.gap, seqLen: model.window!.size,
  });
  const recomputed = eventComparisonJson(compareWithCausal('models/mote-events.msgpack', ds, model));
  const card = JSON.parse(readFileSync('models/mote-events-window.card.json', 'utf8'));
  expect(recomputed).toEqual(card.events);
  expect(card.events.winner).toBe('windowed');
  expect(card.events.windowed.f1).toBeGreaterThan(card.events.causal.f1);
}, 30_000); // ~1.5 s of model runs; generous for a loaded machine, never timed
