// `push --wait` bookkeeping without a broker: which status messages are about this push,
// each instance's last word, when the wait may end, and when the push failed.
import { describe, expect, it } from 'vitest';
import { instanceOf, VerdictTracker } from '../../src/io/push-verdicts.js';

const SHA = 'a'.repeat(64);
const doc = (d: Record<string, unknown>) => Buffer.from(JSON.stringify(d));

describe('instanceOf', () => {
  it.each([
    ['edge-rnn/+/model', 'edge-rnn/gw1/model', 'gw1'],
    ['edge-rnn/+/model', 'edge-rnn/gw1/status', null],
    ['edge-rnn/+/model', 'edge-rnn/gw1/model/x', null],
    ['site/+/edge/+/model', 'site/a/edge/b/model', 'a'],
    ['edge-rnn/gw1/model', 'edge-rnn/gw1/model', 'edge-rnn/gw1/model'],
    ['fleet/#', 'fleet/gw2/model', 'gw2/model'],
  ])('%s on %s -> %s', (pattern, topic, instance) => {
    expect(instanceOf(pattern, topic)).toBe(instance);
  });
});

describe('VerdictTracker', () => {
  it('takes verdicts carrying this sha256, and unverifiable rejections; ignores others', () => {
    const t = new VerdictTracker(['edge-rnn/+/model'], SHA);
    expect(t.offer('edge-rnn/a/model', doc({ event: 'accepted', sha256: 'b'.repeat(64), probation: 0 }))).toBe(false);
    expect(t.offer('edge-rnn/a/model', doc({ event: 'rejected', code: 'bad-signature', reason: 'altered' }))).toBe(true);
    expect(t.offer('edge-rnn/b/model', doc({ event: 'accepted', sha256: SHA, probation: { minReadings: 0, minDevices: 3, minStepsPerDevice: 10, zLimit: 10 } }))).toBe(true);
    expect(t.settled()).toBe(false); // an accepted model is followed by committed or rolled-back
    expect(t.offer('edge-rnn/b/model', doc({ event: 'committed', sha256: SHA }))).toBe(true);
    expect(t.offer('other/c/model', doc({ event: 'accepted', sha256: SHA }))).toBe(false);
    expect(t.offer('edge-rnn/d/model', Buffer.from('{not json'))).toBe(false);
    expect(t.offer('edge-rnn/d/model', doc({ event: 'unchanged', sha256: SHA }))).toBe(false);
    expect(t.offer('edge-rnn/d/model', Buffer.alloc(100_000, 0x20))).toBe(false);
    expect(t.verdicts()).toEqual([
      { instance: 'a', event: 'rejected', code: 'bad-signature', reason: 'altered', final: true },
      { instance: 'b', event: 'committed', final: true },
    ]);
    expect(t.failed()).toBe(true);
    expect(t.settled()).toBe(true);
  });

  it('an accepted push on probation is not settled until committed or rolled back', () => {
    const t = new VerdictTracker(['edge-rnn/+/model'], SHA);
    t.offer('edge-rnn/a/model', doc({ event: 'accepted', sha256: SHA, probation: { minReadings: 100, minDevices: 3, minStepsPerDevice: 10, zLimit: 10 } }));
    expect(t.verdicts()[0].probation).toBe(100);
    expect(t.settled()).toBe(false);
    expect(t.failed()).toBe(false);
    t.offer('edge-rnn/a/model', doc({ event: 'committed', sha256: SHA }));
    expect(t.settled()).toBe(true);
    expect(t.failed()).toBe(false);
    t.offer('edge-rnn/a/model', doc({ event: 'rolled-back', sha256: SHA, code: 'non-finite', reason: 'NaN output' }));
    expect(t.failed()).toBe(true);
    expect(t.verdicts()).toHaveLength(1);
  });

  it('instances known from their retained status that never answer keep the wait open and are listed', () => {
    const t = new VerdictTracker(['edge-rnn/+/model'], SHA);
    t.sawRetained('edge-rnn/quiet/model');
    expect(t.settled()).toBe(false); // nobody answered
    t.offer('edge-rnn/loud/model', doc({ event: 'committed', sha256: SHA }));
    expect(t.settled()).toBe(false);
    expect(t.silent()).toEqual(['quiet']);
    t.offer('edge-rnn/quiet/model', doc({ event: 'rejected', sha256: SHA, code: 'not-newer' }));
    expect(t.settled()).toBe(true);
    expect(t.silent()).toEqual([]);
  });
});
