// Key and credential hygiene (issue 13): private keys are always 0600, also when --force
// replaces an existing 0644 file (reproduced: it stayed 0644); a public key others can
// write is not trusted; credentials over a non-TLS URL are warned about.
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KeyError, readPrivateKey, readPublicKey, writeKeyPair } from '../../src/io/keys.js';
import { plaintextCredentialsWarning } from '../../src/io/mqtt-connect.js';

const mode = (p: string) => statSync(p).mode & 0o777;
const tempDir = () => mkdtempSync(join(tmpdir(), 'edge-rnn-keys-'));

describe('private key files', () => {
  it('--force over an existing 0644 private key writes the new key 0600', () => {
    const dir = tempDir();
    const first = writeKeyPair(dir);
    chmodSync(first.privatePath, 0o644);
    const before = readFileSync(first.privatePath, 'utf8');
    const second = writeKeyPair(dir, 'edge-rnn', true);
    expect(mode(second.privatePath)).toBe(0o600);
    expect(readFileSync(second.privatePath, 'utf8')).not.toBe(before);
    expect(second.keyId).not.toBe(first.keyId);
    readPrivateKey(second.privatePath);
  });

  it('--force over a pre-existing world-writable private key file also ends 0600', () => {
    const dir = tempDir();
    const path = join(dir, 'edge-rnn.key.pem');
    writeFileSync(path, 'placeholder');
    chmodSync(path, 0o666);
    writeKeyPair(dir, 'edge-rnn', true);
    expect(mode(path)).toBe(0o600);
  });
});

describe('trusted public key files', () => {
  it('refuses a public key that group or others can write, naming the file and its mode', () => {
    const dir = tempDir();
    const { publicPath } = writeKeyPair(dir);
    expect(() => readPublicKey(publicPath)).not.toThrow();
    for (const m of [0o666, 0o646, 0o664]) {
      chmodSync(publicPath, m);
      let err: unknown;
      try {
        readPublicKey(publicPath);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KeyError);
      const message = (err as Error).message;
      expect(message).toContain(publicPath);
      expect(message).toContain(`0${m.toString(8)}`);
      expect(message).not.toContain('\n');
    }
  });
});

describe('credentials over a non-TLS URL', () => {
  it.each([
    ['mqtt://broker:1883', { username: 'u' }, true],
    ['ws://broker:8080/mqtt', { password: 'p' }, true],
    ['mqtts://broker:8883', { username: 'u', password: 'p' }, false],
    ['wss://broker/mqtt', { username: 'u' }, false],
    ['mqtt://broker:1883', {}, false],
  ])('%s %o -> warning: %s', (url, auth, warns) => {
    const w = plaintextCredentialsWarning(url, auth);
    if (warns) expect(w).toMatch(/not encrypted|plain text/);
    else expect(w).toBeNull();
  });
});
