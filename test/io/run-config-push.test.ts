// The model-push settings of `edge-rnn run`: defaults, flags / env / file, and the
// repeated --trust flag through commander.
import { Command } from 'commander';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveRunConfig } from '../../src/io/run-config.js';
import { registerRun } from '../../src/cli/commands/run.js';

describe('run settings for pushed models', () => {
  it('has safe defaults: a model topic named after the model, probation 100, anti-rollback on, a store next to --model', () => {
    const c = resolveRunConfig({ flags: { model: '/opt/edge/m.msgpack', instance: 'gw1' }, env: {} });
    expect(c).toMatchObject({
      modelTopic: 'models/{model}', trust: [], allowDowngrade: false, probation: 100,
      modelStore: '/opt/edge/pushed/gw1', modelStatusTopic: 'edge-rnn/{instance}/model',
    });
  });

  it('reads them from flags, env vars and the config file; "none" turns the topic and the store off', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'edge-rnn-cfg-')), 'run.json');
    writeFileSync(file, JSON.stringify({ model: 'm', trust: ['/k/a.pub.pem', '/k/b.pub.pem'], allowDowngrade: true, probation: 0, modelStore: 'none' }));
    const c = resolveRunConfig({ flags: {}, env: { EDGE_RNN_MODEL_TOPIC: 'none' }, configFile: file });
    expect(c).toMatchObject({ trust: ['/k/a.pub.pem', '/k/b.pub.pem'], allowDowngrade: true, probation: 0, modelStore: null, modelTopic: null });
    const d = resolveRunConfig({ flags: { model: 'm', trust: 'a.pem,b.pem', probation: '5' }, env: { EDGE_RNN_ALLOW_DOWNGRADE: 'no', EDGE_RNN_MODEL_STORE: '/var/lib/edge-rnn' } });
    expect(d).toMatchObject({ trust: ['a.pem', 'b.pem'], probation: 5, allowDowngrade: false, modelStore: '/var/lib/edge-rnn' });
  });

  it.each([
    [{ model: 'm', probation: '-1' }, /--probation: expected a non-negative integer/],
    [{ model: 'm', allowDowngrade: 'maybe' }, /--allow-downgrade: expected true or false/],
    [{ model: 'm', modelTopic: 'models/+' }, /plain topic/],
  ])('refuses bad values (%#)', (flags, message) => {
    expect(() => resolveRunConfig({ flags, env: {} })).toThrow(message);
    expect(() => resolveRunConfig({ flags, env: {} })).toThrow(ConfigError);
  });

  it('--trust may be repeated on the command line; --allow-downgrade takes no value', () => {
    const program = new Command().exitOverride();
    registerRun(program);
    const run = program.commands.find((c) => c.name() === 'run')!;
    run.action(() => undefined);
    program.parse(['run', '--model', 'm', '--trust', 'a.pem', '--trust', 'b.pem', '--allow-downgrade'], { from: 'user' });
    const c = resolveRunConfig({ flags: run.opts(), env: {} });
    expect(c.trust).toEqual(['a.pem', 'b.pem']);
    expect(c.allowDowngrade).toBe(true);
  });
});
