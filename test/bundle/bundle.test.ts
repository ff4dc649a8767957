// The deployable bundle, alone in an empty folder (no node_modules, as on a device): it must
// answer exactly like the CLI run from source, and `run` must serve predictions through a
// real broker. Builds the bundle with scripts/bundle.ts into a temporary folder.
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle, DEVICE_FORBIDDEN, DEVICE_SIZE_BUDGET_BYTES, FORBIDDEN, ownerOf, SIZE_BUDGET_BYTES, type BundleReport } from '../../scripts/bundle.js';
import { freePort, startBroker, type TestBroker } from '../helpers/broker.js';
import { collect, connect, offlinePredictions, publishReadings, sensorRows, uniqueId, waitFor, type Received } from '../e2e/support.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/edge-rnn.mjs');
const MODEL = join(ROOT, 'models/example-lstm.msgpack');
const CSV = join(ROOT, 'models/sample-readings.csv');

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function node(args: string[], cwd: string): Promise<Ran> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, { cwd, maxBuffer: 64 << 20, env: { ...process.env, NODE_OPTIONS: '' } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof err.code !== 'number') throw e;
    return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

const listed = (help: string) => [...help.matchAll(/^  ([a-z]+) /gm)].map((m) => m[1]).filter((c) => c !== 'help');

/** Runs a shell command in a pseudo-terminal of 40x120 (util-linux `script`); all it printed. */
async function inPty(command: string, cwd: string): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await promisify(execFile)('script', ['-qefc', `stty rows 40 cols 120; ${command}`, '/dev/null'], { cwd, maxBuffer: 64 << 20, env: { ...process.env, NODE_OPTIONS: '', TERM: 'xterm' } });
    return { code: 0, out: stdout };
  } catch (e) {
    const err = e as { code?: number; stdout?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, out: err.stdout ?? String(e) };
  }
}

