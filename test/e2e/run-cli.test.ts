// `edge-rnn run` as a user starts it: errors a user can fix exit non-zero with one line.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI, EXAMPLE_MODEL } from './support.js';

async function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stderr: string; stdout: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stderr: string; stdout: string };
    return { code: err.code, stderr: err.stderr, stdout: err.stdout };
  }
}

describe('edge-rnn run CLI errors', () => {
  it('names a missing model file', async () => {
    const r = await runCli(['run', '--model', '/nonexistent/m.msgpack']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot read model \/nonexistent\/m.msgpack: no such file/);
  });

  it('refuses a file that is not a model', async () => {
    const r = await runCli(['run', '--model', new URL('../../package.json', import.meta.url).pathname]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is not a valid edge-rnn model/);
  });

  it('refuses bad settings from env vars with exit code 2', async () => {
    const r = await runCli(['run', '--model', EXAMPLE_MODEL], { EDGE_RNN_MAX_DEVICES: 'many' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/EDGE_RNN_MAX_DEVICES: expected a positive integer/);
  });

  it('documents flags and env vars in --help', async () => {
    const r = await runCli(['run', '--help']);
    expect(r.code).toBe(0);
    for (const s of ['--broker', 'EDGE_RNN_BROKER', '--mqtt-version', '--max-devices', '--reset-after', '--ca', '--cert', '--key', '--username', '--password', '--config']) expect(r.stdout).toContain(s);
  });
}, 30_000);
