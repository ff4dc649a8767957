// scripts/deploy.sh with DRY_RUN=1: it prints the ssh/scp commands and the rendered unit
// and env file instead of running them. These tests read that plan, and check that every
// remote script is valid shell (sh -n). deploy-e2e.test.ts runs it against a fake device.
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle as buildBundle } from '../../scripts/bundle.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const DEPLOY = join(ROOT, 'scripts/deploy.sh');
const MODEL = join(ROOT, 'models/mote-forecaster.msgpack');
const UNTRAINED = join(ROOT, 'models/example-lstm.msgpack');

interface Plan {
  code: number;
  stderr: string;
  /** The rendered unit, env file and the lines set on the device ('' when not printed). */
  unit: string;
  env: string;
  set: string;
  scp: string[][];
  scripts: string[];
}

/** The lines under `# <title>` (each printed as `#   line`), up to the next title. */
function section(stdout: string, title: RegExp): string {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => title.test(l));
  if (at < 0) return '';
  const out: string[] = [];
  for (const l of lines.slice(at + 1)) {
    if (!l.startsWith('#   ') && l !== '#') break;
    out.push(l.slice(4));
  }
  return out.join('\n');
}

let tmp: string;
let bundle: string;

async function deploy(args: string[], extraEnv: Record<string, string> = {}): Promise<Plan> {
  let stdout = '';
  let stderr = '';
  let code = 0;
  try {
    ({ stdout, stderr } = await promisify(execFile)('bash', [DEPLOY, ...args], { env: { ...process.env, DRY_RUN: '1', BUNDLE: bundle, ...extraEnv } }));
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    ({ code, stdout, stderr } = err);
  }
  const unit = section(stdout, /^# rendered \/etc\/systemd\/system\//);
  const env = section(stdout, /^# rendered \/etc\/edge-rnn\//);
  const set = section(stdout, /^# set in /);
  const scp = stdout.split('\n').filter((l) => l.startsWith('+ scp ')).map((l) => l.slice(2).split(' '));
  // + ssh [opts] HOST '<script>' (the script may span lines; it contains no single quote)
  const scripts = [...stdout.matchAll(/^\+ ssh [^\n']*'([^']*)'$/gm)].map((m) => m[1]);
  return { code, stderr, unit, env, set, scp, scripts };
}

async function shellSyntaxOk(script: string): Promise<void> {
  await promisify(execFile)('sh', ['-n', '-c', script]);
}

// A real device bundle: deploy.sh reads the model's meta with it before shipping.
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'edge-rnn-deploy-'));
  bundle = (await buildBundle(join(tmp, 'edge-rnn-device.mjs'), 'device')).outfile;
}, 60_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('scripts/deploy.sh (dry run)', () => {
  it('ships dist/edge-rnn-device.mjs by default, installed on the device as edge-rnn.mjs with its map under its own name', async () => {
    const plan = await deploy(['--no-build', '--model', MODEL, 'pi@raspberrypi.local']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.scp[0]).toContain(bundle);
    expect(plan.scp[0]).toContain(`${bundle}.map`);
    const stage = plan.scp[0].at(-1)!.replace(/^[^:]*:/, '').replace(/\/$/, '');
    const install = plan.scripts.at(-1)!;
    expect(install).toContain(`install -m 755 -o edge-rnn -g edge-rnn ${stage}/edge-rnn-device.mjs /opt/edge-rnn/.edge-rnn.mjs.new`);
    expect(install).toContain(`install -m 644 ${stage}/edge-rnn-device.mjs.map /opt/edge-rnn/edge-rnn-device.mjs.map`);
    expect(plan.unit.split('\n')).toContain('ExecStart=/usr/bin/node --max-semi-space-size=1 --optimize-for-size /opt/edge-rnn/edge-rnn.mjs run');
    // The default, without BUNDLE: the device bundle.
    const { stdout } = await promisify(execFile)('bash', ['-c', `grep -n 'BUNDLE=\\\${BUNDLE:-' ${DEPLOY}`]);
    expect(stdout).toContain('$REPO/dist/edge-rnn-device.mjs}');
  });

  it('copies bundle, model, unit and env file, installs them and enables + restarts the service', async () => {
    const plan = await deploy(['--no-build', '--model', MODEL, 'pi@raspberrypi.local']);
    expect(plan.code, plan.stderr).toBe(0);

    expect(plan.scp).toHaveLength(1);
    const copied = plan.scp[0];
    const dest = copied.at(-1)!;
    expect(dest).toMatch(/^pi@raspberrypi\.local:\/tmp\/edge-rnn-deploy\.[0-9.]+\/$/);
    expect(copied).toContain(bundle);
    expect(copied).toContain(MODEL);
    expect(copied.some((f) => f.endsWith('/edge-rnn.service'))).toBe(true);
    expect(copied.some((f) => f.endsWith('/edge-rnn.env'))).toBe(true);

    expect(plan.scripts).toHaveLength(3); // the node check; make the staging folder; install
    expect(plan.scripts[0]).toBe('command -v node && node -p process.versions.node');
    const stage = dest.slice(dest.indexOf(':') + 1, -1);
    expect(plan.scripts[1]).toBe(`mkdir -p -m 700 ${stage}`);
    const install = plan.scripts[2];
    for (const line of [
      `sudo install -m 644 ${stage}/edge-rnn.service /etc/systemd/system/edge-rnn.service`,
      `sudo mv -f /opt/edge-rnn/.edge-rnn.mjs.new /opt/edge-rnn/edge-rnn.mjs`,
      `sudo mv -f /opt/edge-rnn/models/.mote-forecaster.msgpack.new /opt/edge-rnn/models/mote-forecaster.msgpack`,
      // the device's own broker settings survive a redeploy
      `sudo test -e /etc/edge-rnn/edge-rnn.env || sudo install -m 600 ${stage}/edge-rnn.env /etc/edge-rnn/edge-rnn.env`,
      'sudo systemctl daemon-reload',
      'sudo systemctl enable edge-rnn',
      'sudo systemctl restart edge-rnn',
      // the checks: active, then an online status since the restart, with the unit's settings
      'systemctl is-active edge-rnn',
      'sudo sh -c "set -a; . /etc/edge-rnn/edge-rnn.env; exec /usr/bin/node /opt/edge-rnn/edge-rnn.mjs status --since $T0 --wait 30s"',
    ]) expect(install).toContain(line);
    // Order: files in place, then reload, enable, restart.
    const at = (s: string) => install.indexOf(s);
    expect(at('edge-rnn.mjs.new')).toBeLessThan(at('daemon-reload'));
    expect(at('daemon-reload')).toBeLessThan(at('systemctl enable'));
    expect(at('systemctl enable')).toBeLessThan(at('T0=$(date +%s)'));
    expect(at('T0=$(date +%s)')).toBeLessThan(at('systemctl restart'));
    expect(at('systemctl restart')).toBeLessThan(at('edge-rnn.mjs status'));
    expect(install.startsWith('set -e\n')).toBe(true);
    for (const s of plan.scripts) await shellSyntaxOk(s);
  });

  it("the unit's node flags (V8 heap sizing, docs/deploy.md#memory) are ones node accepts", async () => {
    const plan = await deploy(['--no-build', '--model', MODEL, 'pi@pi']);
    const exec = plan.unit.split('\n').find((l) => l.startsWith('ExecStart='))!.split(' ');
    const flags = exec.slice(1, exec.findIndex((w) => w.endsWith('/edge-rnn.mjs')));
    expect(flags).toEqual(['--max-semi-space-size=1', '--optimize-for-size']);
    const { stdout } = await promisify(execFile)(process.execPath, [...flags, '-p', '1 + 1']); // a bad flag: exit 9
    expect(stdout.trim()).toBe('2');
  });

  it('renders the unit: restart on failure, the env file, the node and folder filled in', async () => {
    const plan = await deploy(['--no-build', '--model', MODEL, 'pi@pi']);
    const lines = plan.unit.split('\n');
    for (const l of [
      'ExecStart=/usr/bin/node --max-semi-space-size=1 --optimize-for-size /opt/edge-rnn/edge-rnn.mjs run',
      'Restart=on-failure',
      'EnvironmentFile=/etc/edge-rnn/edge-rnn.env',
      'User=edge-rnn',
      'WorkingDirectory=/opt/edge-rnn',
      'ReadWritePaths=/opt/edge-rnn',
      'WantedBy=multi-user.target',
    ]) expect(lines).toContain(l);
    expect(plan.unit).not.toMatch(/@[A-Z_]+@/);
  });

  it('--model-only copies just the model and restarts the service, leaving runtime and unit alone', async () => {
    const plan = await deploy(['--model-only', '--model', MODEL, 'pi@pi']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.unit).toBe('');
    expect(plan.scp[0].slice(2, -1)).toEqual([MODEL]);
    expect(plan.scripts).toHaveLength(2); // no node check: the runtime stays
    const install = plan.scripts[1];
    expect(install).toContain('/opt/edge-rnn/models/mote-forecaster.msgpack');
    expect(install).toContain('sudo systemctl restart edge-rnn');
    expect(install).not.toContain('.edge-rnn.mjs.new');
    expect(install).not.toContain('daemon-reload');
    expect(install).not.toContain('/etc/systemd');
    // The settings now name the new model; nothing else in them changes.
    expect(install).toContain('sudo sed -i "s|^EDGE_RNN_MODEL=.*|EDGE_RNN_MODEL=/opt/edge-rnn/models/mote-forecaster.msgpack|" /etc/edge-rnn/edge-rnn.env');
    expect(plan.set).toBe('EDGE_RNN_MODEL=/opt/edge-rnn/models/mote-forecaster.msgpack');
    await shellSyntaxOk(install);
  });

  it('honours --dir, --service, --env (replacing the device file), --no-restart and REMOTE_SUDO', async () => {
    const env = join(tmp, 'kitchen.env');
    writeFileSync(env, 'EDGE_RNN_BROKER=mqtt://broker.lan:1883\n');
    const plan = await deploy(['--no-build', '--model', MODEL, '--dir', '/srv/er/', '--service', 'er-2', '--env', env, '--no-restart', 'root@gw'], { REMOTE_SUDO: '' });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.unit.split('\n')).toContain('ExecStart=/usr/bin/node --max-semi-space-size=1 --optimize-for-size /srv/er/edge-rnn.mjs run');
    expect(plan.unit.split('\n')).toContain('EnvironmentFile=/etc/edge-rnn/er-2.env');
    const install = plan.scripts.at(-1)!;
    expect(install).toContain('install -m 644 /tmp/');
    expect(install).toMatch(/\ninstall -m 600 \S+\/er-2\.env \/etc\/edge-rnn\/er-2\.env\n/);
    expect(install).toContain('/etc/systemd/system/er-2.service');
    expect(install).not.toContain('sudo');
    expect(install).not.toContain('systemctl restart');
    expect(install).not.toContain('systemctl enable');
    expect(install).not.toContain(' status ');
    // --env replaces the device's file: the given settings plus the model line.
    expect(plan.env).toBe('EDGE_RNN_BROKER=mqtt://broker.lan:1883\nEDGE_RNN_MODEL=/srv/er/models/mote-forecaster.msgpack');
  });

  it('renders the env file from the example: the chosen model, the trust key line, nothing of the untrained example', async () => {
    const key = join(tmp, 'fleet.pub.pem');
    writeFileSync(key, '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n');
    const plan = await deploy(['--no-build', '--model', MODEL, '--trust', key, 'pi@pi']);
    expect(plan.code, plan.stderr).toBe(0);
    const lines = plan.env.split('\n');
    expect(lines.filter((l) => l.startsWith('EDGE_RNN_MODEL='))).toEqual(['EDGE_RNN_MODEL=/opt/edge-rnn/models/mote-forecaster.msgpack']);
    expect(lines.filter((l) => l.startsWith('EDGE_RNN_TRUST='))).toEqual(['EDGE_RNN_TRUST=/etc/edge-rnn/trust/fleet.pub.pem']);
    expect(lines).toContain('EDGE_RNN_BROKER=mqtt://127.0.0.1:1883');
    expect(plan.env).not.toContain('example-lstm');
    expect(plan.set.split('\n')).toEqual(['EDGE_RNN_MODEL=/opt/edge-rnn/models/mote-forecaster.msgpack', 'EDGE_RNN_TRUST=/etc/edge-rnn/trust/fleet.pub.pem']);
    expect(plan.scp[0].some((f) => f.endsWith('/edge-rnn.trust.pem'))).toBe(true);
    const install = plan.scripts.at(-1)!;
    expect(install).toMatch(/sudo install -m 644 \S+\/edge-rnn\.trust\.pem \/etc\/edge-rnn\/trust\/fleet\.pub\.pem/);
    // The trust line is set before the restart, on a device with its own env file too.
    expect(install.indexOf('EDGE_RNN_TRUST=/etc/edge-rnn/trust/fleet.pub.pem|')).toBeLessThan(install.indexOf('systemctl restart'));
    await shellSyntaxOk(install);
  });

  it('refuses an untrained model unless --allow-untrained, and a private key as --trust', async () => {
    const refused = await deploy(['--no-build', '--model', UNTRAINED, 'pi@pi']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`deploy: ${UNTRAINED} is marked untrained (meta.untrained): its predictions are meaningless; deploy a trained model, or pass --allow-untrained\n`);
    expect(refused.scp).toEqual([]);
    const allowed = await deploy(['--no-build', '--model', UNTRAINED, '--allow-untrained', 'pi@pi']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stderr).toContain('warning');
    expect(allowed.set).toBe('EDGE_RNN_MODEL=/opt/edge-rnn/models/example-lstm.msgpack');
    const priv = join(tmp, 'fleet.key.pem');
    writeFileSync(priv, '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI\n-----END PRIVATE KEY-----\n');
    chmodSync(priv, 0o600);
    const badKey = await deploy(['--no-build', '--model', MODEL, '--trust', priv, 'pi@pi']);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toContain('is a private key');
    const notModel = join(tmp, 'not-a-model.msgpack');
    writeFileSync(notModel, 'hello');
    const bad = await deploy(['--no-build', '--model', notModel, 'pi@pi']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('is not a valid edge-rnn model');
  });

  it('refuses a missing host, model or option with exit code 2', async () => {
    expect((await deploy(['--no-build'])).code).toBe(2);
    const noFlag = await deploy(['--no-build', 'pi@pi']);
    expect(noFlag.code).toBe(2);
    expect(noFlag.stderr).toBe('deploy: --model FILE is required: the model the device runs (a trained one, e.g. models/mote-forecaster.msgpack)\n');
    const noModel = await deploy(['--no-build', '--model', join(tmp, 'nope.msgpack'), 'pi@pi']);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toContain('no such model');
    expect((await deploy(['--frobnicate', 'pi@pi'])).code).toBe(2);
  });
});
