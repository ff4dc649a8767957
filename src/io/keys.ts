// ed25519 key pairs for signing models: PEM files, private key readable by its owner only.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class KeyError extends Error {
  override readonly name = 'KeyError';
}

/** Key id: the first 16 hex digits of sha256 over the public key's SPKI DER bytes. */
export function keyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export interface KeyPairFiles {
  privatePath: string;
  publicPath: string;
  keyId: string;
}

/** Writes `<name>.key.pem` (mode 0600) and `<name>.pub.pem` into dir; refuses to overwrite. */
export function writeKeyPair(dir: string, name = 'edge-rnn', overwrite = false): KeyPairFiles {
  const privatePath = join(dir, `${name}.key.pem`);
  const publicPath = join(dir, `${name}.pub.pem`);
  for (const p of [privatePath, publicPath]) {
    if (!overwrite && existsSync(p)) throw new KeyError(`${p} exists; refusing to overwrite a key (pass --force to replace it)`);
  }
  mkdirSync(dir, { recursive: true });
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  writeWithMode(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600);
  writeWithMode(publicPath, publicKey.export({ type: 'spki', format: 'pem' }), 0o644);
  return { privatePath, publicPath, keyId: keyId(publicKey) };
}

// writeFileSync's `mode` applies only when it creates the file: over an existing 0644 key
// (keygen --force) the new private key stayed 0644 (issue 13). A fresh file written with
// the mode and renamed over the old one never exists with any other mode.
function writeWithMode(path: string, data: string | Buffer, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, data, { mode, flag: 'wx' });
    chmodSync(tmp, mode); // the umask may only have narrowed it; make it exact
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was left behind
    }
    throw new KeyError(`cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Trusting a key that others may write lets them pick what this device runs. */
function assertNotWritableByOthers(path: string): void {
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    return; // readPem names the missing file
  }
  if (mode & 0o022) {
    throw new KeyError(`${path} is writable by group or others (mode 0${mode.toString(8)}); whoever can write it decides which models are trusted: chmod go-w it`);
  }
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new KeyError(`cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function assertEd25519(key: KeyObject, path: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new KeyError(`${path}: expected an ed25519 key, got ${key.asymmetricKeyType}`);
  return key;
}

export function readPrivateKey(path: string): KeyObject {
  const pem = readPem(path, 'private key');
  try {
    return assertEd25519(createPrivateKey(pem), path);
  } catch (e) {
    if (e instanceof KeyError) throw e;
    throw new KeyError(`${path} is not a PEM private key: ${(e as Error).message}`);
  }
}

/** A trusted public key: refused when group or others can write the file. */
export function readPublicKey(path: string): KeyObject {
  assertNotWritableByOthers(path);
  const pem = readPem(path, 'public key');
  // A private key would also yield its public half; refuse it so private keys never
  // get copied to devices by mistake.
  if (pem.includes('PRIVATE KEY')) throw new KeyError(`${path} is a private key; devices trust the public key (.pub.pem)`);
  try {
    return assertEd25519(createPublicKey(pem), path);
  } catch (e) {
    if (e instanceof KeyError) throw e;
    throw new KeyError(`${path} is not a PEM public key: ${(e as Error).message}`);
  }
}
