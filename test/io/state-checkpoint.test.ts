// State checkpoint files: what is written reads back bit for bit; a truncated, flipped,
// oversized or foreign file is refused with a reason (never another exception).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkpointByteBound, checkpointMismatch, CheckpointError, checkpointPath, decodeCheckpoint, encodeCheckpoint,
  readCheckpoint, writeCheckpoint, type Checkpoint,
} from '../../src/io/state-checkpoint.js';
import { prng } from '../helpers/prng.js';

function sample(devices = 5, stateSize = 6, seed = 3): Checkpoint {
  const rand = prng(seed);
  return {
    model: { name: 'm', version: 3, sha256: 'ab'.repeat(32) }, stateSize, savedAt: 1_764_000_000_000,
    devices: Array.from({ length: devices }, (_, i) => ({
      device: `dev-${i}`, lastSeq: i === 0 ? -1 : 100 + i, epoch: i % 3, steps: 10 * i, lastTime: i === 0 ? NaN : 1_764_000_000_000 + i,
      lastTs: i % 2 ? NaN : 1_764_000_000_500 + i,
      state: Float32Array.from({ length: stateSize }, () => rand() * 2 - 1),
      ...(i % 2 ? {} : { seqBits: Uint32Array.from({ length: 8 }, () => Math.floor(rand() * 2 ** 32)) }),
    })),
  };
}

describe('state checkpoints', () => {
  it('round-trips every field bit for bit', () => {
    const c = sample();
    const back = decodeCheckpoint(encodeCheckpoint(c), 1 << 20);
    expect(back.model).toEqual(c.model);
    expect(back.stateSize).toBe(6);
    expect(back.devices.map((d) => [d.device, d.lastSeq, d.epoch, d.steps])).toEqual(c.devices.map((d) => [d.device, d.lastSeq, d.epoch, d.steps]));
    expect(Number.isNaN(back.devices[0].lastTime)).toBe(true);
    expect(back.devices.map((d) => d.lastTs)).toEqual(c.devices.map((d) => d.lastTs));
    back.devices.forEach((d, i) => expect(d.seqBits && Array.from(d.seqBits)).toEqual(c.devices[i].seqBits && Array.from(c.devices[i].seqBits!)));
    back.devices.forEach((d, i) => expect(Array.from(d.state)).toEqual(Array.from(c.devices[i].state)));
  });

  it('refuses every truncation and byte flip with a CheckpointError, never another exception', () => {
    const bytes = encodeCheckpoint(sample(3, 4));
    let refused = 0;
    for (let n = 0; n < bytes.length; n++) {
      expect(() => decodeCheckpoint(bytes.subarray(0, n), 1 << 20)).toThrow(CheckpointError);
      refused++;
    }
    const rand = prng(9);
    for (let k = 0; k < 2000; k++) {
      const b = Uint8Array.from(bytes);
      b[Math.floor(rand() * b.length)] ^= 1 << Math.floor(rand() * 8);
      try {
        decodeCheckpoint(b, 1 << 20); // a flip inside a float or the time can still be a valid file
      } catch (e) {
        expect(e).toBeInstanceOf(CheckpointError);
      }
    }
    expect(refused).toBe(bytes.length);
  });

  it('refuses trailing bytes and files over the bound before decoding', () => {
    const bytes = encodeCheckpoint(sample());
    const trailing = new Uint8Array(bytes.length + 1);
    trailing.set(bytes);
    expect(() => decodeCheckpoint(trailing, 1 << 20)).toThrow(/expected 1/);
    expect(() => decodeCheckpoint(bytes, bytes.length - 1)).toThrow(/over the/);
    expect(checkpointByteBound(10, 6)).toBeGreaterThan(bytes.length);
  });

  it('reads a written file back; a damaged or missing file is a reason, not a throw', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'edge-rnn-ckpt-')), 'state', 'not-there-yet');
    expect(readCheckpoint(dir, 1 << 20)).toMatchObject({ ok: false, missing: true });
    await writeCheckpoint(dir, sample());
    const ok = readCheckpoint(dir, 1 << 20);
    expect(ok.ok).toBe(true);
    writeFileSync(checkpointPath(dir), Buffer.from('not msgpack at all'));
    const bad = readCheckpoint(dir, 1 << 20);
    expect(bad.ok).toBe(false);
    expect(bad.ok ? '' : bad.reason).toMatch(/devices\.state/);
  });

  it('states belong to one model: another name, version, build or state size is a mismatch', () => {
    const c = sample();
    expect(checkpointMismatch(c, c.model, 6)).toBeNull();
    expect(checkpointMismatch(c, { ...c.model, version: 4 }, 6)).toMatch(/v3/);
    expect(checkpointMismatch(c, { ...c.model, sha256: 'cd'.repeat(32) }, 6)).toMatch(/sha256/);
    expect(checkpointMismatch(c, c.model, 8)).toMatch(/6 floats/);
  });
});
