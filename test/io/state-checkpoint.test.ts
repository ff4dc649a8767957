// State checkpoint files: what is written reads back bit for bit; a truncated, flipped,
// oversized or foreign file is refused with a reason (never another exception).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { CheckpointWriter } from '../../src/io/checkpoint-writer.js';
import {
  checkpointByteBound, checkpointMismatch, CheckpointError, checkpointPath, decodeCheckpoint, encodeCheckpoint,
  encodeCheckpointWith, readCheckpoint, writeCheckpoint, type Checkpoint,
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

  it('writes msgpack that msgpackr reads as the documented document, every int and str form, its buffer grown and reused', () => {
    const ids = ['d', 'x'.repeat(31), 'y'.repeat(32), 'z'.repeat(255), 'w'.repeat(256), 'é'.repeat(600), '温度'];
    const numbers = [0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 1_764_000_000_123, Number.MAX_SAFE_INTEGER];
    const rand = prng(5);
    const devices = ids.map((device, i) => ({
      device, lastSeq: i === 0 ? -1 : numbers[i % numbers.length], epoch: numbers[(i + 3) % numbers.length], steps: numbers[(i + 6) % numbers.length],
      lastTime: i === 1 ? NaN : 1_764_000_000_000.5 + i, lastTs: numbers[(i + 9) % numbers.length],
      // 70 floats: 280 bytes, the bin 16 form
      state: Float32Array.from({ length: 70 }, () => rand() * 2 - 1),
      ...(i % 2 ? {} : { seqBits: Uint32Array.from({ length: 8 }, () => Math.floor(rand() * 2 ** 32)) }),
    }));
    const writer = new CheckpointWriter(16); // grows several times
    const c = { model: { name: 'm', version: 3 }, stateSize: 70, savedAt: 1_764_000_000_000, devices };
    const source = (n: number) => ({ ...c, forEachDevice: (visit: (d: (typeof devices)[number]) => void) => devices.slice(0, n).forEach((d) => visit(d)) });
    encodeCheckpointWith(writer, source(ids.length)); // a bigger document first: the second reuses the buffer
    const doc = unpack(encodeCheckpointWith(writer, source(5))) as Record<string, any>;
    expect({ ...doc, devices: undefined }).toEqual({ format: 'edge-rnn-state', version: 1, model: { name: 'm', version: 3 }, stateSize: 70, savedAt: 1_764_000_000_000, devices: undefined });
    expect(doc.devices).toHaveLength(5);
    doc.devices.forEach((r: unknown[], i: number) => {
      const d = devices[i];
      expect(r.slice(0, 6)).toEqual([d.device, d.lastSeq, d.epoch, d.steps, Number.isNaN(d.lastTime) ? null : d.lastTime, d.lastTs]);
      expect(r[6] === null ? null : Array.from(new Uint32Array(Uint8Array.from(r[6] as Uint8Array).buffer))).toEqual(d.seqBits ? Array.from(d.seqBits) : null);
      expect(Array.from(new Float32Array(Uint8Array.from(r[7] as Uint8Array).buffer))).toEqual(Array.from(d.state));
    });
    const all = decodeCheckpoint(encodeCheckpointWith(writer, source(ids.length)), 1 << 20);
    expect(all.devices.map((d) => d.device)).toEqual(ids);
  });
});
