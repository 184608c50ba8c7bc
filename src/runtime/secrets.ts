/**
 * Tokens at rest: AES-256-GCM with ENCRYPTION_KEY (random 12-byte IV, 16-byte tag). A sealed value
 * names its key by a 4-byte key id (so keys can rotate) and is bound to where it is stored: the
 * caller's context (installation and slot) is authenticated as associated data, so a value copied
 * into another installation's or another slot's column does not open. In sandbox mode with no key
 * configured, a key is generated once and kept in DATA_DIR with owner-only permissions.
 *
 * Format 2: [0x02][key id: 4 bytes][IV: 12][tag: 16][ciphertext], associated data = the 5 header
 * bytes + the context. Format 1 (earlier versions: a 1-byte key id, no associated data) still
 * opens, and is sealed again in format 2 on the next write or by the vault's upgrade at boot.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const FORMAT = 2;
const LEGACY_FORMAT = 1;
const HEADER_BYTES = 5;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Seals and opens values bound to a context (where the value is stored, e.g. `installation:<id>:hubspot`). */
export interface Sealer {
  seal(plaintext: string, context: string): Buffer;
  open(sealed: Buffer, context: string): string;
  /** True when a value is in an earlier format (or under a previous key) and should be sealed again. */
  isOutdated(sealed: Buffer): boolean;
}

/** A key configuration that cannot work: two different keys with the same key id. */
export class KeyConfigurationError extends Error {
  override readonly name = 'KeyConfigurationError';
}

function digest(key: Buffer): Buffer {
  return createHash('sha256').update(key).digest();
}

/** The 4-byte, non-secret id naming a key in each value it seals (hex, for messages). */
export function keyIdOf(key: Buffer): string {
  return digest(key).subarray(0, 4).toString('hex');
}

/** The 1-byte id format 1 stored: several keys may share one, so each candidate is tried. */
function legacyKeyId(key: Buffer): number {
  return digest(key)[0] ?? 0;
}

/**
 * Names the configured keys that share a key id (different keys, same id), or null when every id
 * is distinct. Labels say which setting holds each key, never the key.
 */
export function keyIdCollision(keys: readonly { label: string; key: Buffer }[]): string | null {
  const seen = new Map<string, { label: string; key: Buffer }>();
  for (const entry of keys) {
    const id = keyIdOf(entry.key);
    const other = seen.get(id);
    if (other && !other.key.equals(entry.key)) {
      return `${other.label} and ${entry.label} are different keys with the same key id ${id}: values sealed with one could not be told from the other's. Generate a new key (openssl rand -hex 32) for one of them`;
    }
    if (!other) seen.set(id, entry);
  }
  return null;
}

/**
 * Builds a sealer. `previousKeys` still open values (key rotation: set the new ENCRYPTION_KEY,
 * keep the old one as a previous key until every credential has been sealed again). Refuses two
 * different keys with the same key id.
 */
export function createSealer(key: Buffer, previousKeys: readonly Buffer[] = []): Sealer {
  if (key.length !== 32) throw new Error('encryption key must be 32 bytes');
  const collision = keyIdCollision([
    { label: 'ENCRYPTION_KEY', key },
    ...previousKeys.map((k, i) => ({ label: `ENCRYPTION_KEY_PREVIOUS #${i + 1}`, key: k })),
  ]);
  if (collision) throw new KeyConfigurationError(collision);
  const keys = [key, ...previousKeys];
  const byId = new Map<string, Buffer>();
  for (const k of keys) if (!byId.has(keyIdOf(k))) byId.set(keyIdOf(k), k);
  const currentId = Buffer.from(keyIdOf(key), 'hex');

  function decrypt(k: Buffer, iv: Buffer, tag: Buffer, body: Buffer, aad: Buffer | null): string {
    const decipher = createDecipheriv('aes-256-gcm', k, iv);
    if (aad) decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  }

  return {
    seal(plaintext, context) {
      const header = Buffer.concat([Buffer.from([FORMAT]), currentId]);
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.concat([header, Buffer.from(context, 'utf8')]));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([header, iv, cipher.getAuthTag(), body]);
    },
    open(sealed, context) {
      if (sealed[0] === FORMAT && sealed.length >= HEADER_BYTES + IV_BYTES + TAG_BYTES) {
        const header = sealed.subarray(0, HEADER_BYTES);
        const k = byId.get(header.subarray(1).toString('hex'));
        if (!k)
          throw new Error(`sealed value was encrypted with a key that is not configured (key id ${header.subarray(1).toString('hex')})`);
        const iv = sealed.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES);
        const tag = sealed.subarray(HEADER_BYTES + IV_BYTES, HEADER_BYTES + IV_BYTES + TAG_BYTES);
        try {
          return decrypt(
            k,
            iv,
            tag,
            sealed.subarray(HEADER_BYTES + IV_BYTES + TAG_BYTES),
            Buffer.concat([header, Buffer.from(context, 'utf8')]),
          );
        } catch {
          throw new Error('sealed value does not authenticate: it was damaged, or it belongs to another installation or slot');
        }
      }
      if (sealed[0] === LEGACY_FORMAT && sealed.length >= 2 + IV_BYTES + TAG_BYTES) {
        const candidates = keys.filter((k) => legacyKeyId(k) === sealed[1]);
        if (candidates.length === 0) throw new Error('sealed value was encrypted with a key that is not configured');
        const iv = sealed.subarray(2, 2 + IV_BYTES);
        const tag = sealed.subarray(2 + IV_BYTES, 2 + IV_BYTES + TAG_BYTES);
        for (const k of candidates) {
          try {
            return decrypt(k, iv, tag, sealed.subarray(2 + IV_BYTES + TAG_BYTES), null);
          } catch {
            // Another configured key with the same 1-byte id may be the one.
          }
        }
        throw new Error(
          'sealed value does not authenticate with any configured key: it was damaged, or sealed with a key that is not configured',
        );
      }
      throw new Error('sealed value has an unknown format');
    },
    isOutdated(sealed) {
      return sealed[0] !== FORMAT || !sealed.subarray(1, HEADER_BYTES).equals(currentId);
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
