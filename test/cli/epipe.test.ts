// `edge-rnn … | head -1` (issue 12): when the reader of stdout goes away, the CLI ends
// quietly with exit 0 instead of an EPIPE stack trace. Each case spawns the CLI with stdout
// on a pipe and destroys our end of it after the first line.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../helpers/broker.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CLI = join(ROOT, 'bin/edge-rnn.mjs');
const MODEL = join(ROOT, 'models/example-lstm.msgpack');

interface Exit { code: number | null; signal: NodeJS.Signals | null; stderr: string; first: string }

/** Spawns the CLI, destroys stdout after one line, then (optionally) runs `afterFirst`. */
function headOne(args: string[], afterFirst?: (pid: number) => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: mkdtempSync(join(tmpdir(), 'epipe-')) });
    let stderr = '';
    let buf = '';
    let first = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0 && !first) {
        first = buf.slice(0, nl);
        child.stdout.destroy();
        afterFirst?.(child.pid!);
      }
    });
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stderr, first }));
  });
}

describe('EPIPE on stdout', () => {
  let csv: string;
  beforeAll(() => {
    // Far more output than a pipe buffers (64 KiB), so writes go on after the reader left.
    const lines = ['temperature,humidity'];
    for (let r = 0; r < 20_000; r++) lines.push(`${20 + (r % 50) / 10},${40 + (r % 30) / 10}`);
    csv = join(mkdtempSync(join(tmpdir(), 'epipe-data-')), 'big.csv');
    writeFileSync(csv, lines.join('\n') + '\n');
  });

  it('predict --json | head -1 exits 0 without a stack trace', async () => {
    const r = await headOne(['predict', '-m', MODEL, '-d', csv, '--json']);
    expect(JSON.parse(r.first).row).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('predict (table) | head -1 exits 0 without a stack trace', async () => {
    const r = await headOne(['predict', '-m', MODEL, '-d', csv]);
    expect(r.first).toMatch(/^example-lstm v1/);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('--help | head -1 exits 0 without a stack trace', async () => {
    const r = await headOne(['run', '--help']);
    expect(r.first).toMatch(/^Usage: edge-rnn run/);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  describe('run', () => {
    let broker: TestBroker;
    beforeAll(async () => { broker = await startBroker(); });
    afterAll(async () => { await broker?.close(); });

    it('run | head -1 keeps serving without its log reader and stops cleanly on SIGTERM, exit 0', async () => {
      // The shutdown logs three lines after the pipe is gone: each meets EPIPE.
      const r = await headOne(
        ['run', '-m', MODEL, '--broker', broker.url, '--instance', 'epipe', '--mqtt-version', String(broker.mqttVersion),
          // Checkpoints default to the model's folder: keep them out of the source tree.
          '--state-dir', mkdtempSync(join(tmpdir(), 'epipe-state-'))],
        (pid) => setTimeout(() => process.kill(pid, 'SIGTERM'), 500),
      );
      expect(JSON.parse(r.first).msg).toBe('edge-rnn run starting');
      expect(r.stderr).toBe('');
      expect(r.signal).toBeNull();
      expect(r.code).toBe(0);
    });
  });
}, 60_000);
