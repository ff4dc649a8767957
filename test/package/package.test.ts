// The npm package as another project gets it (issue 17): `npm pack` (prepack builds lib/ and
// the bundles), the tarball installed into an empty project with `npm install`, the library
// imported from TypeScript that tsc type-checks (a wrong call must fail to type-check), the
// compiled file run with node, and `npx edge-rnn predict` answering like the checkout's CLI.
// npm uses its cache first (--prefer-offline); registry metadata it has not seen is fetched.
// Like any `npm pack`, it rebuilds the checkout's lib/ and dist/ (both git-ignored).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const CSV = join(ROOT, 'models/sample-readings.csv');
// Optional: another Node.js (e.g. Debian's Node 18) that also runs the compiled file and the
// installed bin; they must print exactly what this one printed (docs/deploy.md, "npm package").
const OTHER_NODE = process.env.EDGE_RNN_TEST_NODE;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

// Without the npm_* variables of an enclosing `npm test`, so the nested npm acts as typed.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

async function sh(cmd: string, args: string[], cwd: string): Promise<Ran> {
  try {
    const { stdout, stderr } = await promisify(execFile)(cmd, args, { cwd, env: { ...env, NODE_OPTIONS: '' }, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof err.code !== 'number') throw e;
    return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

const ok = (r: Ran, what: string): string => {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
};

const versionOf = (name: string): string => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/** The ```ts block of the README's "Use as a library" section: the test type-checks and runs it as written. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = /^## Use as a library\n[\s\S]*?```ts\n([\s\S]*?)```/m.exec(readme);
  if (!m) throw new Error('README.md has no "## Use as a library" section with a ```ts block');
  return m[1];
}

// Every part the issue names: codec, quantize, createSession, protocol, stream operators.
const MAIN_TS = `import { readFileSync } from 'node:fs';
import { from, lastValueFrom, toArray } from 'rxjs';
import {
  createCounters, createSession, decodeModel, encodeModel, inferenceLine, ModelFormatError, parseReading, quantizeModel,
  type Incoming, type Model, type ParseResult, type Session,
} from 'edge-rnn';

const [modelFile, csvFile] = process.argv.slice(2);
const model: Model = decodeModel(readFileSync(modelFile));
const session: Session = createSession(model);

// One stream over the CSV's rows, as \`edge-rnn predict\` without --device-column (which reads them as float32).
const [header, ...rows] = readFileSync(csvFile, 'utf8').trim().split('\\n');
const columns = header.split(',');
const at = model.inputs.names.map((n) => columns.indexOf(n));
const state = session.createState();
const ys = rows.map((r) => {
  const v = r.split(',');
  return Array.from(session.step(state, Float32Array.from(at, (i) => Number(v[i]))));
});

const roundTrip = decodeModel(encodeModel(model));
const int8 = decodeModel(encodeModel(quantizeModel(model)));
let refused = '';
try {
  decodeModel(new Uint8Array([1, 2, 3]));
} catch (e) {
  if (e instanceof ModelFormatError) refused = e.message;
}

const reading: ParseResult = parseReading(new TextEncoder().encode('{"values":{"temperature":20,"humidity":40}}'), model.inputs.names);

// The live path without a network: two messages in, a prediction and a dead letter out.
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const counters = createCounters();
const input: Incoming[] = [
  { topic: 'sensors/m1/reading', payload: enc({ seq: 1, values: { temperature: 20, humidity: 40 } }), receivedAt: 0 },
  { topic: 'sensors/m2/reading', payload: enc({ values: { temperature: 'x' } }), receivedAt: 0 },
];
const out = await lastValueFrom(from(input).pipe(
  inferenceLine(createSession(model), { topics: ['sensors/+/reading'], predictionTopic: 'p/{device}', deadLetterTopic: 'dl', instance: 'i', counters }),
  toArray(),
));

console.log(JSON.stringify({
  ys,
  roundTrip: roundTrip.inputs.names,
  int8Dtype: int8.layers[0].type === 'dense' ? null : int8.layers[0].wIh.dtype,
  refused,
  reading: reading.ok,
  topics: out.map((o) => o.topic),
  predictions: counters.predictions,
  deadLetters: counters.deadLetters,
}));
`;

// Calls the declarations must refuse, each with the error tsc gives for it.
const WRONG_TS = `import { createSession, decodeModel, parseReading } from 'edge-rnn';

const session = createSession(decodeModel(new Uint8Array()));
session.step(session.createState()); // the reading is missing
createSession('models/m.msgpack'); // a path, not a Model
parseReading('{}', ['t']); // a string, not bytes
`;

const TSCONFIG = (files: string[], outDir?: string) => JSON.stringify({
  compilerOptions: {
    target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, types: ['node'],
    ...(outDir ? { outDir } : { noEmit: true }),
  },
  files,
});

let tmp: string;
let app: string;
let tarFiles: string[];
let installed: Ran;

// One pack and install for the whole file; about 30 s here (prepack's tsc and both bundles, npm install).
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'edge-rnn-package-'));
  // prepack prints the bundle sizes before npm's JSON, which starts the first line opening with '['.
  const packOut = ok(await sh('npm', ['pack', '--json', '--pack-destination', tmp], ROOT), 'npm pack');
  const packed = JSON.parse(packOut.slice(packOut.search(/^\[/m))) as { filename: string; files: { path: string }[] }[];
  tarFiles = packed[0].files.map((f) => f.path).sort();
  app = join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'uses-edge-rnn', version: '1.0.0', private: true, type: 'module' }));
  installed = await sh('npm', [
    'install', '--prefer-offline', '--no-audit', '--no-fund',
    join(tmp, packed[0].filename), `typescript@${versionOf('typescript')}`, `@types/node@${versionOf('@types/node')}`,
  ], app);
  ok(installed, 'npm install of the tarball');
}, 240_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('npm package', () => {
  it('the tarball holds only what runs: lib/ (JS + .d.ts), both bundles, their shipped data, bin; no sources, tests or fixtures', () => {
    for (const f of ['package.json', 'README.md', 'bin/edge-rnn.mjs', 'lib/index.js', 'lib/index.d.ts', 'lib/runtime/session.d.ts',
      'dist/edge-rnn.mjs', 'dist/edge-rnn-device.mjs', 'dist/edge-rnn-data/mote-forecaster.msgpack', 'dist/edge-rnn-data/suthaharan-single-hop.csv']) {
      expect(tarFiles).toContain(f);
    }
    const bad = tarFiles.filter((f) => /^(src|test|scripts|models|firmware-sim|peers|node_modules)\//.test(f) || /fixture/i.test(f) ||
      (/\.[cm]?ts$/.test(f) && !/\.d\.[cm]?ts$/.test(f)) || f.endsWith('.map') || f === 'bin/ts.mjs' || f.startsWith('tsconfig'));
    expect(bad).toEqual([]);
    expect(tarFiles.filter((f) => f.startsWith('lib/')).every((f) => /\.(js|d\.ts)$/.test(f))).toBe(true);
  });

  it('installs with the library\'s run-time dependencies only: no CLI packages, no tsx', () => {
    const nm = join(app, 'node_modules');
    for (const p of ['edge-rnn', 'msgpackr', 'rxjs']) expect(existsSync(join(nm, p)), p).toBe(true);
    for (const p of ['tsx', 'mqtt', 'commander', 'pino', 'aedes', 'csv-parse', 'log-update', 'cli-progress', 'protobufjs', 'esbuild']) {
      expect(existsSync(join(nm, p)), p).toBe(false);
    }
    expect(existsSync(join(nm, 'edge-rnn', 'src'))).toBe(false);
  });

  it('type-checks and runs TypeScript that imports it; the session gives the numbers of the checkout\'s predict', async () => {
    writeFileSync(join(app, 'main.ts'), MAIN_TS);
    writeFileSync(join(app, 'tsconfig.json'), TSCONFIG(['main.ts'], 'out'));
    ok(await sh(join(app, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], app), 'tsc');
    const model = join(app, 'node_modules/edge-rnn/dist/edge-rnn-data/mote-forecaster.msgpack');
    const got = JSON.parse(ok(await sh(process.execPath, ['out/main.js', model, CSV], app), 'node out/main.js'));

    const checkout = ok(await sh(process.execPath, [join(ROOT, 'bin/edge-rnn.mjs'), 'predict', '--model', model, '--data', CSV, '--json'], ROOT), 'checkout predict');
    const want = checkout.trim().split('\n').map((l) => (JSON.parse(l) as { y: number[] }).y);
    expect(want.length).toBe(readFileSync(CSV, 'utf8').trim().split('\n').length - 1);
    // predict prints float32 values in their shortest round-trip form: equal as float32.
    expect(got.ys.map((y: number[]) => y.map(Math.fround))).toEqual(want.map((y) => y.map(Math.fround)));

    expect(got).toMatchObject({
      roundTrip: ['temperature', 'humidity'], int8Dtype: 'i8', reading: true,
      topics: ['p/m1', 'dl'], predictions: 1, deadLetters: 1,
    });
    expect(got.refused).toMatch(/./);

    if (OTHER_NODE) {
      const other = ok(await sh(OTHER_NODE, ['out/main.js', model, CSV], app), `${OTHER_NODE} out/main.js`);
      expect(JSON.parse(other)).toEqual(got);
    }
  }, 120_000);

  it('refuses wrong calls at type-check time, naming each', async () => {
    writeFileSync(join(app, 'wrong.ts'), WRONG_TS);
    writeFileSync(join(app, 'tsconfig.wrong.json'), TSCONFIG(['wrong.ts']));
    const r = await sh(join(app, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.wrong.json'], app);
    expect(r.code).not.toBe(0);
    const errors = r.stdout.split('\n').filter((l) => /error TS\d+/.test(l));
    expect(errors.map((l) => /^wrong\.ts\((\d+),/.exec(l)?.[1])).toEqual(['4', '5', '6']);
    expect(r.stdout).toMatch(/Expected 2-3 arguments, but got 1/);
    expect(r.stdout).toMatch(/'string' is not assignable to parameter of type 'Model'/);
  }, 60_000);

  it('the README\'s library example type-checks and runs as written', async () => {
    writeFileSync(join(app, 'readme.ts'), readmeExample());
    writeFileSync(join(app, 'tsconfig.readme.json'), TSCONFIG(['readme.ts'], 'out'));
    ok(await sh(join(app, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.readme.json'], app), 'tsc (README example)');
    const out = ok(await sh(process.execPath, ['out/readme.js'], app), 'node out/readme.js');
    expect(out).toMatch(/temperature/);
  }, 60_000);

  it('npx edge-rnn predict runs the bundled CLI from the installed package, with the checkout\'s output', async () => {
    const model = join(app, 'node_modules/edge-rnn/dist/edge-rnn-data/mote-forecaster.msgpack');
    const installedOut = ok(await sh('npx', ['--no-install', 'edge-rnn', 'predict', '--model', model, '--data', CSV], app), 'npx edge-rnn predict');
    const checkoutOut = ok(await sh(process.execPath, [join(ROOT, 'bin/edge-rnn.mjs'), 'predict', '--model', model, '--data', CSV], ROOT), 'checkout predict');
    expect(installedOut.trim().split('\n').length).toBeGreaterThan(200);
    expect(installedOut).toBe(checkoutOut);
    if (OTHER_NODE) {
      const bin = join(app, 'node_modules/edge-rnn/bin/edge-rnn.mjs');
      expect(ok(await sh(OTHER_NODE, [bin, 'predict', '--model', model, '--data', CSV], app), `${OTHER_NODE} edge-rnn predict`)).toBe(installedOut);
    }
    // The full CLI: every command is there.
    const help = ok(await sh('npx', ['--no-install', 'edge-rnn', '--help'], app), 'npx edge-rnn --help');
    for (const c of ['run', 'predict', 'train', 'demo', 'import']) expect(help).toMatch(new RegExp(`^  ${c} `, 'm'));
  }, 120_000);
});
