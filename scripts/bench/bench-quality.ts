// `npm run bench:quality`: what the default `train` (and `train --search`) reaches against
// the simple baselines, on four real series and horizons 1 and 12, with issue 15's targets
// checked. Benchmark, not test: it trains for minutes and writes the "bench:quality"
// section of BENCHMARKS.md (between markers, replaced on every run).
//
// Each run goes through the CLI's own option parsing (the `train` command with its action
// swapped for a capture), so "default" means exactly what `edge-rnn train` does with only
// the data flags, and runTrain trains in-process into a temporary directory. Baselines
// (persistence, seasonal persistence, the linear AR) are scored by src/train/baselines.ts on
// the default run's dataset: the same validation steps as the model.
//
// Flags: --quick (3 epochs, search budget 10 s), --budget SECONDS (search budget, default 60),
// --only NAME (one data set), BENCH_REPORT=0 to print without writing BENCHMARKS.md.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerTrain, runTrain, type TrainCliOptions, type TrainRun } from '../../src/cli/commands/train.js';
import { initGiven } from '../../src/cli/commands/train-init.js';
import { scoreBaselines, type BaselineKind } from '../../src/train/baselines.js';

interface DataSet {
  readonly name: string;
  readonly file: string;
  readonly inputs: string;
  readonly target: string;
  readonly deviceColumn?: string;
  readonly extra?: readonly string[];
  readonly why: string;
}

const DATA: readonly DataSet[] = [
  { name: 'motes single-hop', file: 'firmware-sim/data/suthaharan-single-hop.csv', inputs: 'temperature,humidity', target: 'temperature,humidity', deviceColumn: 'mote_id', why: 'the shipped forecaster\'s data' },
  { name: 'motes multi-hop', file: 'scripts/bench/data/suthaharan-multi-hop.csv', inputs: 'temperature,humidity', target: 'temperature,humidity', deviceColumn: 'mote_id', why: 'noisy network with labelled events; persistence is hard to beat' },
  { name: 'Seattle hourly', file: 'scripts/bench/data/seattle-hourly-normals.csv', inputs: 'pressure,temperature,wind', target: 'temperature', why: 'hourly weather with a daily cycle; the issue\'s 5-8x case' },
  { name: 'Mauna Loa CO2', file: 'scripts/bench/data/mauna-loa-co2.csv', inputs: 'CO2', target: 'CO2', extra: ['--seq-len', '24'], why: 'monthly, trend plus a yearly cycle, 741 rows' },
];
const HORIZONS = [1, 12];

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const value = (name: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1] : undefined; };
const QUICK = flag('quick');
const BUDGET = Number(value('budget') ?? (QUICK ? 10 : 60));
const ONLY = value('only');

/** The options `edge-rnn train <args>` would run with (defaults and value sources as the CLI's). */
function cliOptions(args: readonly string[]): { options: TrainCliOptions; hasSearch: boolean } {
  const program = new Command().exitOverride();
  registerTrain(program);
  const cmd = program.commands.find((c) => c.name() === 'train')!;
  let options: TrainCliOptions | undefined;
  cmd.action((opts: TrainCliOptions, c: Command) => { options = { ...opts, initGiven: initGiven(c) }; });
  program.parse(['train', ...args], { from: 'user' });
  return { options: options!, hasSearch: cmd.options.some((o) => o.long === '--search') };
}

interface Timed { run: TrainRun; seconds: number }

function timedTrain(args: readonly string[], dir: string, tag: string): Timed {
  const { options } = cliOptions([...args, '--no-progress', '--seed', '1', '-o', join(dir, `${tag}.msgpack`)]);
  const t0 = performance.now();
  const run = runTrain(options);
  return { run, seconds: (performance.now() - t0) / 1000 };
}

const rmseOf = (r: TrainRun) => (r.result.metrics.task === 'regression' ? r.result.metrics.targets.map((t) => t.rmse) : []);
const f4 = (v: number | undefined) => (v === undefined ? '—' : Number(v.toPrecision(4)).toString());

interface Row {
  data: string; horizon: number; target: string;
  base: Partial<Record<BaselineKind, number>>; arLags?: number; period?: number;
  def: number; defSeconds: number; defStart: string;
  search?: number; searchSeconds?: number;
  check: string;
}

