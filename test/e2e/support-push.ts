// Shared pieces of the model-push end-to-end tests: keys, hand-made envelopes (to reach
// each reject path), and a runtime started the way `run` starts it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { Packr } from 'msgpackr';
import { keyId } from '../../src/io/keys.js';
import { encodeModel } from '../../src/model/codec.js';
import type { Model } from '../../src/model/types.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });

export interface Signer {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  readonly id: string;
}

export function signer(): Signer {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey, privateKey, id: keyId(publicKey) };
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

/** The payload fields of an honest envelope for `model`, with `over` replacing any of them. */
export function payloadFor(model: Model | Uint8Array, key: Signer, over: Record<string, unknown> = {}): Record<string, unknown> {
  const bytes = model instanceof Uint8Array ? model : encodeModel(model);
  const m = model instanceof Uint8Array ? { name: 'x', modelVersion: 1 } : model;
  return { name: m.name, modelVersion: m.modelVersion, createdAt: '2026-11-26T00:00:00Z', keyId: key.id, sha256: sha256(bytes), model: bytes, ...over };
}

/** An envelope over `payload`, signed by `key` (so checks past the signature are reached). */
export function craft(payload: Record<string, unknown>, key: Signer): Uint8Array {
  const bytes = packr.pack(payload);
  return packr.pack({ format: 'edge-rnn-envelope', version: 1, payload: bytes, signature: sign(null, bytes, key.privateKey) });
}

/** A sealed envelope with one payload field changed after signing (the signature is kept). */
export function tamper(envelope: Uint8Array, change: (body: Record<string, unknown>) => void): Uint8Array {
  // msgpackr may hand out views into its input: unpack a copy so `envelope` stays intact.
  const outer = packr.unpack(Uint8Array.from(envelope)) as Record<string, unknown> & { payload: Uint8Array };
  const body = packr.unpack(outer.payload) as Record<string, unknown>;
  change(body);
  return packr.pack({ ...outer, payload: packr.pack(body) });
}

/** `edge-rnn run` as a process; `stop` sends SIGTERM and resolves with its exit code. */
export function spawnRun(cli: string, args: readonly string[], nodeArgs: readonly string[] = []): { child: ChildProcess; logs: () => string; stop: () => Promise<number | null> } {
  const child = spawn(process.execPath, [...nodeArgs, cli, 'run', '--health-interval', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stdout!.on('data', (d) => (logs += d));
  child.stderr!.on('data', (d) => (logs += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child, logs: () => logs,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
