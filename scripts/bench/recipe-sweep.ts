// Measuring script for the trainer's defaults (issue 15): validation RMSE against
// persistence, and training time, for recipe variants on four real data sets, horizons 1
// and 12, LSTM and GRU. Not a test, not a benchmark to keep: it chose the defaults.
//
//   node bin/ts.mjs scripts/bench/recipe-sweep.ts [--data a,b] [--variants v1,v2] [--cells lstm,gru] [--horizons 1,12] [--seeds 1]
//
// One JSON line per run on stdout; a summary table on stderr at the end.
import { readCsv } from '../../src/io/csv.js';
import { columnsFromCsv } from '../../src/cli/commands/train.js';
import { buildDataset, train, type TrainOptions } from '../../src/train/index.js';

interface DataSpec { name: string; file: string; device?: string; inputs: string[]; targets: string[]; seqLen: number; val: number }
const DATA: DataSpec[] = [
  { name: 'single-hop', file: 'firmware-sim/data/suthaharan-single-hop.csv', device: 'mote_id', inputs: ['temperature', 'humidity'], targets: ['temperature', 'humidity'], seqLen: 50, val: 0.2 },
  { name: 'multi-hop', file: 'scripts/bench/data/suthaharan-multi-hop.csv', device: 'mote_id', inputs: ['temperature', 'humidity'], targets: ['temperature', 'humidity'], seqLen: 50, val: 0.2 },
  { name: 'seattle', file: 'scripts/bench/data/seattle-hourly-normals.csv', inputs: ['pressure', 'temperature', 'wind'], targets: ['temperature'], seqLen: 50, val: 0.2 },
  { name: 'seattle-t', file: 'scripts/bench/data/seattle-hourly-normals.csv', inputs: ['temperature'], targets: ['temperature'], seqLen: 50, val: 0.2 },
  { name: 'co2', file: 'scripts/bench/data/mauna-loa-co2.csv', inputs: ['CO2'], targets: ['CO2'], seqLen: 24, val: 0.2 },
];

type Variant = { residual: boolean } & Partial<TrainOptions>;
// The "old" (levels, tail lanes walked in order, random init) and "lanes" columns of the
// table in docs/training.md were measured with this script at commit b478a1a, which still
// had the lane recipe; it was deleted when the windows recipe measured better.
const VARIANTS: Record<string, Variant> = {
  // The defaults (TrainOptions left as the trainer fills them in).
  default: { residual: true },
  'no-p0': { residual: true, persistenceStart: false },
  'no-margin': { residual: true, startMargin: 0 },
  'min1': { residual: true, minSteps: 1 },
  cos: { residual: true, schedule: 'cosine' },
  plat: { residual: true, schedule: 'plateau', patience: 6 },
  b4: { residual: true, batch: 4 },
  burn0: { residual: true, burnIn: 0 },
  x2: { residual: true, passes: 2 },
  lr2: { residual: true, lr: 0.002 },
  pat10: { residual: true, patience: 10, epochs: 60 },
  level: { residual: false },
  h16: { residual: true, hidden: 16 },
  h64: { residual: true, hidden: 64 },
};

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return (i > 0 ? process.argv[i + 1] : dflt).split(',');
};
const dataNames = arg('data', DATA.map((d) => d.name).join(','));
const variants = arg('variants', 'default,no-p0,burn0,level');
const cells = arg('cells', 'lstm,gru') as ('lstm' | 'gru')[];
const horizons = arg('horizons', '1,12').map(Number);
const seeds = arg('seeds', '1').map(Number);
const epochs = Number(arg('epochs', '30')[0]);

const rows: { data: string; h: number; cell: string; variant: string; ratio: number; secs: number }[] = [];
for (const d of DATA.filter((x) => dataNames.includes(x.name))) {
  const cols = columnsFromCsv(readCsv(d.file), { inputs: d.inputs, target: d.targets, ...(d.device ? { deviceColumn: d.device } : {}) });
  for (const h of horizons) {
    for (const cell of cells) {
      for (const v of variants) {
        const spec = VARIANTS[v];
        if (!spec) throw new Error(`no variant ${v}`);
        for (const seed of seeds) {
          const { residual, ...over } = spec;
          const opts: TrainOptions = { name: 'sweep', cell, hidden: 32, layers: 1, seqLen: d.seqLen, batch: 8, epochs, lr: 0.005, clip: 1, patience: 5, seed, ...over };
          const ds = buildDataset({
            inputNames: d.inputs, inputs: cols.inputs, ...(cols.devices ? { devices: cols.devices } : {}),
            target: { task: 'regression', targetNames: d.targets, targets: cols.targets, horizon: h, ...(residual ? { residual: true } : {}) },
            valFraction: d.val, seqLen: opts.seqLen,
          });
          const t0 = performance.now();
          const r = train(ds, opts);
          const secs = (performance.now() - t0) / 1000;
          const m = r.metrics;
          if (m.task !== 'regression') throw new Error('regression expected');
          // Mean over targets of RMSE / persistence RMSE (< 1: better than persistence).
          const ratio = m.targets.reduce((a, t) => a + t.rmse / t.persistenceRmse, 0) / m.targets.length;
          const line = {
            data: d.name, h, cell, variant: v, seed, ratio: Number(ratio.toFixed(4)), secs: Number(secs.toFixed(1)),
            bestEpoch: r.bestEpoch, epochsRun: r.epochsRun,
            rmse: m.targets.map((t) => Number(t.rmse.toPrecision(4))), persistence: m.targets.map((t) => Number(t.persistenceRmse.toPrecision(4))),
          };
          process.stdout.write(JSON.stringify(line) + '\n');
          rows.push({ data: d.name, h, cell, variant: v, ratio, secs });
        }
      }
    }
  }
}
// Summary: ratio (mean over seeds) per data/h/cell x variant.
const keys = [...new Set(rows.map((r) => `${r.data} h${r.h} ${r.cell}`))];
process.stderr.write(`| case | ${variants.join(' | ')} |\n|---|${variants.map(() => '---:').join('|')}|\n`);
for (const k of keys) {
  const cellsOut = variants.map((v) => {
    const rs = rows.filter((r) => `${r.data} h${r.h} ${r.cell}` === k && r.variant === v);
    const mean = (f: (x: typeof rs[0]) => number) => rs.reduce((a, x) => a + f(x), 0) / rs.length;
    return rs.length ? `${mean((x) => x.ratio).toFixed(3)} (${mean((x) => x.secs).toFixed(0)} s)` : '';
  });
  process.stderr.write(`| ${k} | ${cellsOut.join(' | ')} |\n`);
}
