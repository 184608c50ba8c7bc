/**
 * What the process says at the end of a boot: one line naming the dashboard and where its sign-in
 * token is, or, when the boot failed for a reason a person can fix, one line with the fix. The
 * token itself is never part of either.
 */
import path from 'node:path';
import type { AppConfig } from '../config.ts';
import { adminTokenFile } from '../server/admin/secrets.ts';
import { BootError } from './boot.ts';
import { RedisUnavailableError } from './redis-server.ts';

/** A path as the person who started the app would type it: relative when it is under the cwd. */
function shown(file: string, cwd: string): string {
  const relative = path.relative(cwd, file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/** The last line of a successful boot: where the dashboard is and where its sign-in token comes from. */
export function readyLine(config: AppConfig, listeningUrl: string | undefined, cwd: string): string {
  if (listeningUrl === undefined) return 'ready: workers running; the dashboard is served by the web process (npm run web)';
  const base = config.publicUrlExplicit ? config.publicUrl : listeningUrl;
  const token = config.adminToken ? 'the ADMIN_TOKEN you set' : `the token in ${shown(adminTokenFile(config.dataDir), cwd)}`;
  return `ready: open ${base}/admin and sign in with ${token}`;
}

interface SystemError {
  code?: unknown;
  port?: unknown;
}

/** The environment variable that chose a port this process listens on. */
function portVariable(config: AppConfig, port: number): string {
  if (port === config.sandbox.hubspot.port) return 'SANDBOX_HUBSPOT_PORT';
  if (port === config.sandbox.salesforce.port) return 'SANDBOX_SALESFORCE_PORT';
  return 'PORT';
}

/**
 * One line with the fix for a boot failure a person can act on, or undefined for a bug (which then
 * keeps its stack trace). Every such failure exits with code 1.
 */
export function bootFailureLine(error: unknown, config: AppConfig): string | undefined {
  if (error instanceof BootError || error instanceof RedisUnavailableError) return error.message;
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, port } = error as SystemError;
  if (code === 'EADDRINUSE' && typeof port === 'number') {
    const variable = portVariable(config, port);
    return `port ${port} is already in use (another copy of the app, or another program): stop it, or start with ${variable}=<a free port>`;
  }
  if (code === 'ECONNREFUSED' && config.databaseUrl !== undefined) {
    const database = new URL(config.databaseUrl);
    const databasePort = Number(database.port || 5432);
    if (port === undefined || port === databasePort) {
      return `PostgreSQL is not reachable at DATABASE_URL (${database.hostname}:${databasePort}): start it, or unset DATABASE_URL to use the embedded database`;
    }
  }
  return undefined;
}
