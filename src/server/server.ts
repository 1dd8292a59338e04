/**
 * The local web app's server (`visemo serve`, `npm start`). It serves the page, its bundled
 * script, the tfjs wasm binaries, face-api's detector weights, the emotion models and the runs
 * folder — each from its own folder only — and one JSON API to recognise an uploaded image.
 * The page itself runs every model in the browser: webcam frames never reach the server.
 */
import { createRequire } from 'node:module';
import http from 'node:http';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { faceApiModelDir, type DetectorChoice } from '../image/face-detector.js';
import type { BackendChoice } from '../engine/backend.js';
import { humanModelDir } from '../image/blazeface.js';
import { availableBundledModels, BUNDLED_MODELS, readRunMetadata, resolveModel } from '../model/run-folder.js';
import { RUN_FILES } from '../model/run-files.js';
import { TIGHT_CROP_MARGIN } from '../data/face-cut.js';
import { firstLine, VisemoError } from '../util/errors.js';
import { readRegularFile } from '../util/atomic.js';
import { encodedImageSize, VectorImageError } from '../image/decode.js';
import { Admission, BusyError } from './admission.js';
import { RecognizerCache, runRecognizeJob, type RecognizeJob, type RecognizeOutcome, type RecognizeWorkerData } from './recognize-job.js';
import { WorkerPool } from './worker-pool.js';
import { listRuns } from './runs.js';
import { contentType, resolveInside } from './safe-path.js';
import { BUNDLE_FILE, webPage } from './web-bundle.js';
import type { ModelInfo } from './api-types.js';
import { SERVER_DEFAULTS } from '../config/inference.js';

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

const require = createRequire(import.meta.url);
const WASM_DIR = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
/** Files of a model folder the page may fetch. */
const MODEL_FILES = new Set<string>([RUN_FILES.model, RUN_FILES.weights, RUN_FILES.metadata, RUN_FILES.modelCard]);

/** The largest file served (a report with its figures inlined, a model's weights.bin): 512 MB. */
const MAX_SERVED_BYTES = 512 * 1024 * 1024;

const ACCEPTED_IMAGES = 'send a JPEG, PNG, WebP, TIFF or GIF file';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

// The page needs WebAssembly (tfjs wasm backend) and blob: URLs (uploaded videos and images).
// Threaded wasm starts its workers from blob: URLs.
const PAGE_CSP = "default-src 'self'; script-src 'self' blob: 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'";

