/**
 * Redis connections for BullMQ from a redis:// (or rediss://, TLS) URL. The short-lived commands
 * (queue add, queue status) give up after a few tries with an error naming the server; workers
 * keep reconnecting (BullMQ's own back-off), so a Redis restart does not stop them.
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import { firstLine, VisemoError } from '../util/errors.js';
import { parseRedisUrl, redactRedisUrl } from './redis-url.js';

export function connectionOptions(url: string, opts: { failFast: boolean }): ConnectionOptions {
  const a = parseRedisUrl(url);
  return {
    host: a.host,
    port: a.port,
    db: a.db,
    ...(a.username ? { username: a.username } : {}),
    ...(a.password ? { password: a.password } : {}),
    ...(a.tls ? { tls: {} } : {}),
    ...(opts.failFast ? { connectTimeout: 5000, maxRetriesPerRequest: 2, retryStrategy: (times: number) => (times > 2 ? null : 300) } : {}),
  };
}

/** A queue client for a short command; a VisemoError naming the server when it cannot be reached. */
export async function openQueue(url: string, name: string): Promise<Queue> {
  const queue = new Queue(name, { connection: connectionOptions(url, { failFast: true }) });
  let lastError: unknown;
  queue.on('error', (err) => (lastError = err));
  try {
    await queue.waitUntilReady();
    return queue;
  } catch (err) {
    await queue.close().catch(() => {});
    throw new VisemoError(`cannot reach Redis at ${redactRedisUrl(url)} (${firstLine(lastError ?? err)})`, 'start redis-server there, or pass --redis redis://HOST:PORT');
  }
}
