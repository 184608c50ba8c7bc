/**
 * The zero-setup Redis: a private `redis-server` from PATH, data under DATA_DIR/redis, AOF with
 * fsync on every write so an acknowledged webhook survives even a killed Redis. A server left
 * running by a process that was killed is adopted on the next start instead of started twice.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from '../log.ts';

export interface PrivateRedis {
  url: string;
  /** True when this process started the server (and so stops it on shutdown). */
  owned: boolean;
  stop(): Promise<void>;
}

export class RedisUnavailableError extends Error {}

/** Finds a free loopback TCP port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function which(binary: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const out = found.stdout.trim();
  return found.status === 0 && out ? out : undefined;
}

/** Installs redis-server with apt-get when we may (root on Debian/Ubuntu); otherwise explains how. */
export function ensureRedisBinary(log: Logger): string {
  const existing = which('redis-server');
  if (existing) return existing;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && existsSync('/etc/debian_version') && which('apt-get')) {
    log.info('redis-server is not installed: installing it with apt-get (Debian package redis-server)');
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' });
    const install = spawnSync('apt-get', ['install', '-y', '-qq', '-o', 'Dpkg::Options::=--force-confdef', 'redis-server'], {
      stdio: 'ignore',
    });
    const installed = which('redis-server');
    if (update.status === 0 && install.status === 0 && installed) return installed;
  }
  throw new RedisUnavailableError(
    'redis-server was not found on PATH. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis) or set REDIS_URL.',
  );
}

async function ping(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 500, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The arguments of a `redis-server` on loopback, in the foreground, without snapshots, logging warnings to `logFile`. */
export function loopbackServerArgs(port: number, dir: string, logFile: string): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    '--logfile',
    logFile,
  ];
}

/** Starts (or adopts) the private redis-server whose data lives in `dir`. */
export async function startPrivateRedis(dir: string, log: Logger, options: { port?: number } = {}): Promise<PrivateRedis> {
  mkdirSync(dir, { recursive: true });
  const stateFile = path.join(dir, 'server.json');
  if (existsSync(stateFile)) {
    const previous = JSON.parse(readFileSync(stateFile, 'utf8')) as { pid: number; port: number };
    const url = `redis://127.0.0.1:${previous.port}`;
    if (processAlive(previous.pid) && (await ping(url))) {
      log.info({ port: previous.port, pid: previous.pid }, 'adopted the private redis-server left running by an earlier process');
      return { url, owned: true, stop: () => stopServer(url, previous.pid, stateFile) };
    }
    rmSync(stateFile, { force: true });
  }

  const binary = ensureRedisBinary(log);
  const port = options.port ?? (await freePort());
  const child = spawn(
    binary,
    [
      ...loopbackServerArgs(port, dir, path.join(dir, 'redis.log')),
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--protected-mode',
      'yes',
    ],
    { detached: true, stdio: 'ignore' },
  );
  child.unref();
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (!(await ping(url))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new RedisUnavailableError(`the private redis-server did not start (see ${path.join(dir, 'redis.log')})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const pid = child.pid ?? 0;
  writeFileSync(stateFile, JSON.stringify({ pid, port }));
  log.info({ port, dir }, 'started a private redis-server (AOF on)');
  return { url, owned: true, stop: () => stopServer(url, pid, stateFile) };
}

async function stopServer(url: string, pid: number, stateFile: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    // SHUTDOWN closes the connection instead of replying; the rejection is expected.
    await client.call('SHUTDOWN').catch(() => undefined);
  } catch {
    if (pid > 0 && processAlive(pid)) process.kill(pid, 'SIGTERM');
  } finally {
    client.disconnect();
  }
  const deadline = Date.now() + 5_000;
  while (pid > 0 && processAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
  rmSync(stateFile, { force: true });
}
