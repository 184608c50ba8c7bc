import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { startSandboxes } from '../../src/startup/sandboxes.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sandbox-persist-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function boot(env: Record<string, string>) {
  const config = loadConfig({ DATA_DIR: dir, SANDBOX_HUBSPOT_PORT: '0', SANDBOX_SALESFORCE_PORT: '0', LOG_LEVEL: 'silent', ...env });
  if (!config.ok) throw new Error(config.error);
  return startSandboxes(config.value, createLogger('silent'), { hubspot: true, salesforce: true });
}

/** A marketer creates a contact, the sandboxes restart; whether the contact is still there, and what was left in DATA_DIR. */
async function restartWith(env: Record<string, string>): Promise<{ hubspot: boolean; salesforce: boolean; contactKept: boolean }> {
  const first = await boot(env);
  const contact = first.hubspot?.createInUi('contacts', { email: 'kept@example.com', lastname: 'Kept' });
  await first.close();
  const files = {
    hubspot: existsSync(join(dir, 'sandbox', 'hubspot.json')),
    salesforce: existsSync(join(dir, 'sandbox', 'salesforce.json')),
  };
  const second = await boot(env);
  try {
    second.hubspot?.editInUi('contacts', String(contact?.id), { lastname: 'Edited' });
    return { ...files, contactKept: true };
  } catch {
    return { ...files, contactKept: false };
  } finally {
    await second.close();
  }
}

describe('sandbox state on disk (SANDBOX_PERSIST)', () => {
  it('writes both sandboxes’ state under DATA_DIR/sandbox by default, and a restart finds the records again', async () => {
    expect(await restartWith({})).toEqual({ hubspot: true, salesforce: true, contactKept: true });
  });

  it('keeps the records in memory only with SANDBOX_PERSIST=false: nothing is written, a restart starts empty', async () => {
    expect(await restartWith({ SANDBOX_PERSIST: 'false' })).toEqual({ hubspot: false, salesforce: false, contactKept: false });
  });
});
