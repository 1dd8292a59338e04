/**
 * The local web app's server (`visemo serve`, `npm start`). It serves the page, its bundled
 * script, the tfjs wasm binaries, face-api's detector weights, the emotion models and the runs
 * folder — each from its own folder only — and one JSON API to recognise an uploaded image.
 * The page itself runs every model in the browser: webcam frames never reach the server.
 */
import http from 'node:http';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { DetectorChoice } from '../image/face-detector.js';
import type { BackendChoice } from '../engine/backend.js';
import { VisemoError } from '../util/errors.js';
import { Admission } from './admission.js';
import { RecognizerCache, type RecognizeJob, type RecognizeOutcome, type RecognizeWorkerData } from './recognize-job.js';
import { WorkerPool } from './worker-pool.js';
import { webPage } from './web-bundle.js';
import { replyError } from './http-reply.js';
import type { ServerContext } from './recognize-request.js';
import { dispatch, displayHost, LOOPBACK } from './routes.js';

import { INFERENCE_DEFAULTS, SERVER_DEFAULTS } from '../config/inference.js';

export { hostAllowed } from './routes.js';

export interface ServerOptions {
  /** Interface to listen on (default 127.0.0.1: only this machine). */
  host?: string;
  /** Port (default 8321; 0 picks a free one). */
  port?: number;
  /** Folder of training runs and experiment reports (default ./runs). */
  runsDir?: string;
  /** Largest accepted upload in bytes (default 20 MB). */
  maxUploadBytes?: number;
  /** Log one line per request. */
  log?: (line: string) => void;
  /** A request body must arrive within this many milliseconds (default 30 s): a stalled upload is answered 408 and closed. */
  bodyTimeoutMs?: number;
  /**
   * Recognition worker threads, each with its own tfjs engine (default: defaultWorkers(), from the
   * core count). 0 recognises in the server's own thread, one request at a time, as before.
   */
  workers?: number;
  /** Pixels decoded at once at most, over all requests (default 128 megapixels); beyond it requests wait. */
  pixelBudget?: number;
  /** Recognition requests in progress at most (default 32); beyond it requests are answered 503 at once. */
  maxPending?: number;
  /** The face detector of POST /api/recognize (default 'auto': SSD, as predict on images). */
  detector?: DetectorChoice;
  /**
   * The tfjs backend of POST /api/recognize (default 'auto': native oneDNN where its addon is
   * built, about twice as fast as wasm for every detector; else wasm). With native, each worker
   * computes on its share of the cores.
   */
  backend?: BackendChoice;
}

export interface RunningServer {
  url: string;
  /** Bound beyond loopback: reachable from other machines. */
  exposed: boolean;
  server: http.Server;
  /** The recognition workers (null with workers: 0). */
  pool: WorkerPool<RecognizeJob, RecognizeOutcome> | null;
  /** What the server takes on at once: requests in progress and pixels decoding. */
  admission: Admission;
  close(): Promise<void>;
}

// The server's defaults and limits live in src/config/inference.ts (one typed config); these names stay for their readers.
export const DEFAULT_PORT = SERVER_DEFAULTS.port;
export const DEFAULT_MAX_UPLOAD = SERVER_DEFAULTS.maxUploadBytes;
/** Two images at the 64-megapixel limit: about 0.4 GB of decoded RGB with sharp's own buffers on top. */
export const DEFAULT_PIXEL_BUDGET = SERVER_DEFAULTS.pixelBudget;
export const DEFAULT_MAX_PENDING = SERVER_DEFAULTS.maxPending;
/** Each worker holds a tfjs engine, the detector and its models (about 200 MB once loaded): one per core, at most 8. */
export const MAX_DEFAULT_WORKERS = SERVER_DEFAULTS.maxDefaultWorkers;

/** Recognition workers by default: one per core (tfjs' wasm backend computes on one thread), at most MAX_DEFAULT_WORKERS. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(availableParallelism(), MAX_DEFAULT_WORKERS));
}

/**
 * Native compute threads per recognition worker: the cores (or VISEMO_THREADS) shared out, so
 * that workers computing at once do not oversubscribe the machine.
 */
