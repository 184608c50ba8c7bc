/**
 * Redis connections for queues: workers block and wait; producers fail fast so receivers can
 * answer 503. One Redis, or a Redis Cluster: every key of the app carries the hash tag of its
 * prefix (`{smarketing}`), so BullMQ's scripts and the app's own multi-key operations (drain lock
 * and its mark, pending sets, limiters) each stay in one slot.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** The hash-tagged prefix keeps every key of a queue in one Redis Cluster slot. */
export const DEFAULT_QUEUE_PREFIX = '{smarketing}';

/** A connection to the app's Redis: one server, or a cluster. */
export type RedisConnection = Redis | Cluster;

/** Where the app's Redis is: `REDIS_URL`, and whether it names a node of a cluster (`REDIS_CLUSTER`). */
export interface RedisTarget {
  url: string;
  cluster?: boolean;
}

const targetOf = (target: string | RedisTarget): RedisTarget => (typeof target === 'string' ? { url: target } : target);

/**
 * A cluster from one of its nodes: the others are discovered from it (`CLUSTER SLOTS`). The URL's
 * user, password and `rediss:` (TLS) apply to every node.
 */
function clusterConnection(url: string, redisOptions: RedisOptions, clusterOptions: ClusterOptions): Cluster {
  const parsed = new URL(url);
  const node = { host: parsed.hostname, port: Number(parsed.port || 6379) };
  return new Cluster([node], {
    ...clusterOptions,
    redisOptions: {
      ...redisOptions,
      ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
      ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  });
}

/** A connection for BullMQ workers (blocking commands; retries forever while Redis is away). */
export function workerConnection(target: string | RedisTarget): RedisConnection {
  const { url, cluster } = targetOf(target);
  const options: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true };
  return cluster ? clusterConnection(url, options, {}) : new Redis(url, options);
}

/** A connection for producers: commands fail at once while Redis is down instead of queueing. */
export function producerConnection(target: string | RedisTarget, overrides: RedisOptions = {}): RedisConnection {
  const { url, cluster } = targetOf(target);
  const retryStrategy = (attempt: number) => Math.min(attempt * 200, 2_000);
  const options: RedisOptions = { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000, retryStrategy, ...overrides };
  const client = cluster
    ? clusterConnection(url, options, { enableOfflineQueue: false, clusterRetryStrategy: retryStrategy })
    : new Redis(url, options);
  // Errors surface on the commands that fail; the connection keeps reconnecting in the background.
  client.on('error', () => undefined);
  return client;
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export async function untilReady(client: RedisConnection, timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`Redis did not become ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}