async function sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: string | null, headers: Record<string, string> = {}): Promise<void> {
  if (!file) throw new HttpError(404, `not found: ${req.url}`);
  // resolveInside found a regular file; read it so that a pipe swapped in since cannot block a thread.
  const body = await readRegularFile(file, MAX_SERVED_BYTES);
  res.writeHead(200, { 'Content-Type': contentType(file), 'Content-Length': body.length, 'Cache-Control': 'no-cache', ...headers });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Reads a request body, refusing more than `limit` bytes with 413 (by header first, else while reading). */
export const DEFAULT_BODY_TIMEOUT_MS = SERVER_DEFAULTS.bodyTimeoutMs;

async function readBody(req: http.IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  const tooLarge = () => new HttpError(413, `upload too large: the limit is ${limit} bytes`, 'send a smaller image, or start the server with a larger --max-upload');
  if (declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  // Node's own requestTimeout is checked only every 30 s and not for every stalled body: a timer of our own.
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HttpError(408, `the request body did not arrive within ${timeoutMs / 1000} s`, 'send the whole image in one request')), timeoutMs);
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

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** The bound address as a URL host; a wildcard bind shows as itself, not as loopback. */
function displayHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * Whether a request's Host header names this server. Bound to loopback, only loopback names are
 * accepted (a rebinding page sends its own name). Bound to a wildcard or another address, the
 * server is exposed by choice and any name that reaches it is accepted.
 */
export function hostAllowed(header: string | undefined, bound: string): boolean {
  if (!LOOPBACK.has(bound)) return true;
  if (!header) return false;
  const name = header.startsWith('[') ? header.slice(1, header.indexOf(']')) : header.replace(/:\d+$/, '');
  return LOOPBACK.has(name.toLowerCase());
}

export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const runsDir = path.resolve(opts.runsDir ?? 'runs');
  const maxUpload = opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD;
  const workers = opts.workers ?? defaultWorkers();
  if (!Number.isInteger(workers) || workers < 0) throw new RangeError(`workers must be a whole number of at least 0, got ${workers}`);
  const admission = new Admission({ maxPending: opts.maxPending ?? DEFAULT_MAX_PENDING, pixelBudget: opts.pixelBudget ?? DEFAULT_PIXEL_BUDGET });
  const page = await webPage();
  // The recognisers live in the workers, or (workers 0) here.
  const pool = workers > 0
    ? new WorkerPool<RecognizeJob, RecognizeOutcome>({
        size: workers,
        script: new URL(`./recognize-worker${path.extname(new URL(import.meta.url).pathname)}`, import.meta.url),
        workerData: { detector: opts.detector ?? 'auto', backend: opts.backend ?? 'auto', threads: threadsPerWorker(workers) } satisfies RecognizeWorkerData,
        onWorkerExit: (slot, reason) => opts.log?.(`recognition worker ${slot + 1} stopped (${reason}); started a new one`),
      })
    : null;
  const localRecognizers = pool ? null : new RecognizerCache(opts.detector, opts.backend ?? 'auto');

  async function models(): Promise<ModelInfo[]> {
    const out: ModelInfo[] = [];
    const describe = async (id: string, label: string, dir: string, url: string, bundled: boolean) => {
      const meta = await readRunMetadata(dir);
      const margin = meta.faceCut.method === 'box' ? meta.faceCut.margin : TIGHT_CROP_MARGIN;
      out.push({ id, label, url, bundled, classes: meta.classes, inputSize: meta.inputSize, channels: meta.channels, margin, faceCut: meta.faceCut });
    };
    for (const m of await availableBundledModels()) await describe(m.name, `${m.name} (bundled)`, m.dir, `/models/${m.name}/`, true);
    for (const r of await listRuns(runsDir)) {
      if (r.model) await describe(`runs/${r.id}`, `run ${r.id}`, path.join(runsDir, ...r.id.split('/')), r.model, false).catch(() => {});
    }
    return out;
  }

  /** The model folder a request names: bundled names and runs inside the runs folder only. */
  async function modelDirFor(model: string | null): Promise<string> {
    // Only bundled names and runs inside the runs folder: a request never names an arbitrary path.
    let key: string | undefined;
    if (model?.startsWith('runs/')) {
      const metaFile = await resolveInside(runsDir, `${model.slice(5)}/${RUN_FILES.metadata}`);
      if (!metaFile) throw new HttpError(404, `no run '${model.slice(5)}' in the runs folder`, 'GET /api/models lists the models');
      key = path.dirname(metaFile);
    } else if (model) {
      // A bundled model by its name, never a path of the server's filesystem.
      if (!Object.hasOwn(BUNDLED_MODELS, model)) throw new HttpError(404, `no model '${model}'`, 'GET /api/models lists the models');
      key = model;
    }
    try {
      // One recogniser per model folder (per worker), however the request spelled it.
      return (await resolveModel(key)).dir;
    } catch (err) {
      throw new HttpError(404, err instanceof VisemoError ? err.message : String(err), 'GET /api/models lists the models');
    }
  }

  async function recognize(req: http.IncomingMessage, model: string | null): Promise<RecognizeOutcome> {
    // Counted from arrival, before the body is read: beyond --max-pending, 503 at once.
    let leave: () => void;
    try {
      leave = admission.enter();
    } catch (err) {
      if (err instanceof BusyError) throw new HttpError(503, err.message, 'retry in a moment, or start the server with a larger --max-pending');
      throw err;
    }
    try {
      const body = await readBody(req, maxUpload, opts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS);
      if (body.length === 0) throw new HttpError(400, 'empty body', 'send an image file as the request body');
      // Weighed from its header (an image bomb is refused here, undecoded), then decoded within the pixel budget.
      let pixels: number;
      try {
        pixels = (await encodedImageSize(body)).pixels;
      } catch (err) {
        // SVG sniffed from the bytes, whatever the Content-Type said.
        if (err instanceof VectorImageError) throw new HttpError(415, err.message, ACCEPTED_IMAGES);
        throw new HttpError(400, `not a readable image: ${firstLine(err)}`, ACCEPTED_IMAGES);
      }
      const dir = await modelDirFor(model);
      // A buffer of its own, moved (not copied) to the worker.
      const image = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? new Uint8Array(body.buffer) : new Uint8Array(body);
      const release = await admission.reserve(pixels);
      try {
        return pool ? await pool.run({ dir, image }, [image.buffer as ArrayBuffer]) : await runRecognizeJob(localRecognizers!, { dir, image });
      } finally {
        release();
      }
    } finally {
      leave();
    }
  }

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // DNS rebinding: a page elsewhere that resolves its own name to this address must not reach the API.
    if (!hostAllowed(req.headers.host, host)) throw new HttpError(421, `Host '${req.headers.host ?? ''}' is not this server`, `open http://${displayHost(host)}:${(server.address() as AddressInfo).port}/`);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname;
    // Routes decode their parts; a malformed escape (%E0%A4%A) is the client's error, not a 500.
    try {
      decodeURIComponent(p);
    } catch {
      throw new HttpError(400, `malformed percent-encoding in ${p}`, 'encode the path as UTF-8 (encodeURIComponent)');
    }
    const get = req.method === 'GET' || req.method === 'HEAD';
    if (p === '/api/recognize') {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST with the image bytes as the body', "curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg' URL");
      const type = req.headers['content-type'] ?? '';
      if (!/^(image\/|application\/octet-stream)/.test(type)) throw new HttpError(415, `unsupported content type '${type || 'none'}'`, 'send the image file as the body with Content-Type image/jpeg, image/png, ...');
      // Refused before the body is read: rendering a vector image is not bounded by its pixel count.
      if (/^image\/svg/i.test(type)) throw new HttpError(415, `vector images (${type.split(';')[0]}) are not accepted`, ACCEPTED_IMAGES);
      const outcome = await recognize(req, url.searchParams.get('model'));
      if (!outcome.ok) throw new HttpError(outcome.status, outcome.message, outcome.status === 400 ? ACCEPTED_IMAGES : undefined);
      return sendJson(res, 200, outcome.body);
    }
    if (!get) throw new HttpError(405, `${req.method} is not allowed here`, 'the page and its files are read with GET');
    if (p === '/' || p === '/index.html') return sendFile(req, res, page.indexHtml, { 'Content-Security-Policy': PAGE_CSP });
    if (p === '/favicon.ico') return void res.writeHead(204).end();
    if (p === '/style.css') return sendFile(req, res, page.styleCss);
    if (p === `/${BUNDLE_FILE}`) return sendFile(req, res, page.bundle);
    if (p === '/api/models') return sendJson(res, 200, await models());
    if (p === '/api/runs') return sendJson(res, 200, { runsDir, runs: await listRuns(runsDir) });
    if (p.startsWith('/vendor/wasm/')) {
      const name = p.slice('/vendor/wasm/'.length);
      return sendFile(req, res, name.endsWith('.wasm') ? await resolveInside(WASM_DIR, name) : null);
    }
    if (p.startsWith('/face-models/')) {
      const name = p.slice('/face-models/'.length);
      return sendFile(req, res, /^(ssd_mobilenetv1|tiny_face_detector|face_landmark_68)_model/.test(name) ? await resolveInside(faceApiModelDir(), name) : null);
    }
    if (p.startsWith('/human-models/')) {
      const name = p.slice('/human-models/'.length);
      return sendFile(req, res, /^blazeface\.(json|bin)$/.test(name) ? await resolveInside(humanModelDir(), name) : null);
    }
    const bundled = /^\/models\/([^/]+)\/([^/]+)$/.exec(p);
    if (bundled) {
      const [, name, file] = bundled;
      if (!MODEL_FILES.has(file!)) throw new HttpError(404, `not found: ${p}`);
      const model = await resolveModel(decodeURIComponent(name!)).catch(() => null);
      if (!model?.bundled) throw new HttpError(404, `no bundled model '${name}'`, 'GET /api/models lists the models');
      return sendFile(req, res, await resolveInside(model.dir, file!));
    }
    if (p.startsWith('/runs/')) return sendFile(req, res, await resolveInside(runsDir, p.slice('/runs/'.length)));
    throw new HttpError(404, `not found: ${p}`, 'open / for the app');
  }

  const server = http.createServer((req, res) => {
    const started = performance.now();
    // Cross-origin isolation lets tfjs use threaded WebAssembly (SharedArrayBuffer) in the page;
    // every resource is same-origin, so nothing is blocked by it.
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    route(req, res)
      .catch((err: unknown) => {
        const e = err instanceof HttpError ? err : new HttpError(500, `internal error: ${(err as Error).message}`);
        if (res.headersSent) return void res.destroy();
        // After a refused upload the rest of the body is not read: close the connection.
        if (e.status === 413 || e.status === 408 || e.status === 503 || e.status === 415) res.setHeader('Connection', 'close');
        if (e.status === 503) res.setHeader('Retry-After', '1');
        sendJson(res, e.status, { error: e.message, ...(e.hint ? { hint: e.hint } : {}), status: e.status });
      })
      .finally(() => opts.log?.(`${req.method} ${req.url} ${res.statusCode} ${(performance.now() - started).toFixed(0)} ms`));
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new VisemoError(`port ${opts.port ?? DEFAULT_PORT} on ${host} is already in use`, 'pass another --port, or --port 0 for any free one') : err),
    );
    server.listen(opts.port ?? DEFAULT_PORT, host, () => resolve());
  }).catch(async (err: unknown) => {
    await pool?.close();
    throw err;
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${displayHost(host)}:${port}/`,
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

