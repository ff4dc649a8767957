// Baselines on the bench data sets: persistence, seasonal persistence and the linear AR
// (k, lambda chosen on the training split), validation RMSE at horizons 1 and 12, with the
// chosen period, lags and ridge. `node bin/ts.mjs scripts/bench/bench-baselines.ts [--val-mode blocks]`
import { readCsv } from '../../src/io/csv.js';
import { columnsFromCsv } from '../../src/cli/commands/train.js';
import { buildDataset } from '../../src/train/dataset.js';
import { scoreBaselines } from '../../src/train/baselines.js';

interface Set { name: string; file: string; inputs: string[]; target: string[]; deviceColumn?: string; residual?: boolean }
const sets: Set[] = [
  { name: 'single-hop motes', file: 'firmware-sim/data/suthaharan-single-hop.csv', inputs: ['temperature', 'humidity'], target: ['temperature'], deviceColumn: 'mote_id' },
  { name: 'multi-hop motes', file: 'scripts/bench/data/suthaharan-multi-hop.csv', inputs: ['temperature', 'humidity'], target: ['temperature'], deviceColumn: 'mote_id' },
  { name: 'Seattle hourly', file: 'scripts/bench/data/seattle-hourly-normals.csv', inputs: ['pressure', 'temperature', 'wind'], target: ['temperature'] },
  { name: 'Mauna Loa CO2', file: 'scripts/bench/data/mauna-loa-co2.csv', inputs: ['CO2'], target: ['CO2'] },
];
const args = process.argv.slice(2);
const residual = args.includes('--residual');
const blocks = args.includes('--val-mode') ? args[args.indexOf('--val-mode') + 1] === 'blocks' : false;
const f = (v: number) => v.toPrecision(4);
console.log(`| data | h | persistence | seasonal (P) | linear AR (k, λ) | ms |`);
console.log('|---|---:|---:|---:|---:|---:|');
for (const s of sets) {
  const cols = columnsFromCsv(readCsv(s.file), { inputs: s.inputs, target: s.target, ...(s.deviceColumn ? { deviceColumn: s.deviceColumn } : {}) });
  for (const h of [1, 12]) {
    const ds = buildDataset({
      inputNames: s.inputs, inputs: cols.inputs, ...(cols.devices ? { devices: cols.devices } : {}),
      target: { task: 'regression', targetNames: s.target, targets: cols.targets, horizon: h, ...(residual ? { residual: true } : {}) },
      valFraction: 0.2, seqLen: 50, ...(blocks ? { valMode: 'blocks' } : {}),
    } as Parameters<typeof buildDataset>[0]);
    const t0 = performance.now();
    const b = scoreBaselines(ds);
    const ms = performance.now() - t0;
    const by = (k: string) => b.list.find((x) => x.kind === k);
    const p = by('persistence')!, se = by('seasonal'), ar = by('linear-ar')!;
    console.log(`| ${s.name} | ${h} | ${f(p.rmse[0])} | ${se ? `${f(se.rmse[0])} (${se.period}${b.period!.source === 'found' ? `, r=${b.period!.autocorrelation!.toFixed(2)}` : ''})` : '—'} | ${f(ar.rmse[0])} (${ar.lags}, ${ar.ridge}) | ${ms.toFixed(0)} |`);
  }
}
