// `kill -9` of the runtime process mid-stream, then a restart: every reading still gets a
// prediction, because a reading is acknowledged only after its prediction is published
// (a reading in flight at the crash is redelivered). The last will marks it offline.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { byDeviceSeq, CLI, collect, connect, EXAMPLE_MODEL, readingPayload, sensorRows, sleep, uniqueId, waitFor } from './support.js';

describe('edge-rnn run process crash', () => {
  let broker: TestBroker;
  const stateRoot = mkdtempSync(join(tmpdir(), 'crash-state-'));
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  function spawnRun(instance: string): ChildProcess {
    return spawn(process.execPath, [
      CLI, 'run', '--model', EXAMPLE_MODEL, '--broker', broker.url, '--instance', instance,
      '--mqtt-version', String(broker.mqttVersion), '--health-interval', '0', '--log-level', 'warn',
      // Checkpoints default to the model's folder: keep them out of the source tree.
      '--state-dir', join(stateRoot, instance),
    ], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const exited = (p: ChildProcess) => new Promise<number | string>((r) => p.once('exit', (code, sig) => r(code ?? sig ?? -1)));

  it('predicts every reading after kill -9 and a restart; SIGTERM then exits 0 with status offline', async () => {
    const N = 10;
    const M = 80;
    const rows = sensorRows(N, M, 11);
    const instance = uniqueId('crash');
    const status = `edge-rnn/${instance}/status`;
    const sink = await collect(broker.url, broker.mqttVersion, ['predictions/+', status]);
    const statuses = () => sink.messages.filter((m) => m.topic === status).map((m) => m.doc.state);
    const predictions = () => byDeviceSeq(sink.messages.filter((m) => m.topic.startsWith('predictions/')));

    let child = spawnRun(instance);
    await waitFor('online status', () => statuses().includes('online'), 30_000);
    const pub = await connect(broker.url, broker.mqttVersion);
    const acks: Promise<unknown>[] = [];
    let killed = false;
    for (const [i, r] of rows.entries()) {
      acks.push(pub.publishAsync(`sensors/${r.device}/reading`, readingPayload(r), { qos: 1 }));
      if (i % N === N - 1) await sleep(3);
      if (!killed && predictions().size >= rows.length / 4) {
        child.kill('SIGKILL');
        killed = true;
        expect(await exited(child)).toBe('SIGKILL');
      }
    }
    await Promise.all(acks);
    expect(killed).toBe(true);
    await waitFor('the last will', () => statuses().at(-1) === 'offline');
    const beforeRestart = predictions().size;
    expect(beforeRestart).toBeLessThan(rows.length);

    child = spawnRun(instance);
    await waitFor('a prediction for every reading', () => predictions().size >= rows.length, 30_000);
    for (const r of rows) expect(predictions().has(`${r.device}/${r.seq}`), `${r.device}/${r.seq}`).toBe(true);
    expect(predictions().size).toBe(rows.length);

    const done = exited(child);
    child.kill('SIGTERM');
    expect(await done).toBe(0);
    await waitFor('offline status after SIGTERM', () => statuses().at(-1) === 'offline');
    await pub.endAsync();
    await sink.client.endAsync();
  }, 60_000);
});