/** The issue's targets for one target row. */
function checkTargets(r: Omit<Row, 'check'>): string {
  const pers = r.base.persistence!, ar = r.base['linear-ar'], seas = r.base.seasonal;
  if (ar !== undefined && ar < 0.8 * pers) {
    const d = r.def <= 1.5 * ar ? `default ≤ 1.5×AR: pass (${(r.def / ar).toFixed(2)}×)` : `default ≤ 1.5×AR: **fail** (${(r.def / ar).toFixed(2)}×)`;
    const s = r.search === undefined ? 'search ≤ AR: not run' : r.search <= ar ? `search ≤ AR: pass (${(r.search / ar).toFixed(2)}×)` : `search ≤ AR: **fail** (${(r.search / ar).toFixed(2)}×)`;
    return `${d}; ${s}`;
  }
  const beaten = [ar, seas].some((v) => v !== undefined && v < pers);
  if (!beaten) return r.def <= 1.02 * pers ? `default ≤ 1.02×persistence: pass (${(r.def / pers).toFixed(3)}×)` : `default ≤ 1.02×persistence: **fail** (${(r.def / pers).toFixed(3)}×)`;
  return `no target (a baseline beats persistence by < 20 %); default ${(r.def / pers).toFixed(3)}× persistence`;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'bench-quality-'));
  const rows: Row[] = [];
  const hasSearch = cliOptions(['-d', 'x', '--inputs', 'a', '--target', 'a']).hasSearch;
  const quickArgs = QUICK ? ['--epochs', '3'] : [];
  try {
    for (const d of DATA) {
      if (ONLY && !d.name.toLowerCase().includes(ONLY.toLowerCase())) continue;
      for (const h of HORIZONS) {
        const args = ['-d', d.file, '--inputs', d.inputs, '--target', d.target, '--horizon', String(h),
          ...(d.deviceColumn ? ['--device-column', d.deviceColumn] : []), ...(d.extra ?? []), ...quickArgs];
        const tag = `${d.name.replace(/\W+/g, '-')}-h${h}`;
        const def = timedTrain(args, dir, `${tag}-default`);
        const baselines = scoreBaselines(def.run.dataset);
        const search = hasSearch ? timedTrain([...args, '--search', String(BUDGET)], dir, `${tag}-search`) : undefined;
        const names = def.run.dataset.outputNames;
        names.forEach((target, o) => {
          const base: Row['base'] = {};
          for (const b of baselines.list) base[b.kind] = b.rmse[o];
          const ar = baselines.list.find((b) => b.kind === 'linear-ar');
          const row: Omit<Row, 'check'> = {
            data: d.name, horizon: h, target, base, ...(ar?.lags !== undefined ? { arLags: ar.lags } : {}),
            ...(baselines.period ? { period: baselines.period.steps } : {}),
            def: rmseOf(def.run)[o], defSeconds: def.seconds, defStart: def.run.start?.start ?? '?',
            ...(search ? { search: rmseOf(search.run)[o], searchSeconds: search.seconds } : {}),
          };
          rows.push({ ...row, check: checkTargets(row) });
          const last = rows[rows.length - 1];
          process.stderr.write(`${d.name} h${h} ${target}: persistence ${f4(base.persistence)} seasonal ${f4(base.seasonal)} AR ${f4(base['linear-ar'])} ` +
            `default ${f4(last.def)} (${last.defSeconds.toFixed(1)} s, ${last.defStart}) search ${f4(last.search)} | ${last.check}\n`);
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  report(rows, hasSearch);
}

function report(rows: readonly Row[], hasSearch: boolean): void {
  const lines = [
    '## bench:quality', '',
    'Validation RMSE in the data\'s units (the model card\'s numbers) of the simple baselines, the default `train` (only the data flags given) and',
    `\`train --search ${BUDGET}\`, with training wall time; the baselines are scored on the same validation steps (src/train/baselines.ts).`,
    'Targets (issue 15): where the linear AR beats persistence by more than 20 %, the default is within 1.5× of the AR\'s RMSE and the search',
    'matches or beats it; where no baseline beats persistence, the default is at most 2 % worse than persistence. "start": where the default\'s',
    'weights started (`--init auto`: linear-ar or persistence, chosen on the training split).', '',
    'Data: ' + DATA.map((d) => `${d.name} (\`${d.file}\`: ${d.why})`).join('; ') + '.', '',
    `Machine: ${cpus()[0]?.model ?? '?'} (${cpus().length} cores), one thread. Run: \`npm run bench:quality${QUICK ? ' -- --quick' : ''}\`${QUICK ? ' (quick: 3 epochs, not the defaults)' : ''}, ${new Date().toISOString().slice(0, 10)}.`,
    ...(hasSearch ? [] : ['', '`train --search` is not available in this build: its column is empty.']),
    '',
    '| data | h | target | persistence | seasonal | linear AR (k) | default | time s | start | search | time s | targets |',
    '|---|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.data} | ${r.horizon} | ${r.target} | ${f4(r.base.persistence)} | ${r.base.seasonal === undefined ? '—' : `${f4(r.base.seasonal)} (${r.period})`} | ` +
      `${f4(r.base['linear-ar'])}${r.arLags ? ` (${r.arLags})` : ''} | ${f4(r.def)} | ${r.defSeconds.toFixed(1)} | ${r.defStart} | ${f4(r.search)} | ${r.searchSeconds?.toFixed(1) ?? '—'} | ${r.check} |`);
  }
  const section = lines.join('\n') + '\n';
  process.stdout.write(section);
  if (process.env.BENCH_REPORT === '0' || ONLY) return;
  const path = 'BENCHMARKS.md', start = '<!-- bench:quality -->', end = '<!-- /bench:quality -->';
  let doc = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const block = `${start}\n${section}${end}`;
  const re = new RegExp(`${start}[\\s\\S]*?${end}`);
  doc = re.test(doc) ? doc.replace(re, block) : doc.replace(/\n*$/, '\n\n') + block + '\n';
  writeFileSync(path, doc);
  process.stderr.write(`wrote the bench:quality section of ${path}\n`);
}

main();
