/**
 * Redis connections for BullMQ from a redis:// (or rediss://, TLS) URL. Every command that talks
 * to Redis gives up within REDIS_TIMEOUT_MS when the server refuses, never answers, or lacks the
 * URL's database, with an error naming the server (exit 2). The short-lived commands (queue add,
 * queue status) bound each command too; a worker checks the server once when it starts, then
 * keeps reconnecting (BullMQ's own back-off), so a Redis restart does not stop it.
 */
import { Queue, type ConnectionOptions } from 'bullmq';
import { firstLine, VisemoError } from '../util/errors.js';
import { parseRedisUrl, redactRedisUrl } from './redis-url.js';

/** How long a connection, and each command of a short command, may wait for Redis (5 s). */
export const REDIS_TIMEOUT_MS = 5000;

export function connectionOptions(url: string, opts: { failFast: boolean }): ConnectionOptions {
  const a = parseRedisUrl(url);
  return {
    host: a.host,
    port: a.port,
    db: a.db,
    ...(a.username ? { username: a.username } : {}),
    ...(a.password ? { password: a.password } : {}),
    ...(a.tls ? { tls: {} } : {}),
    // commandTimeout: a server that accepts the connection and never answers would otherwise
    // hold every command for good (connectTimeout covers only the TCP connect). Not for a
    // worker's connections: BullMQ's blocking commands wait on purpose.
    // enableReadyCheck and disableClientInfo: no start-up commands that ioredis waits on (and
    // retries on every reconnect); openQueue's first command tells, within commandTimeout,
    // whether the server answers.
    ...(opts.failFast
      ? {
          connectTimeout: REDIS_TIMEOUT_MS,
          commandTimeout: REDIS_TIMEOUT_MS,
          enableReadyCheck: false,
          disableClientInfo: true,
          maxRetriesPerRequest: 1,
          retryStrategy: (times: number) => (times > 2 ? null : 300),
        }
      : {}),
  };
}

/** `work` within `ms`, else an error saying what did not answer. */
async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

const HOW_TO_REACH = 'start redis-server there, or pass --redis redis://HOST:PORT[/DB] of a running one';

/**
 * A queue client for a short command, connected and on the URL's database; a VisemoError naming
 * the server when it refuses, does not answer within REDIS_TIMEOUT_MS, or lacks the database.
 */
export async function openQueue(url: string, name: string): Promise<Queue> {
  const { db } = parseRedisUrl(url);
  // BullMQ's version check (INFO) is skipped here: our SELECT below is the one bounded first
  // command that tells whether the server answers. A worker's own connections still check it.
  const queue = new Queue(name, { connection: connectionOptions(url, { failFast: true }), skipVersionCheck: true });
  let lastError: unknown;
  queue.on('error', (err) => (lastError = err));
  let client: Awaited<Queue['client']>;
  try {
    // Three bounded tries of the TCP connect at most (a refused port fails at once).
    client = await within(3 * REDIS_TIMEOUT_MS + 1000, 'Redis', queue.client);
  } catch (err) {
    await abandon(queue);
    throw new VisemoError(`cannot reach Redis at ${redactRedisUrl(url)} (${firstLine(lastError ?? err)})`, HOW_TO_REACH);
  }
  try {
    // ioredis selects the URL's database on connect but, when the server has no such database,
    // only emits an error and carries on in database 0: select it again and hear the answer.
    await within(REDIS_TIMEOUT_MS + 1000, 'Redis', client.runCommand('select', [db]));
  } catch (err) {
    await abandon(queue);
    const line = firstLine(err);
    if (/DB index/i.test(line))
      throw new VisemoError(
        `Redis at ${redactRedisUrl(url)} has no database ${db} (${line})`,
        'give a database the server has (0 to 15 by default), e.g. redis://HOST:PORT/0',
      );
    throw new VisemoError(`cannot reach Redis at ${redactRedisUrl(url)} (${line})`, HOW_TO_REACH);
  }
  return queue;
}

/** Checks that Redis answers and has the URL's database (what a worker does before it starts). */
export async function checkRedis(url: string, name: string): Promise<void> {
  await closeQuietly(await openQueue(url, name));
}

/** Drops a queue whose server did not answer: no QUIT sent, which would wait for an answer too. */
async function abandon(queue: Queue): Promise<void> {
  const client = await within(2 * REDIS_TIMEOUT_MS, 'Redis', queue.client).catch(() => null);
  client?.disconnect(false);
  await within(REDIS_TIMEOUT_MS, 'Redis', queue.close()).catch(() => {});
}

/** Closes a queue without waiting on a server that does not answer. */
export async function closeQuietly(queue: Queue): Promise<void> {
  // BullMQ drops its error listeners on close: its start-up commands, still waiting, would then
  // fail as an uncaught 'error' event. Their own timeouts end them first.
  await within(2 * REDIS_TIMEOUT_MS, 'Redis', queue.client).catch(() => {});
  await within(REDIS_TIMEOUT_MS, 'Redis', queue.close()).catch(() => queue.disconnect().catch(() => {}));
}

/** An error of a Redis command (a timeout, a dropped connection) as a VisemoError naming the server. */
export function redisFailure(url: string, err: unknown): Error {
  if (err instanceof VisemoError) return err;
  return new VisemoError(
    `Redis at ${redactRedisUrl(url)} stopped answering (${firstLine(err)})`,
    'check that the server is up and reachable, then run the command again',
  );
}
