// `run --anomaly` on a fake MQTT client (no broker, virtual clock): every prediction carries
// anomaly {score, flag}, computed by hand for a persistence forecaster (its forecast is the
// reading itself, so score(u) = max_o |x_u − x_{u−h}| / rmse_o); a restart from a checkpoint
// brings the states back but the pending forecasts start cold; and the CLI refuses a model
// without outputs.anomaly in one line.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { formatHealth, healthMeter } from '../../src/io/health.js';
import { writeModelFile } from '../../src/io/model-file.js';
import { startRuntime, type Runtime, type RuntimeOptions } from '../../src/io/mqtt-runtime.js';
import type { Model } from '../../src/model/types.js';
import { fakeConnect, virtualClock } from '../helpers/fake-mqtt-client.js';
import { persistenceModel } from '../helpers/persistence-model.js';

const model = persistenceModel({ inputs: ['temperature', 'humidity'], horizon: 2, anomaly: { rmse: [0.5, 2], threshold: 4 } });
const reading = (seq: number, temperature: number, humidity = 40) => JSON.stringify({ seq, values: { temperature, humidity } });

let runtimes: Runtime[] = [];
afterEach(async () => {
  await Promise.all(runtimes.map((r) => r.stop()));
  runtimes = [];
  vi.restoreAllMocks();
});

function start(m: Model, extra: Partial<RuntimeOptions> = {}) {
  const fake = fakeConnect();
  const runtime = startRuntime(m, { broker: 'mqtt://fake', instance: 'i1', healthIntervalMs: 0, connect: fake.connect, clock: virtualClock(), anomaly: {}, ...extra });
  runtimes.push(runtime);
  const client = fake.client();
  client.connectNow(false);
  return { runtime, client };
}

describe('run --anomaly on a fake client', () => {
  it('publishes anomaly {score, flag} with every prediction: null for the first two, then the score against the forecast made two readings earlier', async () => {
    const { runtime, client } = start(model);
    await runtime.ready;
    // temperature 20, 20.5, 21, 21.25, 25, 21.5: readings 2.. against readings 0..:
    // |21 - 20| / 0.5 = 2; |21.25 - 20.5| / 0.5 = 1.5; |25 - 21| / 0.5 = 8 (flag); |21.5 - 21.25| / 0.5 = 0.5.
    [20, 20.5, 21, 21.25, 25, 21.5].forEach((t, s) => client.deliver('sensors/a/reading', reading(s, t)));
    const docs = client.docs('predictions/a');
    expect(docs.map((d) => d.anomaly)).toEqual([
      { score: null, flag: null }, { score: null, flag: null },
      { score: 2, flag: false }, { score: 1.5, flag: false }, { score: 8, flag: true }, { score: 0.5, flag: false },
    ]);
    expect(runtime.counters.anomalyFlags).toBe(1);
    const line = formatHealth(healthMeter(runtime.counters, () => 0)());
    expect(line).toMatch(/predictions\/s, 1 anomaly flags, /);
  });

  it('the threshold override flags by its own limit', async () => {
    const { runtime, client } = start(model, { anomaly: { threshold: 1.75 } });
    await runtime.ready;
    [20, 20.5, 21, 21.25].forEach((t, s) => client.deliver('sensors/a/reading', reading(s, t)));
    expect(client.docs('predictions/a').map((d) => d.anomaly.flag)).toEqual([null, null, true, false]);
  });

  it('a restart restores the device states but not the pending forecasts: the first two readings after it are unscored', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'edge-rnn-anomaly-ckpt-'));
    const first = start(model, { stateDir, checkpointIntervalMs: 0 });
    await first.runtime.ready;
    [20, 20.5, 21].forEach((t, s) => first.client.deliver('sensors/a/reading', reading(s, t)));
    await first.runtime.stop();
    const second = start(model, { stateDir, checkpointIntervalMs: 0 });
    await second.runtime.ready;
    expect(second.runtime.checkpoints.checkpointRestored).toBe(1);
    [21.5, 22, 22.5].forEach((t, k) => second.client.deliver('sensors/a/reading', reading(3 + k, t)));
    const docs = second.client.docs('predictions/a');
    expect(docs.map((d) => d.steps)).toEqual([4, 5, 6]); // the state carried on
    expect(docs.map((d) => d.anomaly)).toEqual([{ score: null, flag: null }, { score: null, flag: null }, { score: 2, flag: false }]);
  });

  it('predictions carry no anomaly field without the option', async () => {
    const { runtime, client } = start(model, { anomaly: undefined });
    await runtime.ready;
    [20, 21, 22].forEach((t, s) => client.deliver('sensors/a/reading', reading(s, t)));
    expect(client.docs('predictions/a').every((d) => !('anomaly' in d))).toBe(true);
  });
});

describe('the CLI on a model without outputs.anomaly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-rnn-anomaly-cli-'));
  const old = join(dir, 'old.msgpack');
  writeModelFile(old, persistenceModel({ inputs: ['temperature', 'humidity'], horizon: 2, name: 'old' }));

  async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
    let stderr = '';
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((stderr += String(s)), true));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const code = await main(args);
    vi.restoreAllMocks();
    return { code, stderr };
  }

  for (const [what, args] of [
    ['run --anomaly', ['run', '--model', old, '--anomaly', '--broker', 'mqtt://127.0.0.1:1', '--state-dir', 'none', '--model-store', 'none']],
    ['run --anomaly-threshold (implies --anomaly)', ['run', '--model', old, '--anomaly-threshold', '3', '--broker', 'mqtt://127.0.0.1:1', '--state-dir', 'none', '--model-store', 'none']],
    ['predict --anomaly', ['predict', '--model', old, '--data', join(dir, 'none.csv'), '--anomaly']],
  ] as const) {
    it(`${what}: one line naming the missing field, exit 1, before connecting or reading data`, async () => {
      const { code, stderr } = await cli([...args]);
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/--anomaly: model old v1 has no outputs\.anomaly \(validation RMSE and threshold\); retrain it with edge-rnn train/);
    });
  }
});
