// `run` SIGKILLed mid-stream and started again with its state folder: devices whose
// checkpoint was flushed carry on exactly as an uninterrupted run (≤ 1e-6), and every
// reading in flight at the kill comes back (persistent session) and is predicted.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../src/io/state-checkpoint.js';
import { startBroker, type TestBroker } from '../helpers/broker.js';
import { spawnRun } from './support-push.js';
import { byDeviceSeq, CLI, collect, connect, EXAMPLE_MODEL, offlinePredictions, readingPayload, sensorRows, sleep, uniqueId, waitFor } from './support.js';

describe('run restarted from its state checkpoint', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('after a SIGKILL, flushed devices predict as an uninterrupted run; in-flight readings come back', async () => {
    const N = 8;
    const M = 60;
    const rows = sensorRows(N, M, 5);
    const reference = await offlinePredictions(rows);
    const stateDir = mkdtempSync(join(tmpdir(), 'edge-rnn-ckpt-e2e-'));
    const instance = uniqueId('ckpt');
    const args = ['--broker', broker.url, '--model', EXAMPLE_MODEL, '--instance', instance, '--state-dir', stateDir,
      '--checkpoint-interval', '150ms', '--model-store', 'none', '--log-level', 'warn'];
    const sink = await collect(broker.url, broker.mqttVersion, ['predictions/+']);
    const pub = await connect(broker.url, broker.mqttVersion);
    const send = (sel: (r: (typeof rows)[number]) => boolean) =>
      Promise.all(rows.filter(sel).map((r) => pub.publishAsync(`sensors/${r.device}/reading`, readingPayload(r), { qos: 1 })));
    const predictedKeys = () => byDeviceSeq(sink.messages);

    const status = await collect(broker.url, broker.mqttVersion, [`edge-rnn/${instance}/status`]);
    const online = (n: number) => waitFor(`run online (${n})`, () => status.messages.filter((m) => m.doc.state === 'online').length >= n, 20_000);
    let run = spawnRun(CLI, args);
    await online(1); // subscribed: its session exists from now on
    await send((r) => r.seq < 30);
    await waitFor('phase 1 predicted', () => predictedKeys().size >= N * 30, 20_000);
    await sleep(600); // several checkpoint periods: every device's state is on disk
    // Half the devices go on; the run is killed while their readings pour in.
    const busy = (d: string) => Number(d.split('-')[1]) % 2 === 0;
    const killed = new Promise((r) => run.child.once('exit', r));
    const killOnFirst = (topic: string) => topic.startsWith('predictions/') && run.child.kill('SIGKILL');
    sink.client.on('message', killOnFirst); // SIGKILL at the burst's first prediction
    await send((r) => r.seq >= 30 && r.seq < 45 && busy(r.device));
    await killed;
    sink.client.off('message', killOnFirst);
    const beforeRestart = new Set(predictedKeys().keys());
    const ck = readCheckpoint(stateDir, 1 << 24);
    expect(ck.ok).toBe(true);
    const flushedSeq = new Map(ck.ok ? ck.checkpoint.devices.map((d) => [d.device, d.lastSeq]) : []);
    const lastPredicted = (d: string) => Math.max(...[...beforeRestart].filter((k) => k.startsWith(`${d}/`)).map((k) => Number(k.split('/')[1])));
    const flushed = [...new Set(rows.map((r) => r.device))].filter((d) => flushedSeq.get(d) === lastPredicted(d));
    expect(flushed.length).toBeGreaterThanOrEqual(N / 2); // at least the idle half

    run = spawnRun(CLI, args);
    await online(2);
    await send((r) => r.seq >= 45 || (r.seq >= 30 && !busy(r.device)));
    await waitFor('every reading predicted', () => predictedKeys().size >= rows.length, 30_000);
    const inFlightBack = rows.filter((r) => r.seq < 45 && !beforeRestart.has(`${r.device}/${r.seq}`) && (r.seq < 30 || busy(r.device))).length;
    console.log(`checkpoint restart: ${flushed.length}/${N} devices flushed at the kill; ${inFlightBack} readings in flight at the kill came back and were predicted after the restart`);

    const got = predictedKeys();
    expect(got.size).toBe(rows.length);
    for (const d of flushed) {
      for (const r of rows.filter((x) => x.device === d && !beforeRestart.has(`${d}/${x.seq}`))) {
        const p = got.get(`${d}/${r.seq}`)!;
        const want = reference.get(d)![r.seq];
        expect(Math.abs(p.y.temperature - want[0]), `${d}/${r.seq}`).toBeLessThanOrEqual(1e-6);
        expect(Math.abs(p.y.humidity - want[1]), `${d}/${r.seq}`).toBeLessThanOrEqual(1e-6);
      }
    }
    expect(await run.stop()).toBe(0);
    await pub.endAsync();
    await sink.client.endAsync();
    await status.client.endAsync();
  }, 60_000);
});
