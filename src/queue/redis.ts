/** Redis connections for queues: workers block and wait; producers fail fast so receivers can answer 503. */
import { Redis, type RedisOptions } from 'ioredis';

/** The hash-tagged prefix keeps every key of a queue in one Redis Cluster slot. */
export const DEFAULT_QUEUE_PREFIX = '{smarketing}';

/** A connection for BullMQ workers (blocking commands; retries forever while Redis is away). */
export function workerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true });
}

/** A connection for producers: commands fail at once while Redis is down instead of queueing. */
export function producerConnection(url: string, overrides: RedisOptions = {}): Redis {
  const client = new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    ...overrides,
  });
  // Errors surface on the commands that fail; the connection keeps reconnecting in the background.
  client.on('error', () => undefined);
  return client;
}

/** Resolves once the connection is ready, or rejects after `timeoutMs`. */
export async function untilReady(client: Redis, timeoutMs = 10_000): Promise<void> {
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
