// scripts/deploy.sh cannot reach a real device here: DRY_RUN=1 makes it print the ssh/scp
// commands and the rendered systemd unit instead. These tests read that plan, and check
// that every remote script is valid shell (sh -n).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const DEPLOY = join(ROOT, 'scripts/deploy.sh');
const MODEL = join(ROOT, 'models/example-lstm.msgpack');

interface Plan {
  code: number;
  stderr: string;
  unit: string;
  scp: string[][];
  scripts: string[];
}

let tmp: string;
let bundle: string;

async function deploy(args: string[], env: Record<string, string> = {}): Promise<Plan> {
  let stdout = '';
  let stderr = '';
  let code = 0;
  try {
    ({ stdout, stderr } = await promisify(execFile)('bash', [DEPLOY, ...args], { env: { ...process.env, DRY_RUN: '1', BUNDLE: bundle, ...env } }));
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    ({ code, stdout, stderr } = err);
  }
  const unit = stdout.split('\n').filter((l) => l.startsWith('#   ') || l === '#').map((l) => l.slice(4)).join('\n');
  const scp = stdout.split('\n').filter((l) => l.startsWith('+ scp ')).map((l) => l.slice(2).split(' '));
  // + ssh [opts] HOST '<script>' (the script may span lines; it contains no single quote)
  const scripts = [...stdout.matchAll(/^\+ ssh [^\n']*'([^']*)'$/gm)].map((m) => m[1]);
  return { code, stderr, unit, scp, scripts };
}

async function shellSyntaxOk(script: string): Promise<void> {
  await promisify(execFile)('sh', ['-n', '-c', script]);
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'edge-rnn-deploy-'));
  bundle = join(tmp, 'edge-rnn.mjs');
  writeFileSync(bundle, '#!/usr/bin/env node\n');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('scripts/deploy.sh (dry run)', () => {
  it('ships dist/edge-rnn-device.mjs by default, installed on the device as edge-rnn.mjs with its map under its own name', async () => {
    const device = join(tmp, 'edge-rnn-device.mjs');
    writeFileSync(device, '#!/usr/bin/env node\n//# sourceMappingURL=edge-rnn-device.mjs.map\n');
    writeFileSync(`${device}.map`, '{}');
    const plan = await deploy(['--no-build', '--model', MODEL, 'pi@raspberrypi.local'], { BUNDLE: device });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.scp[0]).toContain(device);
    expect(plan.scp[0]).toContain(`${device}.map`);
    const stage = plan.scp[0].at(-1)!.replace(/^[^:]*:/, '').replace(/\/$/, '');
    expect(plan.scripts[1]).toContain(`install -m 755 -o edge-rnn -g edge-rnn ${stage}/edge-rnn-device.mjs /opt/edge-rnn/.edge-rnn.mjs.new`);
    expect(plan.scripts[1]).toContain(`install -m 644 ${stage}/edge-rnn-device.mjs.map /opt/edge-rnn/edge-rnn-device.mjs.map`);
    expect(plan.unit.split('\n')).toContain('ExecStart=/usr/bin/node /opt/edge-rnn/edge-rnn.mjs run');
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

    expect(plan.scripts).toHaveLength(2); // make the staging folder; install
    const stage = dest.slice(dest.indexOf(':') + 1, -1);
    expect(plan.scripts[0]).toBe(`mkdir -p -m 700 ${stage}`);
    const install = plan.scripts[1];
    for (const line of [
      `sudo install -m 644 ${stage}/edge-rnn.service /etc/systemd/system/edge-rnn.service`,
      `sudo mv -f /opt/edge-rnn/.edge-rnn.mjs.new /opt/edge-rnn/edge-rnn.mjs`,
      `sudo mv -f /opt/edge-rnn/models/.example-lstm.msgpack.new /opt/edge-rnn/models/example-lstm.msgpack`,
      // the device's own broker settings survive a redeploy
      `sudo test -e /etc/edge-rnn/edge-rnn.env || sudo install -m 600 ${stage}/edge-rnn.env /etc/edge-rnn/edge-rnn.env`,
      'sudo systemctl daemon-reload',
      'sudo systemctl enable edge-rnn',
      'sudo systemctl restart edge-rnn',
    ]) expect(install).toContain(line);
    // Order: files in place, then reload, enable, restart.
    const at = (s: string) => install.indexOf(s);
    expect(at('edge-rnn.mjs.new')).toBeLessThan(at('daemon-reload'));
    expect(at('daemon-reload')).toBeLessThan(at('systemctl enable'));
    expect(at('systemctl enable')).toBeLessThan(at('systemctl restart'));
    expect(install.startsWith('set -e\n')).toBe(true);
    for (const s of plan.scripts) await shellSyntaxOk(s);
  });

  it('renders the unit: restart on failure, the env file, the node and folder filled in', async () => {
    const plan = await deploy(['--no-build', '--model', MODEL, 'pi@pi']);
    const lines = plan.unit.split('\n');
    for (const l of [
      'ExecStart=/usr/bin/node /opt/edge-rnn/edge-rnn.mjs run',
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
    const install = plan.scripts[1];
    expect(install).toContain('/opt/edge-rnn/models/example-lstm.msgpack');
    expect(install).toContain('sudo systemctl restart edge-rnn');
    expect(install).not.toContain('edge-rnn.mjs');
    expect(install).not.toContain('daemon-reload');
    expect(install).not.toContain('/etc/');
    await shellSyntaxOk(install);
  });

  it('honours --dir, --service, --env (replacing the device file), --no-restart and REMOTE_SUDO', async () => {
    const env = join(tmp, 'kitchen.env');
    writeFileSync(env, 'EDGE_RNN_BROKER=mqtt://broker.lan:1883\n');
    const plan = await deploy(['--no-build', '--model', MODEL, '--dir', '/srv/er/', '--service', 'er-2', '--env', env, '--no-restart', 'root@gw'], { REMOTE_SUDO: '' });
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.unit.split('\n')).toContain('ExecStart=/usr/bin/node /srv/er/edge-rnn.mjs run');
    expect(plan.unit.split('\n')).toContain('EnvironmentFile=/etc/edge-rnn/er-2.env');
    const install = plan.scripts[1];
    expect(install).toContain('install -m 644 /tmp/');
    expect(install).toMatch(/\ninstall -m 600 \S+\/er-2\.env \/etc\/edge-rnn\/er-2\.env\n/);
    expect(install).toContain('/etc/systemd/system/er-2.service');
    expect(install).not.toContain('sudo');
    expect(install).not.toContain('systemctl restart');
    expect(install).not.toContain('systemctl enable');
  });

  it('refuses a missing host, model or option with exit code 2', async () => {
    expect((await deploy(['--no-build'])).code).toBe(2);
    const noModel = await deploy(['--no-build', '--model', join(tmp, 'nope.msgpack'), 'pi@pi']);
    expect(noModel.code).toBe(2);
    expect(noModel.stderr).toContain('no such model');
    expect((await deploy(['--frobnicate', 'pi@pi'])).code).toBe(2);
  });
});