/** log-update redrew the demo's table in place: it erased lines (ESC[2K, ESC[1A) between frames. */
function liveViewRendered(out: string): boolean {
  return out.includes('edge-rnn demo:') && out.includes('\u001b[?25l') && /\u001b\[2K\u001b\[1A/.test(out) && /device +seq +reading/.test(out);
}

/** `run` of the bundle `file` in `app`: one prediction per reading through a real broker, equal to predict; exit 0 on SIGTERM. */
async function servesThroughBroker(broker: TestBroker, app: string, file: string): Promise<void> {
  const N = 3;
  const M = 20;
  const rows = sensorRows(N, M, 7);
  const reference = offlinePredictions(rows);
  const instance = uniqueId('bundle');
  const statusTopic = `edge-rnn/${instance}/status`;
  const sink = await collect(broker.url, broker.mqttVersion, ['predictions/+', statusTopic]);
  const proc = spawn(process.execPath, [file, 'run', '--broker', broker.url, '--model', 'model.msgpack', '--instance', instance,
    '--mqtt-version', String(broker.mqttVersion), '--health-interval', '0', '--log-level', 'warn'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  let output = '';
  proc.stdout.on('data', (d) => (output += d));
  proc.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const status = (state: string) => (m: Received) => m.topic === statusTopic && m.doc.state === state;
  try {
    await waitFor(`online status (runtime output: ${output})`, () => sink.messages.some(status('online')) || proc.exitCode !== null);
    expect(proc.exitCode, output).toBe(null);
    const pub = await connect(broker.url, broker.mqttVersion);
    await publishReadings(pub, rows);
    const predictions = () => sink.messages.filter((m) => m.topic.startsWith('predictions/'));
    await waitFor('N×M predictions', () => predictions().length >= N * M);
    await pub.endAsync();

    const ref = await reference;
    expect(predictions()).toHaveLength(N * M);
    for (const { topic, doc } of predictions()) {
      expect(topic).toBe(`predictions/${doc.device}`);
      const want = ref.get(doc.device)![doc.seq];
      expect(doc.y.temperature).toBe(want[0]);
      expect(doc.y.humidity).toBe(want[1]);
    }
  } finally {
    proc.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  await waitFor('offline status', () => sink.messages.some(status('offline')), 5_000);
  await sink.client.endAsync();
}

describe('one-file bundle', () => {
  let tmp: string;
  let app: string; // the bundle alone, with the model and CSV as a user would copy them
  let report: BundleReport;
  const bundled = (...args: string[]) => node(['edge-rnn.mjs', ...args], app);
  const source = (...args: string[]) => node([CLI, ...args], app);

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'edge-rnn-bundle-'));
    report = await bundle(join(tmp, 'build', 'edge-rnn.mjs'));
    app = join(tmp, 'app');
    mkdirSync(app);
    copyFileSync(report.outfile, join(app, 'edge-rnn.mjs'));
    copyFileSync(MODEL, join(app, 'model.msgpack'));
    copyFileSync(CSV, join(app, 'readings.csv'));
  }, 30_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('is one self-contained ESM file for Node 18 with no tooling or native addon inside', () => {
    const code = readFileSync(report.outfile, 'utf8');
    expect(code.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(existsSync(`${report.outfile}.map`)).toBe(true);
    expect(report.bytes).toBeLessThanOrEqual(SIZE_BUDGET_BYTES);
    const owners = new Set(report.inputs.map(ownerOf));
    for (const f of FORBIDDEN) expect(owners.has(f), f).toBe(false);
    for (const dep of ['commander', 'msgpackr', 'csv-parse']) expect(owners.has(dep), dep).toBe(true);
    // Nothing but Node built-ins is left to load at run time.
    for (const e of report.externals) expect(e, e).toMatch(/^(node:)?[a-z_]+(\/[a-z_]+)?$/);
    expect(report.externals.some((e) => e.includes('msgpackr') || e.includes('tsx') || e.includes('vitest'))).toBe(false);
    // RxJS comes from its ES module build, tree-shaken to the few operators in use.
    const rx = report.inputs.filter((i) => ownerOf(i) === 'rxjs');
    if (rx.length) {
      expect(rx.every((i) => i.includes('rxjs/dist/esm/'))).toBe(true);
      expect(report.packages.find((p) => p.name === 'rxjs')!.bytes).toBeLessThan(40 * 1024);
    }
  });

  it('--help lists the same commands as the CLI from source', async () => {
    const [b, s] = await Promise.all([bundled('--help'), source('--help')]);
    expect(b.code).toBe(0);
    expect(b.stdout).toContain('predict');
    expect(b.stdout).toBe(s.stdout);
    const [bp, sp] = await Promise.all([bundled('predict', '--help'), source('predict', '--help')]);
    expect(bp.stdout).toBe(sp.stdout);
  }, 20_000);

  it('inspect --json gives what the CLI from source gives', async () => {
    const [b, s] = await Promise.all([bundled('inspect', 'model.msgpack', '--json'), source('inspect', 'model.msgpack', '--json')]);
    expect(b.code).toBe(0);
    expect(JSON.parse(b.stdout).name).toBeTypeOf('string');
    expect(b.stdout).toBe(s.stdout);
  }, 20_000);

  it('predict --json gives the same lines as the CLI from source, per device and as one stream', async () => {
    const args = ['predict', '--model', 'model.msgpack', '--data', 'readings.csv', '--json'];
    const [b, s, b1, s1] = await Promise.all([
      bundled(...args, '--device-column', 'mote_id'), source(...args, '--device-column', 'mote_id'), bundled(...args), source(...args),
    ]);
    expect(b.code).toBe(0);
    const lines = b.stdout.trim().split('\n');
    expect(lines.length).toBe(readFileSync(CSV, 'utf8').trim().split('\n').length - 1);
    expect(JSON.parse(lines[0]).y).toHaveLength(2);
    expect(b.stdout).toBe(s.stdout);
    expect(b1.stdout).toBe(s1.stdout);
    expect(b1.stdout).not.toBe(b.stdout); // one stream vs per device: the state matters
  }, 20_000);

  it('reports user errors with the same message and exit code', async () => {
    const [b, s] = await Promise.all([
      bundled('predict', '--model', 'missing.msgpack', '--data', 'readings.csv'),
      source('predict', '--model', 'missing.msgpack', '--data', 'readings.csv'),
    ]);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain('missing.msgpack');
    expect([b.code, b.stderr]).toEqual([s.code, s.stderr]);
  }, 20_000);

  it('never loads the optional native msgpackr-extract, even when one is installed beside it', async () => {
    // A decoy that leaves a mark when loaded: the bundle must not even try it.
    const dir = join(tmp, 'decoy');
    for (const name of ['msgpackr-extract', 'supports-color']) {
      const pkg = join(dir, 'node_modules', name);
      mkdirSync(pkg, { recursive: true });
      writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name, main: 'index.js' }));
      writeFileSync(join(pkg, 'index.js'), `require('fs').writeFileSync(${JSON.stringify(join(dir, `LOADED-${name}`))}, ''); module.exports = {};`);
    }
    copyFileSync(report.outfile, join(dir, 'edge-rnn.mjs'));
    const r = await node(['edge-rnn.mjs', 'predict', '--model', MODEL, '--data', CSV, '--json'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').length).toBeGreaterThan(100);
    expect(existsSync(join(dir, 'LOADED-msgpackr-extract'))).toBe(false);
    expect(existsSync(join(dir, 'LOADED-supports-color'))).toBe(false);
  }, 20_000);

  it('starts without the RegExp v flag (Node 18 has none): every command, the demo and its live view', async () => {
    // Node 20 can switch the flag off, which makes it parse like Node 18 here.
    const flag = '--no-harmony-regexp-unicode-sets';
    const probe = await node([flag, '-e', "new RegExp('a', 'v')"], app);
    expect(probe.code, 'this Node cannot switch the v flag off').not.toBe(0);
    expect(probe.stderr).toContain('Invalid flags');
    const help = await node([flag, 'edge-rnn.mjs', '--help'], app);
    expect(help.code, help.stderr).toBe(0);
    const p = await node([flag, 'edge-rnn.mjs', 'predict', '--model', 'model.msgpack', '--data', 'readings.csv', '--json'], app);
    expect(p.code, p.stderr).toBe(0);
    copyFileSync(join(ROOT, 'models/mote-forecaster.msgpack'), join(app, 'forecaster.msgpack'));
    const demo = await node([flag, 'edge-rnn.mjs', 'demo', '--model', 'forecaster.msgpack', '--source', 'synthetic', '--nodes', '2', '--count', '10', '--speed', 'max', '--no-live', '--json'], app);
    expect(demo.code, demo.stderr).toBe(0);
    expect(JSON.parse(demo.stdout).summary.predictions).toBe(20);
    // The live view (log-update) in a pseudo-terminal of known size.
    const live = await inPty(`${process.execPath} ${flag} edge-rnn.mjs demo --model forecaster.msgpack --source synthetic --nodes 2 --count 10 --speed 200 --refresh 50`, app);
    expect(live.code, live.out).toBe(0);
    expect(live.out).not.toContain('needs a newer Node');
    expect(liveViewRendered(live.out), live.out).toBe(true);
  }, 30_000);

  it('finds its shipped data beside itself from any working folder, with a clear error when it is missing', async () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty, { recursive: true });
    const built = report.outfile;
    const data = join(tmp, 'build', 'edge-rnn-data');
    const run = (...args: string[]) => node([built, ...args], empty);
    expect(report.data.map((d) => d.slice(data.length + 1)).sort()).toEqual(['mote-forecaster.msgpack', 'suthaharan-single-hop.README.md', 'suthaharan-single-hop.csv']);
    // Every command's --help from an empty folder.
    for (const cmd of [...listed((await run('--help')).stdout), 'help']) {
      const h = await run(cmd, '--help');
      expect(h.code, `${cmd} --help: ${h.stderr}`).toBe(0);
      expect(h.stdout, cmd).toContain('Usage: edge-rnn');
    }
    // sim and demo show and use the copies beside the bundle, not a path of the checkout.
    const simHelp = (await run('sim', '--help')).stdout.replace(/\s+/g, ' ');
    expect(simHelp).toContain(`default: "${join(data, 'suthaharan-single-hop.csv')}"`);
    const demoHelp = (await run('demo', '--help')).stdout.replace(/\s+/g, ' ');
    expect(demoHelp).toContain(join(data, 'mote-forecaster.msgpack'));
    const plan = await run('sim', '--print-plan', '--count', '2');
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout.trim().split('\n').filter((l) => JSON.parse(l).kind === 'publish')).toHaveLength(8); // 4 motes x 2
    const demo = await run('demo', '--count', '3', '--speed', 'max', '--no-live', '--json');
    expect(demo.code, demo.stderr).toBe(0);
    const d = JSON.parse(demo.stdout);
    expect(d.model).toBe(join(data, 'mote-forecaster.msgpack'));
    expect(d.summary.readings).toBe(12);
    // The bundle alone, without its data folder: a one-line error naming what to do.
    const alone = join(tmp, 'alone');
    mkdirSync(alone, { recursive: true });
    copyFileSync(built, join(alone, 'edge-rnn.mjs'));
    const noModel = await node(['edge-rnn.mjs', 'demo', '--no-live', '--count', '1'], alone);
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toBe(`edge-rnn: demo: cannot read model ${join(alone, 'edge-rnn-data', 'mote-forecaster.msgpack')}: no such file (shipped beside the bundle in edge-rnn-data/ by npm run bundle: copy that folder next to it, or pass --model FILE)\n`);
    const noData = await node(['edge-rnn.mjs', 'sim', '--print-plan', '--count', '1'], alone);
    expect(noData.code).toBe(1);
    expect(noData.stderr).toBe(`edge-rnn: cannot read mote data ${join(alone, 'edge-rnn-data', 'suthaharan-single-hop.csv')}: ENOENT (shipped beside the bundle in edge-rnn-data/ by npm run bundle: copy that folder next to it, or pass --data FILE)\n`);
    // Synthetic signals need no data file.
    expect((await node(['edge-rnn.mjs', 'sim', '--print-plan', '--count', '1', '--source', 'synthetic'], alone)).code).toBe(0);
  }, 60_000);

  describe('run', () => {
    let broker: TestBroker;
    beforeAll(async () => {
      broker = await startBroker();
    }, 20_000);
    afterAll(async () => {
      await broker?.close();
    });

    it('serves a prediction per reading through a broker, equal to predict, and stops cleanly on SIGTERM', () => servesThroughBroker(broker, app, 'edge-rnn.mjs'), 30_000);
  });
});

