import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, type AppConfig } from '../../src/config.ts';
import { resolveLogFormat } from '../../src/log.ts';
import { BootError } from '../../src/startup/boot.ts';
import { bootFailureLine, readyLine } from '../../src/startup/boot-messages.ts';

function configFor(env: Record<string, string> = {}): AppConfig {
  const result = loadConfig({ DATA_DIR: '/srv/app/data', ...env });
  if (!result.ok) throw new Error(result.error);
  return result.value;
}

function systemError(code: string, port: number): Error {
  return Object.assign(new Error(`listen ${code}: address already in use :::${port}`), { code, port });
}

describe('the boot ready line', () => {
  it('names the dashboard and the token file relative to where the app was started', () => {
    expect(readyLine(configFor(), 'http://127.0.0.1:3000', '/srv/app')).toBe(
      `ready: open http://127.0.0.1:3000/admin and sign in with the token in ${path.join('data', 'secrets', 'admin-token')}`,
    );
  });

  it('names the token file in full when the data directory is elsewhere', () => {
    expect(readyLine(configFor(), 'http://127.0.0.1:3000', '/home/me')).toContain('the token in /srv/app/data/secrets/admin-token');
  });

  it('points to ADMIN_TOKEN, never its value, when one is set', () => {
    const line = readyLine(
      configFor({ ADMIN_TOKEN: 'a-very-long-admin-token-value-0123456789ABCDEF' }),
      'http://127.0.0.1:3000',
      '/srv/app',
    );
    expect(line).toBe('ready: open http://127.0.0.1:3000/admin and sign in with the ADMIN_TOKEN you set');
    expect(line).not.toContain('a-very-long-admin-token-value-0123456789ABCDEF');
  });

  it('uses PUBLIC_URL for the dashboard when it is set', () => {
    expect(readyLine(configFor({ PUBLIC_URL: 'https://sync.example.com' }), 'http://127.0.0.1:3000', '/srv/app')).toMatch(
      /^ready: open https:\/\/sync\.example\.com\/admin /,
    );
  });

  it('says where the dashboard is served from in a worker process', () => {
    expect(readyLine(configFor(), undefined, '/srv/app')).toContain('the dashboard is served by the web process');
  });
});

describe('a boot failure line', () => {
  it('names PORT for the app port in use', () => {
    expect(bootFailureLine(systemError('EADDRINUSE', 3000), configFor())).toBe(
      'port 3000 is already in use (another copy of the app, or another program): stop it, or start with PORT=<a free port>',
    );
  });

  it('names SANDBOX_HUBSPOT_PORT for the sandbox HubSpot port in use', () => {
    expect(bootFailureLine(systemError('EADDRINUSE', 4101), configFor())).toContain('start with SANDBOX_HUBSPOT_PORT=<a free port>');
  });

  it('names DATABASE_URL when PostgreSQL refuses the connection', () => {
    expect(bootFailureLine(systemError('ECONNREFUSED', 5433), configFor({ DATABASE_URL: 'postgres://u@db.internal:5433/sync' }))).toBe(
      'PostgreSQL is not reachable at DATABASE_URL (db.internal:5433): start it, or unset DATABASE_URL to use the embedded database',
    );
  });

  it('passes a missing dependency message through as it is', () => {
    expect(bootFailureLine(new BootError('Redis is not reachable at REDIS_URL (is it running?)'), configFor())).toBe(
      'Redis is not reachable at REDIS_URL (is it running?)',
    );
  });

  it('leaves a bug alone so its stack trace is kept', () => {
    expect(bootFailureLine(new TypeError('x is undefined'), configFor())).toBeUndefined();
  });
});

describe('the log format', () => {
  it('is readable on a terminal and JSON elsewhere when left on auto', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
  });

  it('is JSON when asked, even on a terminal', () => {
    expect(resolveLogFormat('json', true)).toBe('json');
  });
});
