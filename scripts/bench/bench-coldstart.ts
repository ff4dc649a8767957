// npm run bench:coldstart — how long the bundle takes from process start to its first
// prediction: `node edge-rnn.mjs predict` on a small CSV (the bundle alone in a folder, as
// on a device), timed from spawn to the first JSON line on stdout and to exit. Next to it,
// in the same interleaved rounds: a bare `node -e 0` (the floor no script can beat),
// `--help`, and the same predict through the checkout's TypeScript loader (tsx).
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundle } from '../bundle.js';
import { summarize } from './stats.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const ROWS = Number(process.env.BENCH_ROWS ?? 20);
const ROOT = new URL('../../', import.meta.url).pathname;

interface Timing {
  firstLineMs: number;
  exitMs: number;
}

/** Spawns node with args in cwd; ms from spawn to the first stdout line and to exit. */
function timeRun(args: string[], cwd: string): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let firstLineMs = NaN;
    let stderr = '';
    const p = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
    p.stdout.on('data', (d: Buffer) => {
      if (Number.isNaN(firstLineMs) && d.includes(10)) firstLineMs = performance.now() - t0;
    });
    p.stderr.on('data', (d) => (stderr += d));
    p.once('error', reject);
    p.once('exit', (code) => {
      const exitMs = performance.now() - t0;
      if (code !== 0) reject(new Error(`node ${args.join(' ')} exited with ${code}: ${stderr}`));
      else resolve({ firstLineMs: Number.isNaN(firstLineMs) ? exitMs : firstLineMs, exitMs });
    });
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'edge-rnn-coldstart-'));
try {
  const report = await bundle(join(tmp, 'build', 'edge-rnn.mjs'));
  const app = join(tmp, 'app');
  mkdirSync(app);
  copyFileSync(report.outfile, join(app, 'edge-rnn.mjs'));
  copyFileSync(join(ROOT, 'models/example-lstm.msgpack'), join(app, 'model.msgpack'));
  const csv = readFileSync(join(ROOT, 'models/sample-readings.csv'), 'utf8').trim().split('\n').slice(0, ROWS + 1);
  writeFileSync(join(app, 'small.csv'), csv.join('\n') + '\n');

  const predict = ['predict', '--model', 'model.msgpack', '--data', 'small.csv', '--device-column', 'mote_id', '--json'];
  const cases: { name: string; args: string[] }[] = [
    { name: 'node -e 0', args: ['-e', '0'] },
    { name: 'bundle --help', args: ['edge-rnn.mjs', '--help'] },
    { name: `bundle predict (${ROWS} rows)`, args: ['edge-rnn.mjs', ...predict] },
    { name: `source via tsx predict (${ROWS} rows)`, args: [join(ROOT, 'bin/edge-rnn.mjs'), ...predict] },
  ];
  const samples = cases.map(() => ({ first: [] as number[], exit: [] as number[] }));
  for (const c of cases) await timeRun(c.args, app); // warm the file cache once
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, c] of cases.entries()) {
      const t = await timeRun(c.args, app);
      samples[i].first.push(t.firstLineMs);
      samples[i].exit.push(t.exitMs);
    }
  }

  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log(`bench:coldstart — ${cpu}, ${cpus().length} cores, Node ${process.version}, ${process.platform}-${process.arch}`);
  console.log(`bundle ${(report.bytes / 1024).toFixed(1)} KiB; ${ROUNDS} interleaved rounds; wall time from spawn, ms\n`);
  console.log('| run | first output line, median | p90 | exit, median | p90 | over node -e 0 (first line) |');
  console.log('|---|---|---|---|---|---|');
  const floor = summarize(samples[0].first).median;
  for (const [i, c] of cases.entries()) {
    const f = summarize(samples[i].first);
    const e = summarize(samples[i].exit);
    const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.round(0.9 * (xs.length - 1)))];
    const first = i === 0 ? '—' : f.median.toFixed(1);
    const over = i === 0 ? '—' : `+${(f.median - floor).toFixed(1)}`;
    console.log(`| ${c.name} | ${first} | ${i === 0 ? '—' : p90(samples[i].first).toFixed(1)} | ${e.median.toFixed(1)} | ${p90(samples[i].exit).toFixed(1)} | ${over} |`);
  }
  console.log('\n"first output line" for predict is the first prediction; node -e 0 prints nothing, so its exit is the floor.');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