// The device bundle (issue 17): only run, predict, inspect, keygen and push; the same answers
// as the full bundle for those, and a one-line refusal for the full CLI's commands.
describe('device bundle', () => {
  let tmp: string;
  let app: string;
  let device: BundleReport;
  let full: BundleReport;
  const dev = (...args: string[]) => node(['edge-rnn-device.mjs', ...args], app);
  const fullCli = (...args: string[]) => node(['edge-rnn.mjs', ...args], app);
  const DEVICE_CMDS = ['inspect', 'predict', 'keygen', 'push', 'run', 'status'];
  const FULL_ONLY = ['train', 'quantize', 'sim', 'demo', 'import'];

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'edge-rnn-device-'));
    [device, full] = await Promise.all([bundle(join(tmp, 'build', 'edge-rnn-device.mjs'), 'device'), bundle(join(tmp, 'build', 'edge-rnn.mjs'), 'full')]);
    app = join(tmp, 'app');
    mkdirSync(app);
    copyFileSync(device.outfile, join(app, 'edge-rnn-device.mjs'));
    copyFileSync(full.outfile, join(app, 'edge-rnn.mjs'));
    copyFileSync(MODEL, join(app, 'model.msgpack'));
    copyFileSync(CSV, join(app, 'readings.csv'));
  }, 60_000);
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('is within its own budget, well under the full bundle, with no training, simulator or demo code inside', () => {
    expect(device.variant).toBe('device');
    expect(device.budget).toBe(DEVICE_SIZE_BUDGET_BYTES);
    expect(device.bytes).toBeLessThanOrEqual(DEVICE_SIZE_BUDGET_BYTES);
    expect(DEVICE_SIZE_BUDGET_BYTES).toBeLessThan(0.75 * SIZE_BUDGET_BYTES);
    expect(device.bytes).toBeLessThan(full.bytes - 150 * 1024);
    expect(readFileSync(device.outfile, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const owners = new Set(device.inputs.map(ownerOf));
    for (const f of DEVICE_FORBIDDEN) expect(owners.has(f), f).toBe(false);
    for (const dep of ['commander', 'msgpackr', 'csv-parse', 'mqtt', 'src/runtime']) expect(owners.has(dep), dep).toBe(true);
    // The check can fail: the full bundle does carry what the device one must not.
    const fullOwners = new Set(full.inputs.map(ownerOf));
    for (const p of ['src/train', 'aedes', 'log-update', 'cli-progress', 'src/import', 'protobufjs', 'nats']) expect(fullOwners.has(p), p).toBe(true);
    for (const p of ['commands/train', 'commands/sim', 'commands/demo', 'commands/quantize', 'commands/import', 'src/io/cluster/', 'cli/cluster-mode']) {
      expect(device.inputs.some((i) => i.includes(p)), p).toBe(false);
      expect(full.inputs.some((i) => i.includes(p)), p).toBe(true);
    }
    for (const e of device.externals) expect(e, e).toMatch(/^(node:)?[a-z_]+(\/[a-z_]+)?$/);
  });

  it('--help lists only the device commands and says where the others are', async () => {
    const [d, f] = await Promise.all([dev('--help'), fullCli('--help')]);
    expect(d.code).toBe(0);
    expect(listed(d.stdout)).toEqual(DEVICE_CMDS);
    expect(listed(f.stdout)).toEqual([...DEVICE_CMDS, ...FULL_ONLY]);
    expect(d.stdout).toContain('train, quantize, sim, demo, import: in the full CLI (edge-rnn.mjs)');
    const [dp, fp] = await Promise.all([dev('predict', '--help'), fullCli('predict', '--help')]);
    expect(dp.stdout).toBe(fp.stdout);
  }, 20_000);

  it('run --http serves the status page from inside the file (no node_modules), /metrics, and /readyz 503 while no broker answers', async () => {
    const port = await freePort();
    const proc = spawn(process.execPath, ['edge-rnn-device.mjs', 'run', '--broker', `mqtt://127.0.0.1:${await freePort()}`, '--model', 'model.msgpack', '--instance', uniqueId('page'),
      '--http', `127.0.0.1:${port}`, '--health-interval', '0', '--state-dir', 'none', '--model-store', 'none', '--log-level', 'warn'], { cwd: app, stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    const get = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${path}`, init).then(async (r) => ({ status: r.status, type: r.headers.get('content-type'), body: await r.text() }));
    try {
      let up = false;
      await waitFor('the listener', () => (void get('/healthz').then((r) => (up = r.status === 200), () => undefined), up));
      const page = await get('/');
      expect(page.type).toBe('text/html; charset=utf-8');
      expect(page.body).toContain('<title>edge-rnn status</title>');
      expect((await get('/uplot.js')).body).toContain('uPlot');
      expect((await get('/uplot.css')).body).toContain('.uplot');
      expect(await get('/readyz')).toMatchObject({ status: 503, body: 'not ready: not connected to the broker\n' });
      expect((await get('/metrics')).body).toContain('edge_rnn_mqtt_connected 0\n');
      expect((await get('/nope')).status).toBe(404);
      expect((await get('/metrics', { method: 'POST' })).status).toBe(405);
    } finally {
      proc.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 30_000);

  it('answers every command\'s --help from an empty folder, and ships no data files', async () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty, { recursive: true });
    for (const cmd of [...DEVICE_CMDS, 'help']) {
      const h = await node([device.outfile, cmd, '--help'], empty);
      expect(h.code, `${cmd} --help: ${h.stderr}`).toBe(0);
      expect(h.stdout, cmd).toContain('Usage: edge-rnn');
    }
    expect(device.data).toEqual([]);
  }, 20_000);

  it('inspect and predict give exactly what the full bundle gives on the same files', async () => {
    const args = ['predict', '--model', 'model.msgpack', '--data', 'readings.csv', '--json', '--device-column', 'mote_id'];
    const [d, f, di, fi] = await Promise.all([dev(...args), fullCli(...args), dev('inspect', 'model.msgpack', '--json'), fullCli('inspect', 'model.msgpack', '--json')]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout.trim().split('\n').length).toBe(readFileSync(CSV, 'utf8').trim().split('\n').length - 1);
    expect(d.stdout).toBe(f.stdout);
    expect(di.code).toBe(0);
    expect(di.stdout).toBe(fi.stdout);
  }, 20_000);

  it('refuses the full CLI\'s commands with one clear line and exit 2', async () => {
    for (const cmd of FULL_ONLY) {
      const r = await dev(cmd, '--data', 'readings.csv');
      expect(r.code, cmd).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`edge-rnn: '${cmd}' is in the full CLI (edge-rnn.mjs), not in the device bundle\n`);
    }
    const unknown = await dev('bogus');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'bogus'");
  }, 20_000);

  describe('run', () => {
    let broker: TestBroker;
    beforeAll(async () => {
      broker = await startBroker();
    }, 20_000);
    afterAll(async () => {
      await broker?.close();
    });
    it('serves predictions through a broker from an empty folder, equal to predict', () => servesThroughBroker(broker, app, 'edge-rnn-device.mjs'), 30_000);
  });
});
