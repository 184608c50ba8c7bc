/**
 * The admin token and the key that seals tokens at rest. Live mode requires ADMIN_TOKEN and
 * ENCRYPTION_KEY (config refuses to start without them); sandbox mode generates what is missing
 * once into DATA_DIR (owner-only files) and logs where, never the value.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isStrongToken, type AppConfig } from '../../config.ts';
import type { Logger } from '../../log.ts';
import { createSealer, persistentSecret, type Sealer } from '../../runtime/secrets.ts';

export interface AdminSecrets {
  adminToken: string;
  sealer: Sealer;
}

/** Where sandbox mode keeps the admin token it generated (the boot's last line points here). */
export function adminTokenFile(dataDir: string): string {
  return path.join(dataDir, 'secrets', 'admin-token');
}

/** The configured secrets, or generated ones for sandbox mode. */
export function resolveAdminSecrets(config: AppConfig, log: Logger): AdminSecrets {
  const dir = path.join(config.dataDir, 'secrets');
  let key = config.encryptionKey;
  if (!key) {
    const file = path.join(dir, 'encryption-key');
    key = persistentSecret(file, 32);
    log.warn(
      { file },
      'ENCRYPTION_KEY is not set: sandbox mode seals stored tokens with a key generated in this file (set ENCRYPTION_KEY in production)',
    );
  }
  let adminToken = config.adminToken;
  if (!adminToken) {
    const file = adminTokenFile(config.dataDir);
    const kept = existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
    if (kept !== undefined && isStrongToken(kept)) {
      adminToken = kept;
    } else {
      // 32 random bytes, as ADMIN_TOKEN must be; a shorter token an earlier version wrote is replaced.
      adminToken = randomBytes(32).toString('hex');
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, adminToken, { mode: 0o600 });
      if (kept !== undefined) log.warn({ file }, 'the generated admin token was shorter than 32 bytes: a new one replaces it');
    }
    log.warn({ file }, 'ADMIN_TOKEN is not set: sandbox mode generated one; sign in at /admin with the token in this file');
  }
  return { adminToken, sealer: createSealer(key, config.previousEncryptionKeys) };
}
