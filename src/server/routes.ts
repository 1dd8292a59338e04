/**
 * The server's routes as a table (method and path or pattern → handler), each file route serving
 * from its own folder only, and the dispatch that checks a request's Host and path before it.
 */
import { createRequire } from 'node:module';
import type http from 'node:http';
import path from 'node:path';
import { faceApiModelDir } from '../image/face-detector.js';
import { humanModelDir } from '../image/blazeface.js';
import { resolveModel } from '../model/run-folder.js';
import { RUN_FILES } from '../model/run-files.js';
import { listRuns } from './runs.js';
import { resolveInside } from './safe-path.js';
import { BUNDLE_FILE } from './web-bundle.js';
import { HttpError, sendFile, sendJson } from './http-reply.js';
import { ACCEPTED_IMAGES, listModels, recognize, type ServerContext } from './recognize-request.js';

const require = createRequire(import.meta.url);
const WASM_DIR = path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
/** Files of a model folder the page may fetch. */
const MODEL_FILES = new Set<string>([RUN_FILES.model, RUN_FILES.weights, RUN_FILES.metadata, RUN_FILES.modelCard]);

// The page needs WebAssembly (tfjs wasm backend) and blob: URLs (uploaded videos and images).
// Threaded wasm starts its workers from blob: URLs.
const PAGE_CSP =
  "default-src 'self'; script-src 'self' blob: 'wasm-unsafe-eval'; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'";

/** One request as a handler sees it: `match` holds a pattern route's captures. */
interface RouteCall {
  ctx: ServerContext;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  match: RegExpExecArray | null;
}

interface Route {
  /** 'GET' also answers HEAD. */
  method: 'GET' | 'POST';
  /** An exact path, or a pattern over the whole path. */
  path: string | RegExp;
  handle(call: RouteCall): Promise<void> | void;
  /** The refusal of any other method (default: the page's files are read with GET). */
  wrongMethod?: () => HttpError;
}

const wrongMethod = (method: string | undefined) => new HttpError(405, `${method} is not allowed here`, 'the page and its files are read with GET');
const served = (c: RouteCall, file: string | null, headers?: Record<string, string>) => sendFile(c.req, c.res, file, c.ctx.maxServedBytes, headers);

async function recognizeRoute(c: RouteCall): Promise<void> {
  const type = c.req.headers['content-type'] ?? '';
  if (!/^(image\/|application\/octet-stream)/.test(type))
    throw new HttpError(415, `unsupported content type '${type || 'none'}'`, 'send the image file as the body with Content-Type image/jpeg, image/png, ...');
  // Refused before the body is read: rendering a vector image is not bounded by its pixel count.
  if (/^image\/svg/i.test(type)) throw new HttpError(415, `vector images (${type.split(';')[0]}) are not accepted`, ACCEPTED_IMAGES);
  const outcome = await recognize(c.ctx, c.req, c.url.searchParams.get('model'));
  if (!outcome.ok) throw new HttpError(outcome.status, outcome.message, outcome.status === 400 ? ACCEPTED_IMAGES : undefined);
  sendJson(c.res, 200, outcome.body);
}

/** A file of a bundled model's folder: only the files the page fetches, only of bundled models. */
async function bundledModelFile(c: RouteCall): Promise<void> {
  const [p, name, file] = c.match! as unknown as [string, string, string];
  if (!MODEL_FILES.has(file)) throw new HttpError(404, `not found: ${p}`);
  const model = await resolveModel(decodeURIComponent(name)).catch(() => null);
  if (!model?.bundled) throw new HttpError(404, `no bundled model '${name}'`, 'GET /api/models lists the models');
  return served(c, await resolveInside(model.dir, file));
}

/** The part of the path after a prefix route's prefix. */
const rest = (c: RouteCall) => c.match![1]!;

