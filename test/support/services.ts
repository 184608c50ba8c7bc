/**
 * Test services: a private redis-server (the app's own launcher) and a throwaway PostgreSQL
 * cluster (Debian's binaries, run as the postgres user when we are root). Used by global setup.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/log.ts';
import { freePort, startPrivateRedis, type PrivateRedis } from '../../src/startup/redis-server.ts';

export interface Postgres {
  url: string;
  stop(): Promise<void>;
}

const quiet = createLogger('silent');

/** Starts a private redis-server in a temporary directory. */
export async function startTestRedis(): Promise<PrivateRedis & { dir: string; pause(): Promise<void>; resume(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'smk-redis-'));
  let redis = await startPrivateRedis(dir, quiet);
  const port = Number(new URL(redis.url).port);
  return {
    ...redis,
    dir,
    /** Stops the server but keeps its data (AOF) for resume(). */
    pause: async () => redis.stop(),
    /** Starts it again on the same port from the same data. */
    resume: async () => {
      redis = await startPrivateRedis(dir, quiet, { port });
    },
    stop: async () => {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const bin = path.join(root, version, 'bin');
    if (existsSync(path.join(bin, 'initdb'))) return bin;
  }
  throw new Error('PostgreSQL server binaries not found: apt-get install -y postgresql (or set TEST_DATABASE_URL)');
}

/** Starts a throwaway PostgreSQL cluster on a free loopback port. */
export async function startTestPostgres(): Promise<Postgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'smk-pg-'));
  chmodSync(dir, 0o777);
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const run = (args: string[]) => {
    const command = [path.join(bin, args[0] as string), ...args.slice(1)];
    const result = asRoot
      ? spawnSync('runuser', ['-u', 'postgres', '--', ...command], { encoding: 'utf8' })
      : spawnSync(command[0] as string, command.slice(1), { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${args[0]} failed: ${result.stderr || result.stdout}`);
  };
  run(['initdb', '-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  run([
    'pg_ctl',
    '-D',
    dataDir,
    '-w',
    '-l',
    path.join(dir, 'pg.log'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
    'start',
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      try {
        run(['pg_ctl', '-D', dataDir, '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Creates a fresh database on the test cluster and returns its URL. */
export function createDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  execFileSync('psql', ['-q', '-h', url.hostname, '-p', url.port, '-U', 'postgres', '-c', `CREATE DATABASE "${name}"`], {
    stdio: 'ignore',
  });
  url.pathname = `/${name}`;
  return url.toString();
}
