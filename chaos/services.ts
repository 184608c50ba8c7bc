/**
 * The chaos run's own Redis and PostgreSQL, started the way production runs them apart from the
 * app, so the runner can kill and restart each one under the app's feet: Redis is killed with
 * SIGKILL and started again on the same port from its AOF (fsync on every write); PostgreSQL is
 * restarted with `pg_ctl restart -m fast` on the same data directory.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../src/log.ts';
import { freePort, startPrivateRedis, type PrivateRedis } from '../src/startup/redis-server.ts';

export interface ChaosRedis {
  url: string;
  port: number;
  /** Kills redis-server with SIGKILL (no SHUTDOWN, no save: what is durable is only what the AOF holds). */
  kill(): Promise<void>;
  /** Starts redis-server again on the same port from the same AOF directory. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(probe: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts a private redis-server (the app's own launcher, AOF with fsync always) under `dir`. */
export async function startChaosRedis(dir: string, log: Logger): Promise<ChaosRedis> {
  const port = await freePort();
  let server: PrivateRedis = await startPrivateRedis(dir, log, { port });
  const pidOf = (): number | undefined => {
    const stateFile = path.join(dir, 'server.json');
    if (!existsSync(stateFile)) return undefined;
    return (JSON.parse(readFileSync(stateFile, 'utf8')) as { pid: number }).pid;
  };
  return {
    url: server.url,
    port,
    async kill() {
      const pid = pidOf();
      if (pid === undefined || !alive(pid)) throw new Error('redis-server is not running');
      process.kill(pid, 'SIGKILL');
      await until(() => !alive(pid), 5_000, 'redis-server did not die');
    },
    async start() {
      server = await startPrivateRedis(dir, log, { port });
    },
    async stop() {
      const pid = pidOf();
      if (pid !== undefined && alive(pid)) await server.stop();
    },
  };
}

export interface ChaosPostgres {
  url: string;
  /** `pg_ctl restart -m fast`: every connection is cut, the server comes back on the same data. */
  restart(): Promise<void>;
  stop(): void;
}

function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const version of versions) {
    const bin = path.join(root, version, 'bin');
    if (existsSync(path.join(bin, 'initdb'))) return bin;
  }
  throw new Error('PostgreSQL server binaries not found: apt-get install -y postgresql');
}

/**
 * A throwaway PostgreSQL cluster under `dir` on a free loopback port (Debian's binaries, run as
 * the postgres user when we are root), like test/support/services.ts starts for the tests.
 */
export async function startChaosPostgres(dir: string): Promise<ChaosPostgres> {
  const bin = postgresBin();
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const run = (args: string[]) => {
    const command = [path.join(bin, args[0] as string), ...args.slice(1)];
    const result = asRoot
      ? spawnSync('runuser', ['-u', 'postgres', '--', ...command], { encoding: 'utf8' })
      : spawnSync(command[0] as string, command.slice(1), { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${args[0]} failed: ${result.stderr || result.stdout}`);
  };
  const runAsync = async (args: string[]) => {
    const command = [path.join(bin, args[0] as string), ...args.slice(1)];
    await (asRoot
      ? promisify(execFile)('runuser', ['-u', 'postgres', '--', ...command])
      : promisify(execFile)(command[0] as string, command.slice(1)));
  };
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  run(['initdb', '-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  run(['pg_ctl', '-D', dataDir, '-w', '-l', logFile, '-o', options, 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    restart: () => runAsync(['pg_ctl', '-D', dataDir, '-w', '-l', logFile, '-m', 'fast', '-o', options, 'restart']),
    stop: () => run(['pg_ctl', '-D', dataDir, '-m', 'immediate', 'stop']),
  };
}