/** In the order they are tried; the first whose path matches answers. */
export const ROUTES: readonly Route[] = [
  {
    method: 'POST',
    path: '/api/recognize',
    handle: recognizeRoute,
    wrongMethod: () => new HttpError(405, 'use POST with the image bytes as the body', "curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg' URL"),
  },
  { method: 'GET', path: '/', handle: (c) => served(c, c.ctx.page.indexHtml, { 'Content-Security-Policy': PAGE_CSP }) },
  { method: 'GET', path: '/index.html', handle: (c) => served(c, c.ctx.page.indexHtml, { 'Content-Security-Policy': PAGE_CSP }) },
  { method: 'GET', path: '/favicon.ico', handle: (c) => void c.res.writeHead(204).end() },
  { method: 'GET', path: '/style.css', handle: (c) => served(c, c.ctx.page.styleCss) },
  { method: 'GET', path: `/${BUNDLE_FILE}`, handle: (c) => served(c, c.ctx.page.bundle) },
  { method: 'GET', path: '/api/models', handle: async (c) => sendJson(c.res, 200, await listModels(c.ctx.runsDir)) },
  { method: 'GET', path: '/api/runs', handle: async (c) => sendJson(c.res, 200, { runsDir: c.ctx.runsDir, runs: await listRuns(c.ctx.runsDir) }) },
  { method: 'GET', path: /^\/vendor\/wasm\/(.*)$/s, handle: async (c) => served(c, rest(c).endsWith('.wasm') ? await resolveInside(WASM_DIR, rest(c)) : null) },
  {
    method: 'GET',
    path: /^\/face-models\/(.*)$/s,
    handle: async (c) =>
      served(c, /^(ssd_mobilenetv1|tiny_face_detector|face_landmark_68)_model/.test(rest(c)) ? await resolveInside(faceApiModelDir(), rest(c)) : null),
  },
  {
    method: 'GET',
    path: /^\/human-models\/(.*)$/s,
    handle: async (c) => served(c, /^blazeface\.(json|bin)$/.test(rest(c)) ? await resolveInside(humanModelDir(), rest(c)) : null),
  },
  { method: 'GET', path: /^\/models\/([^/]+)\/([^/]+)$/, handle: bundledModelFile },
  { method: 'GET', path: /^\/runs\/(.*)$/s, handle: async (c) => served(c, await resolveInside(c.ctx.runsDir, rest(c))) },
];

function matchPath(route: Route, p: string): RegExpExecArray | null | false {
  if (typeof route.path === 'string') return route.path === p ? null : false;
  return route.path.exec(p) ?? false;
}

/** Host and path checks every request passes before its route. */
function checkRequest(ctx: ServerContext, req: http.IncomingMessage, p: string): void {
  // DNS rebinding: a page elsewhere that resolves its own name to this address must not reach the API.
  if (!hostAllowed(req.headers.host, ctx.host))
    throw new HttpError(421, `Host '${req.headers.host ?? ''}' is not this server`, `open http://${displayHost(ctx.host)}:${ctx.port()}/`);
  // Routes decode their parts; a malformed escape (%E0%A4%A) is the client's error, not a 500.
  try {
    decodeURIComponent(p);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in ${p}`, 'encode the path as UTF-8 (encodeURIComponent)');
  }
}

/** Answers one request through the route table; throws an HttpError for any refusal. */
export async function dispatch(ctx: ServerContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const p = url.pathname;
  checkRequest(ctx, req, p);
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  for (const route of ROUTES) {
    const match = matchPath(route, p);
    if (match === false) continue;
    if (route.method !== method) throw (route.wrongMethod ?? (() => wrongMethod(req.method)))();
    return route.handle({ ctx, req, res, url, match });
  }
  if (method !== 'GET') throw wrongMethod(req.method);
  throw new HttpError(404, `not found: ${p}`, 'open / for the app');
}

export const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** The bound address as a URL host; a wildcard bind shows as itself, not as loopback. */
export function displayHost(host: string): string {
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
