/**
 * DATA_DIR for an app under test. A fresh embedded PGlite takes seconds to create its cluster
 * (initdb inside WebAssembly, ~10 s on two busy cores), so the run's global setup creates and
 * migrates one template and each app starts from a copy of it — the same files a first boot
 * leaves, with every migration recorded (a boot still runs `migrate`, which finds nothing to do).
 */
import { cpSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';

/** A new temporary DATA_DIR whose `pg/` is a copy of the run's migrated PGlite template. */
export function appDataDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  cpSync(inject('pgliteTemplate'), path.join(dir, 'pg'), { recursive: true });
  return dir;
}
