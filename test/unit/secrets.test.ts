import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSealer } from '../../src/runtime/secrets.ts';

describe('tokens at rest', () => {
  const key = randomBytes(32);

  it('round-trips a token and never stores it in clear', () => {
    const sealer = createSealer(key);
    const sealed = sealer.seal('refresh-token-123');
    expect(sealed.toString('utf8')).not.toContain('refresh-token-123');
    expect(sealer.open(sealed)).toBe('refresh-token-123');
  });

  it('uses a fresh IV so the same token seals differently each time', () => {
    const sealer = createSealer(key);
    expect(sealer.seal('same').equals(sealer.seal('same'))).toBe(false);
  });

  it('refuses a tampered ciphertext', () => {
    const sealer = createSealer(key);
    const sealed = sealer.seal('token');
    sealed[sealed.length - 1] = (sealed[sealed.length - 1] ?? 0) ^ 1;
    expect(() => sealer.open(sealed)).toThrow();
  });

  it('still opens values sealed with a previous key after rotation', () => {
    const oldKey = randomBytes(32);
    const sealedWithOld = createSealer(oldKey).seal('legacy');
    const rotated = createSealer(key, [oldKey]);
    expect(rotated.open(sealedWithOld)).toBe('legacy');
    expect(() => createSealer(key).open(sealedWithOld)).toThrow(/not configured/);
  });
});
