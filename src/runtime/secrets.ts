/**
 * Tokens at rest: AES-256-GCM with ENCRYPTION_KEY (random 12-byte IV, 16-byte tag, key id byte
 * so keys can rotate). In sandbox mode with no key configured, a key is generated once and kept
 * in DATA_DIR with owner-only permissions.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const FORMAT_VERSION = 1;

export interface Sealer {
  seal(plaintext: string): Buffer;
  open(sealed: Buffer): string;
}

/** A short, non-secret fingerprint naming a key, stored with each ciphertext. */
function keyId(key: Buffer): number {
  return createHash('sha256').update(key).digest()[0] ?? 0;
}

/**
 * Builds a sealer. `previousKeys` still decrypt (key rotation: set the new ENCRYPTION_KEY, keep
 * the old one as a previous key until every credential has been re-sealed).
 */
export function createSealer(key: Buffer, previousKeys: readonly Buffer[] = []): Sealer {
  if (key.length !== 32) throw new Error('encryption key must be 32 bytes');
  const byId = new Map<number, Buffer>([key, ...previousKeys].map((k) => [keyId(k), k]));
  const currentId = keyId(key);
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.from([FORMAT_VERSION, currentId]), iv, cipher.getAuthTag(), body]);
    },
    open(sealed) {
      if (sealed.length < 30 || sealed[0] !== FORMAT_VERSION) throw new Error('sealed value has an unknown format');
      const k = byId.get(sealed[1] ?? -1);
      if (!k) throw new Error('sealed value was encrypted with a key that is not configured');
      const decipher = createDecipheriv('aes-256-gcm', k, sealed.subarray(2, 14));
      decipher.setAuthTag(sealed.subarray(14, 30));
      return Buffer.concat([decipher.update(sealed.subarray(30)), decipher.final()]).toString('utf8');
    },
  };
}

/** Reads a generated secret from `file`, creating it (0600) on first use. */
export function persistentSecret(file: string, bytes: number): Buffer {
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  mkdirSync(path.dirname(file), { recursive: true });
  const value = randomBytes(bytes);
  writeFileSync(file, value.toString('hex'), { mode: 0o600 });
  return value;
}
