// The model store: atomic writes, previous kept, rollback, and a start-up that falls back
// past a damaged file instead of failing.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { keyId } from '../../src/io/keys.js';
import { sealModel } from '../../src/io/model-envelope.js';
import { chooseStartModel, ModelStore, writeFileAtomic } from '../../src/io/model-store.js';
import { encodeModel } from '../../src/model/codec.js';
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

  it('keeps the previous accepted model and starts from the newest', () => {
    const s = store();
    s.save(sealed(2));
    s.save(sealed(3));
    expect(existsSync(s.previous)).toBe(true);
    const { log } = capture();
    const start = chooseStartModel(file, s, trusted, log);
    expect(start).toMatchObject({ source: 'store', path: s.current });
    expect(start.model.modelVersion).toBe(3);
  });

  it('a truncated current file falls back to the previous one, with a log line naming the file', () => {
    const s = store();
    s.save(sealed(2));
    s.save(sealed(3));
    truncateSync(s.current, 100);
    const { log, lines } = capture();
    const start = chooseStartModel(file, s, trusted, log);
    expect(start.model.modelVersion).toBe(2);
    expect(lines.some((l) => l.level === 40 && l.path === s.current && /unusable/.test(l.msg))).toBe(true);
  });

  it('both files damaged, or no trusted key: serves --model and says so; never throws', () => {
    const s = store();
    s.save(sealed(2));
    s.save(sealed(3));
    writeFileSync(s.current, Buffer.alloc(0));
    const prev = readFileSync(s.previous);
    prev[prev.length - 3] ^= 0xff; // a flipped byte of the model: the signature no longer verifies
    writeFileSync(s.previous, prev);
    const { log, lines } = capture();
    expect(chooseStartModel(file, s, trusted, log)).toMatchObject({ source: 'file', sha256: 'file-sha' });
    expect(lines.filter((l) => /unusable/.test(l.msg))).toHaveLength(2);
    expect(lines.some((l) => /serving --model/.test(l.msg))).toBe(true);

    const t = store();
    t.save(sealed(4));
    expect(chooseStartModel(file, t, new Map(), capture().log).source).toBe('file');
  });

  it('skips stored models of other inputs, not newer than --model, or rolled back', () => {
    const s = store();
    s.save(sealed(5, { inputs: ['a', 'b'] }));
    expect(chooseStartModel(file, s, trusted, capture().log).source).toBe('file');
    s.save(sealed(6));
    expect(chooseStartModel({ model: version('m', 7), sha256: 'x' }, s, trusted, capture().log).source).toBe('file');
    s.rollBack({ name: 'm', version: 6 });
    // v6 is gone and remembered; the previous (other inputs) is current again and still skipped.
    expect(s.rolledBack()).toEqual([{ name: 'm', version: 6 }]);
    expect(chooseStartModel(file, s, trusted, capture().log).source).toBe('file');
  });

  it('rollBack makes the previous model current again, or removes the current when there is none', () => {
    const s = store();
    s.save(sealed(2));
    s.save(sealed(3));
    s.rollBack({ name: 'm', version: 3 });
    expect(chooseStartModel(file, s, trusted, capture().log).model.modelVersion).toBe(2);
    s.rollBack({ name: 'm', version: 2 });
    expect(existsSync(s.current)).toBe(false);
    expect(s.rolledBack()).toEqual([{ name: 'm', version: 3 }, { name: 'm', version: 2 }]);
    writeFileSync(s.rolledBackFile, '{ not json');
    expect(s.rolledBack()).toEqual([]);
  });
});
