// The model store: atomic writes, every lifecycle transition persisted and replayed at a
// restart (with and without envelopes), and a start-up that falls back past a damaged file.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { keyId } from '../../src/io/keys.js';
import { sealModel } from '../../src/io/model-envelope.js';
import { writeFileAtomic } from '../../src/io/atomic-file.js';
import { chooseStartModel, ModelStore } from '../../src/io/model-store.js';
import { encodeModel } from '../../src/model/codec.js';
import { createSession } from '../../src/runtime/session.js';
import type { ModelStatusEvent } from '../../src/stream/events.js';
import { ModelSlot } from '../../src/stream/model-slot.js';
import { DEFAULT_PROBATION } from '../../src/stream/probation.js';
import { version } from '../helpers/swap-models.js';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const trusted = new Map<string, KeyObject>([[keyId(publicKey), publicKey]]);
const v1 = version('m', 1);
const file = { model: v1, sha256: 'file-sha' };
const sealed = (v: number, opts: Parameters<typeof version>[2] = {}) => sealModel(encodeModel(version('m', v, opts)), privateKey);

function capture() {
  const lines: Record<string, any>[] = [];
  const log = pino({ level: 'debug' }, new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(chunk.toString())); cb(); } }));
  return { log, lines };
}
const store = () => new ModelStore(join(mkdtempSync(join(tmpdir(), 'edge-rnn-store-')), 'pushed', 'i1'));

