// What `edge-rnn status` (and so deploy.sh's device check) counts as "online since T".
import { describe, expect, it } from 'vitest';
import { statusProblem } from '../../src/io/status-probe.js';
import { parseSince } from '../../src/cli/commands/status.js';

const doc = (d: unknown) => Buffer.from(JSON.stringify(d));
const T = Date.parse('2026-12-02T10:00:00.000Z');

describe('statusProblem', () => {
  it('accepts an online status published at or after since', () => {
    expect(statusProblem(doc({ state: 'online', at: '2026-12-02T10:00:00.000Z' }), T)).toBe(null);
    expect(statusProblem(doc({ state: 'online', at: '2026-12-02T10:00:05.000Z' }), T)).toBe(null);
    expect(statusProblem(doc({ state: 'online', at: '2020-01-01T00:00:00.000Z' }), undefined)).toBe(null);
  });
  it('names why anything else does not count', () => {
    expect(statusProblem(doc({ state: 'online', at: '2026-12-02T09:59:59.999Z' }), T)).toBe('online at 2026-12-02T09:59:59.999Z, before 2026-12-02T10:00:00.000Z');
    expect(statusProblem(doc({ state: 'online' }), T)).toBe('online at undefined, before 2026-12-02T10:00:00.000Z');
    expect(statusProblem(doc({ state: 'offline', at: '2026-12-02T10:00:01.000Z' }), T)).toBe('state "offline" at 2026-12-02T10:00:01.000Z');
    expect(statusProblem(Buffer.alloc(0), T)).toBe('an empty (cleared) status');
    expect(statusProblem(Buffer.from('{nope'), T)).toBe('a payload that is not JSON');
    expect(statusProblem(doc(null), T)).toBe('a payload that is not a JSON object');
    expect(statusProblem(Buffer.alloc(20_000, 0x20), T)).toBe('a 20000-byte payload, not a status document');
  });
});

describe('parseSince', () => {
  it('takes epoch seconds (date +%s) and ISO 8601', () => {
    expect(parseSince('1764669600')).toBe(1_764_669_600_000);
    expect(parseSince('2026-12-02T10:00:00Z')).toBe(T);
    expect(() => parseSince('yesterday')).toThrow('--since: expected an ISO 8601 time or seconds since the epoch, got "yesterday"');
  });
});
