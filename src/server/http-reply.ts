/**
 * The server's request plumbing, shared by every route (routes.ts): an error that carries its
 * HTTP status and hint, JSON and file replies, a bounded request body, and the error reply.
 */
import type http from 'node:http';
import { readRegularFile } from '../util/atomic.js';
import { contentType } from './safe-path.js';

/** A refusal: answered with `status` and a JSON body `{ error, hint?, status }`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

/** A file that resolveInside found (null: 404), read whole up to `maxBytes`; HEAD gets the headers only. */
export async function sendFile(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  file: string | null,
  maxBytes: number,
  headers: Record<string, string> = {},
): Promise<void> {
  if (!file) throw new HttpError(404, `not found: ${req.url}`);
  // resolveInside found a regular file; read it so that a pipe swapped in since cannot block a thread.
  const body = await readRegularFile(file, maxBytes);
  res.writeHead(200, { 'Content-Type': contentType(file), 'Content-Length': body.length, 'Cache-Control': 'no-cache', ...headers });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Reads a request body, refusing more than `limit` bytes with 413 (by header first, else while reading) and a body slower than `timeoutMs` with 408. */
export async function readBody(req: http.IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  const tooLarge = () =>
    new HttpError(413, `upload too large: the limit is ${limit} bytes`, 'send a smaller image, or start the server with a larger --max-upload');
  if (declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  // Node's own requestTimeout is checked only every 30 s and not for every stalled body: a timer of our own.
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new HttpError(408, `the request body did not arrive within ${timeoutMs / 1000} s`, 'send the whole image in one request')),
      timeoutMs,
    );
  });
  try {
    const read = (async () => {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) throw tooLarge();
        chunks.push(chunk);
      }
    })();
    await Promise.race([read, stalled]);
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks);
}

/** Answers a route's failure: an HttpError as itself, anything else as 500; a reply already under way is cut off. */
export function replyError(res: http.ServerResponse, err: unknown): void {
  const e = err instanceof HttpError ? err : new HttpError(500, `internal error: ${(err as Error).message}`);
  if (res.headersSent) return void res.destroy();
  // After a refused upload the rest of the body is not read: close the connection.
  if (e.status === 413 || e.status === 408 || e.status === 503 || e.status === 415) res.setHeader('Connection', 'close');
  if (e.status === 503) res.setHeader('Retry-After', '1');
  sendJson(res, e.status, { error: e.message, ...(e.hint ? { hint: e.hint } : {}), status: e.status });
}