describe('model store', () => {
  it('writes atomically: the content lands whole and no temp file is left', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edge-rnn-atomic-'));
    const p = join(dir, 'f.bin');
    writeFileSync(p, 'old');
    writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(p)]).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(['f.bin']);
  });

  const sha = (v: number) => `sha${v}`;
  const env = new Map<number, Uint8Array>();
  const envelope = (v: number) => env.get(v) ?? env.set(v, sealed(v)).get(v)!;
  const ev = (status: ModelStatusEvent['status'], v: number, running: number): ModelStatusEvent => ({
    kind: 'model-status', status, name: 'm', version: v, sha256: sha(v), running: { name: 'm', version: running },
    ...(status === 'accepted' ? { probation: DEFAULT_PROBATION } : {}),
    origin: { receivedAt: 0, ...(status === 'accepted' ? { payload: envelope(v) } : {}) },
  });
  type Step = ['accept' | 'commit' | 'roll-back', number];
  /** A runtime's store through `steps` (v1 from --model), then a restart: what it serves and refuses. */
  function lifecycle(steps: Step[], s: ModelStore) {
    s.begin({ name: 'm', version: 1, sha256: 'file-sha' });
    let running = 1;
    let committed = 1;
    for (const [what, v] of steps) {
      if (what === 'accept') s.record(ev('accepted', v, (running = v)));
      else if (what === 'commit') s.record(ev('committed', v, (committed = running = v)));
      else s.record(ev('rolled-back', v, (running = committed)));
    }
    const again = new ModelStore(s.dir, s.stateFile);
    const start = chooseStartModel(file, again, trusted, capture().log);
    const state = again.begin({ name: 'm', version: start.model.modelVersion, sha256: start.source === 'file' ? 'file-sha' : start.sha256 });
    const slot = new ModelSlot(createSession(start.model), { lifecycle: state, runningSha256: start.sha256 });
    const judge = (v: number) => {
      const j = slot.judge({ model: version('m', v), sha256: v === start.model.modelVersion ? start.sha256 : sha(v), keyId: 'k' });
      return j.accept ? 'accept' : j.code;
    };
    return { served: start.model.modelVersion, judge, again };
  }

  // [what, steps, served after a restart with the store (without it: always --model v1), verdicts after a restart with the store on, off]
  const table: [string, Step[], number, Record<number, string>, Record<number, string>][] = [
    ['nothing pushed', [], 1, { 2: 'accept' }, { 2: 'accept' }],
    ['on probation', [['accept', 2]], 1, { 2: 'accept' }, { 2: 'accept' }],
    ['committed', [['accept', 2], ['commit', 2]], 2, { 2: 'unchanged', 3: 'accept' }, { 2: 'accept', 3: 'accept' }],
    ['first model after start rolled back', [['accept', 2], ['roll-back', 2]], 1, { 2: 'rolled-back-before', 3: 'accept' }, { 2: 'rolled-back-before' }],
    ['push during probation, rolled back', [['accept', 2], ['accept', 3], ['roll-back', 3]], 1, { 2: 'accept', 3: 'rolled-back-before' }, { 3: 'rolled-back-before' }],
    ['push during probation, committed', [['accept', 2], ['accept', 3], ['commit', 3]], 3, { 2: 'not-newer', 4: 'accept' }, { 2: 'not-newer', 3: 'accept' }],
    ['committed twice, then a push on probation', [['accept', 2], ['commit', 2], ['accept', 3], ['commit', 3], ['accept', 4]], 3, { 2: 'not-newer', 4: 'accept' }, { 2: 'not-newer', 4: 'accept' }],
  ];

  it.each(table)('restart after: %s', (_what, steps, served, on, off) => {
    const withStore = lifecycle(steps, store());
    expect(withStore.served, 'store on').toBe(served);
    for (const [v, want] of Object.entries(on)) expect(withStore.judge(Number(v)), `store on, v${v}`).toBe(want);
    expect(existsSync(withStore.again.candidate!)).toBe(false); // a model on probation at the stop is dropped
    // --model-store none: only the state file, in its own folder; the restart serves --model v1.
    const stateOnly = new ModelStore(null, join(mkdtempSync(join(tmpdir(), 'edge-rnn-state-')), 'state', 'lifecycle.json'));
    const withoutStore = lifecycle(steps, stateOnly);
    expect(withoutStore.served, 'store off').toBe(1);
    for (const [v, want] of Object.entries(off)) expect(withoutStore.judge(Number(v)), `store off, v${v}`).toBe(want);
  });

  it('a crash between moving the envelopes and writing the state at a commit serves the previous committed model', () => {
    const s = store();
    lifecycle([['accept', 2], ['commit', 2], ['accept', 3]], s);
    const state = readFileSync(s.stateFile);
    s.record(ev('committed', 3, 3));
    writeFileSync(s.stateFile, state); // as if the power went before the state was rewritten
    expect(chooseStartModel(file, s, trusted, capture().log).model.modelVersion).toBe(2);
  });

  it('a truncated committed file falls back to the previous one, with a log line naming the file', () => {
    const s = store();
    lifecycle([['accept', 2], ['commit', 2], ['accept', 3], ['commit', 3]], s);
    truncateSync(s.committed!, 100);
    const { log, lines } = capture();
    const start = chooseStartModel(file, s, trusted, log);
    expect(start).toMatchObject({ source: 'store', path: s.previous });
    expect(start.model.modelVersion).toBe(2);
    expect(lines.some((l) => l.level === 40 && l.path === s.committed && /unusable/.test(l.msg))).toBe(true);
  });

  it('both files damaged, or no trusted key: serves --model and says so; never throws', () => {
    const s = store();
    lifecycle([['accept', 2], ['commit', 2], ['accept', 3], ['commit', 3]], s);
    writeFileSync(s.committed!, Buffer.alloc(0));
    const prev = readFileSync(s.previous!);
    prev[prev.length - 3] ^= 0xff; // a flipped byte of the model: the signature no longer verifies
    writeFileSync(s.previous!, prev);
    const { log, lines } = capture();
    expect(chooseStartModel(file, s, trusted, log)).toMatchObject({ source: 'file', sha256: 'file-sha' });
    expect(lines.filter((l) => /unusable/.test(l.msg))).toHaveLength(2);
    expect(lines.some((l) => /serving --model/.test(l.msg))).toBe(true);

    const t = store();
    lifecycle([['accept', 4], ['commit', 4]], t);
    expect(chooseStartModel(file, t, new Map(), capture().log).source).toBe('file');
  });

  it('skips stored models of other inputs or not newer than --model', () => {
    const s = store();
    s.begin({ name: 'm', version: 1 });
    s.record({ ...ev('accepted', 5, 5), origin: { receivedAt: 0, payload: sealed(5, { inputs: ['a', 'b'] }) } });
    s.record(ev('committed', 5, 5));
    expect(chooseStartModel(file, s, trusted, capture().log).source).toBe('file');
    expect(chooseStartModel({ model: version('m', 7), sha256: 'x' }, lifecycle([['accept', 6], ['commit', 6]], store()).again, trusted, capture().log).source).toBe('file');
  });

  it('a start without any push leaves no file behind; the first transition writes the state', () => {
    const s = store();
    s.begin({ name: 'm', version: 1 });
    expect(existsSync(s.stateFile)).toBe(false);
    s.record(ev('accepted', 2, 2));
    expect(s.read().state).toMatchObject({ serving: { version: 1 }, probation: { version: 2 } });
  });

  it('a damaged state file is reported and read as a fresh start; the store keeps working', () => {
    const s = store();
    lifecycle([['accept', 2], ['commit', 2]], s);
    writeFileSync(s.stateFile, '{ not json');
    const { log, lines } = capture();
    expect(chooseStartModel(file, s, trusted, log).source).toBe('file'); // nothing is known to have committed
    const state = s.begin({ name: 'm', version: 1 }, log);
    expect(state.floor).toEqual({});
    expect(lines.some((l) => l.level === 40 && /unusable \(not JSON\)/.test(l.msg))).toBe(true);
    expect(() => new ModelStore(null)).toThrow(/folder or a state file/);
  });
});