export function threadsPerWorker(workers: number): number {
  return Math.max(1, Math.floor((Number(process.env.VISEMO_THREADS) || availableParallelism()) / Math.max(1, workers)));
}

/** The largest file served (a report with its figures inlined, a model's weights.bin): 512 MB. */
const MAX_SERVED_BYTES = 512 * 1024 * 1024;

/** A request body must arrive within this long (ServerOptions.bodyTimeoutMs). */
export const DEFAULT_BODY_TIMEOUT_MS = SERVER_DEFAULTS.bodyTimeoutMs;

/** The recognition workers of `workers` > 0; with 0 the server recognises in its own thread. */
function recognitionPool(opts: ServerOptions, workers: number): WorkerPool<RecognizeJob, RecognizeOutcome> | null {
  if (workers === 0) return null;
  return new WorkerPool<RecognizeJob, RecognizeOutcome>({
    size: workers,
    script: new URL(`./recognize-worker${path.extname(new URL(import.meta.url).pathname)}`, import.meta.url),
    workerData: {
      detector: opts.detector ?? INFERENCE_DEFAULTS.detector,
      backend: opts.backend ?? INFERENCE_DEFAULTS.backend,
      threads: threadsPerWorker(workers),
    } satisfies RecognizeWorkerData,
    onWorkerExit: (slot, reason) => opts.log?.(`recognition worker ${slot + 1} stopped (${reason}); started a new one`),
  });
}

/** The node server: security headers on every reply, the route table, one log line per request. */
function httpServer(ctx: ServerContext, log: ServerOptions['log']): http.Server {
  const server = http.createServer((req, res) => {
    const started = performance.now();
    // Cross-origin isolation lets tfjs use threaded WebAssembly (SharedArrayBuffer) in the page;
    // every resource is same-origin, so nothing is blocked by it.
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    dispatch(ctx, req, res)
      .catch((err: unknown) => replyError(res, err))
      .finally(() => log?.(`${req.method} ${req.url} ${res.statusCode} ${(performance.now() - started).toFixed(0)} ms`));
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;
  return server;
}

/** Listens on `port`; a port in use is a VisemoError with what to do. */
function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE' ? new VisemoError(`port ${port} on ${host} is already in use`, 'pass another --port, or --port 0 for any free one') : err,
      ),
    );
    server.listen(port, host, () => resolve());
  });
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const workers = opts.workers ?? defaultWorkers();
  if (!Number.isInteger(workers) || workers < 0) throw new RangeError(`workers must be a whole number of at least 0, got ${workers}`);
  const admission = new Admission({ maxPending: opts.maxPending ?? DEFAULT_MAX_PENDING, pixelBudget: opts.pixelBudget ?? DEFAULT_PIXEL_BUDGET });
  const page = await webPage();
  // The recognisers live in the workers, or (workers 0) here.
  const pool = recognitionPool(opts, workers);
  const ctx: ServerContext = {
    host,
    port: () => (server.address() as AddressInfo).port,
    runsDir: path.resolve(opts.runsDir ?? 'runs'),
    maxUploadBytes: opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD,
    bodyTimeoutMs: opts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
    maxServedBytes: MAX_SERVED_BYTES,
    admission,
    page,
    pool,
    localRecognizers: pool ? null : new RecognizerCache(opts.detector ?? INFERENCE_DEFAULTS.detector, opts.backend ?? INFERENCE_DEFAULTS.backend),
  };
  const server = httpServer(ctx, opts.log);
  await listen(server, opts.port ?? DEFAULT_PORT, host).catch(async (err: unknown) => {
    await pool?.close();
    throw err;
  });
  return {
    url: `http://${displayHost(host)}:${ctx.port()}/`,
    exposed: !LOOPBACK.has(host),
    server,
    pool,
    admission,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      await pool?.close();
    },
  };
}
