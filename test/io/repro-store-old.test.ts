import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import { keyId } from '../../src/io/keys.js';
import { sealModel } from '../../src/io/model-envelope.js';
import { chooseStartModel, ModelStore } from '../../src/io/model-store.js';
import { encodeModel } from '../../src/model/codec.js';
import { createSession } from '../../src/runtime/session.js';
import { diverging, version } from '../helpers/swap-models.js';
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const trusted = new Map<string, KeyObject>([[keyId(publicKey), publicKey]]);
it('push during probation, rollback, restart: serves only committed', () => {
  const s = new ModelStore(join(mkdtempSync(join(tmpdir(), 'x-')), 's'));
  s.save(sealModel(encodeModel(version('m', 2)), privateKey)); // accepted, on probation
  s.save(sealModel(encodeModel(version('m', 3)), privateKey)); // pushed during v2's probation
  s.rollBack({ name: 'm', version: 3 }); // stream rolls back past both to v1
  const start = chooseStartModel({ model: version('m', 1), sha256: 'f' }, s, trusted, pino({ level: 'silent' }));
  expect(start.model.modelVersion).toBe(1);
});
it('diverging z per step', () => {
  const m = diverging('m', 2); const s = createSession(m); const st = s.createState();
  const out = []; for (let t = 0; t < 6; t++) out.push(Array.from(s.step(st, Float32Array.from([20, 40]))).map((v, o) => ((v - [20, 40][o]) / [2, 3][o]).toFixed(1)));
  console.log(JSON.stringify(out));
});
