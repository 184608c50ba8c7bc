/**
 * Test services: a private redis-server (the app's own launcher), a three-master Redis Cluster on
 * loopback, and a throwaway PostgreSQL cluster (Debian's binaries, run as the postgres user when
 * we are root). Used by global setup.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createLogger } from '../../src/log.ts';
import { ensureRedisBinary, freePort, loopbackServerArgs, startPrivateRedis, type PrivateRedis } from '../../src/startup/redis-server.ts';

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

/** The 16,384 slots of a cluster split across three masters, as `redis-cli --cluster create` does. */
const SLOT_RANGES: readonly [number, number][] = [
  [0, 5460],
  [5461, 10922],
  [10923, 16383],
];

/**
 * Starts three `redis-server`s in cluster mode on loopback, gives each a third of the slots and
 * joins them (`CLUSTER ADDSLOTSRANGE`, `CLUSTER MEET`), and waits until every node says
 * `cluster_state:ok`. Its URL names the first node; clients find the others from it.
 */
export async function startTestRedisCluster(): Promise<{ url: string; stop(): Promise<void> }> {
  const binary = ensureRedisBinary(quiet);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'smk-redis-cluster-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const children = ports.map((port) =>
    spawn(
      binary,
      [
        ...loopbackServerArgs(port, dir, path.join(dir, `redis-${port}.log`)),
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--appendonly',
        'no',
      ],
      { stdio: 'ignore' },
    ),
  );
  // Commands wait while a server is still starting (it refuses connections until it listens).
  const nodes = ports.map((port) => new Redis(port, '127.0.0.1', { retryStrategy: () => 50, maxRetriesPerRequest: null }));
  for (const node of nodes) node.on('error', () => undefined);
  const stop = async () => {
    for (const node of nodes) node.disconnect();
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => (child.exitCode !== null ? resolve(null) : (child.once('exit', resolve), child.kill('SIGTERM')))),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(nodes.map((node) => node.ping()));
    await Promise.all(nodes.map((node, i) => node.call('CLUSTER', 'ADDSLOTSRANGE', ...(SLOT_RANGES[i] as [number, number]).map(String))));
    for (const port of ports.slice(1)) await nodes[0]?.call('CLUSTER', 'MEET', '127.0.0.1', String(port));
    const deadline = Date.now() + 20_000;
    for (const node of nodes) {
      while (!String(await node.call('CLUSTER', 'INFO')).includes('cluster_state:ok')) {
        if (Date.now() > deadline) throw new Error(`the test Redis Cluster did not form (logs in ${dir})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis://127.0.0.1:${ports[0]}`, stop };
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
