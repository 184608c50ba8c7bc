import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createSealer, KeyConfigurationError, keyIdOf } from '../../src/runtime/secrets.ts';

const HUBSPOT_SLOT = 'installation:inst-1:hubspot';

/** A value sealed the way earlier versions did (format 1: a 1-byte key id, no associated data). */
function sealLegacy(key: Buffer, plaintext: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([1, createHash('sha256').update(key).digest()[0] ?? 0]), iv, cipher.getAuthTag(), body]);
}

/** Two different keys whose 4-byte key ids are equal, found by a birthday search (about 77,000 keys). */
function collidingKeys(): [Buffer, Buffer] {
  const seen = new Map<string, Buffer>();
  for (let i = 0; ; i += 1) {
    const key = createHash('sha256').update(`key-${i}`).digest();
    const id = keyIdOf(key);
    const other = seen.get(id);
    if (other) return [other, key];
    seen.set(id, key);
  }
}

describe('tokens at rest', () => {
  const key = randomBytes(32);

  it('round-trips a token and never stores it in clear', () => {
    const sealer = createSealer(key);
    const sealed = sealer.seal('refresh-token-123', HUBSPOT_SLOT);
    expect(sealed.toString('utf8')).not.toContain('refresh-token-123');
    expect(sealer.open(sealed, HUBSPOT_SLOT)).toBe('refresh-token-123');
  });

  it('uses a fresh IV so the same token seals differently each time', () => {
    const sealer = createSealer(key);
    expect(sealer.seal('same', HUBSPOT_SLOT).equals(sealer.seal('same', HUBSPOT_SLOT))).toBe(false);
  });

  it('refuses a tampered ciphertext', () => {
    const sealer = createSealer(key);
    const sealed = sealer.seal('token', HUBSPOT_SLOT);
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 1;
    expect(() => sealer.open(sealed, HUBSPOT_SLOT)).toThrow(/does not authenticate/);
  });

  it('names its key with a 4-byte key id', () => {
    const sealed = createSealer(key).seal('token', HUBSPOT_SLOT);
    expect(sealed[0]).toBe(2);
    expect(sealed.subarray(1, 5).toString('hex')).toBe(keyIdOf(key));
    expect(keyIdOf(key)).toHaveLength(8);
  });

  it('refuses a value swapped into another installation', () => {
    const sealer = createSealer(key);
    const sealed = sealer.seal('token', 'installation:inst-1:hubspot');
    expect(() => sealer.open(sealed, 'installation:inst-2:hubspot')).toThrow(/belongs to another installation or slot/);
  });

  it('refuses a value swapped into another slot of the same installation', () => {
    const sealer = createSealer(key);
    const sealed = sealer.seal('{"url":"https://hooks.example.com/x"}', 'installation:inst-1:alert');
    expect(() => sealer.open(sealed, 'installation:inst-1:salesforce')).toThrow(/belongs to another installation or slot/);
  });

  it('refuses a value whose key id was rewritten to another configured key', () => {
    const other = randomBytes(32);
    const sealer = createSealer(key, [other]);
    const sealed = sealer.seal('token', HUBSPOT_SLOT);
    Buffer.from(keyIdOf(other), 'hex').copy(sealed, 1);
    expect(() => sealer.open(sealed, HUBSPOT_SLOT)).toThrow(/does not authenticate/);
  });

  it('still opens values sealed with a previous key after rotation, and says when a key is missing', () => {
    const oldKey = randomBytes(32);
    const sealedWithOld = createSealer(oldKey).seal('legacy', HUBSPOT_SLOT);
    const rotated = createSealer(key, [oldKey]);
    expect(rotated.open(sealedWithOld, HUBSPOT_SLOT)).toBe('legacy');
    expect(rotated.isOutdated(sealedWithOld)).toBe(true);
    expect(() => createSealer(key).open(sealedWithOld, HUBSPOT_SLOT)).toThrow(/not configured/);
  });

  it('opens values sealed in the earlier format, and marks them for sealing again', () => {
    const sealer = createSealer(key);
    const legacy = sealLegacy(key, 'stored-before-the-upgrade');
    expect(sealer.open(legacy, HUBSPOT_SLOT)).toBe('stored-before-the-upgrade');
    expect(sealer.isOutdated(legacy)).toBe(true);
    expect(sealer.isOutdated(sealer.seal('new', HUBSPOT_SLOT))).toBe(false);
  });

  it('opens an earlier-format value when two configured keys share its 1-byte key id', () => {
    // Earlier versions named keys with one byte: find two keys that share it.
    const first = randomBytes(32);
    const firstByte = createHash('sha256').update(first).digest()[0];
    let second = randomBytes(32);
    while (createHash('sha256').update(second).digest()[0] !== firstByte) second = randomBytes(32);
    const legacy = sealLegacy(second, 'sealed-with-the-second-key');
    expect(createSealer(first, [second]).open(legacy, HUBSPOT_SLOT)).toBe('sealed-with-the-second-key');
  });

  it('refuses two different keys with the same key id', () => {
    const [a, b] = collidingKeys();
    expect(a.equals(b)).toBe(false);
    expect(() => createSealer(a, [b])).toThrow(KeyConfigurationError);
    expect(() => createSealer(a, [b])).toThrow(/ENCRYPTION_KEY and ENCRYPTION_KEY_PREVIOUS #1 are different keys with the same key id/);
  });

  it('refuses at configuration time a previous key whose key id collides, naming neither key', () => {
    const [a, b] = collidingKeys();
    const config = loadConfig({ ENCRYPTION_KEY: a.toString('hex'), ENCRYPTION_KEY_PREVIOUS: b.toString('hex') });
    expect(config.ok).toBe(false);
    if (!config.ok) {
      expect(config.error).toContain(
        'ENCRYPTION_KEY_PREVIOUS: ENCRYPTION_KEY and ENCRYPTION_KEY_PREVIOUS #1 are different keys with the same key id',
      );
      expect(config.error).not.toContain(a.toString('hex'));
      expect(config.error).not.toContain(b.toString('hex'));
    }
  });

  it('accepts the same key listed again as a previous key', () => {
    expect(createSealer(key, [Buffer.from(key)]).open(createSealer(key).seal('x', HUBSPOT_SLOT), HUBSPOT_SLOT)).toBe('x');
  });
});
