/**
 * What POST /api/recognize and GET /api/models do with the server's state (ServerContext): the
 * models a request may name, the model folder it names, and one recognition, admitted and
 * bounded before its image is decoded in a worker (or, with --workers 0, in this thread).
 */
import type http from 'node:http';
import path from 'node:path';
import { availableBundledModels, BUNDLED_MODELS, readRunMetadata, resolveModel } from '../model/run-folder.js';
import { RUN_FILES } from '../model/run-files.js';
import { TIGHT_CROP_MARGIN } from '../data/face-cut.js';
import { firstLine, VisemoError } from '../util/errors.js';
import { encodedImageSize, VectorImageError } from '../image/decode.js';
import { BusyError, type Admission } from './admission.js';
import { runRecognizeJob, type RecognizerCache, type RecognizeJob, type RecognizeOutcome } from './recognize-job.js';
import type { WorkerPool } from './worker-pool.js';
import { listRuns } from './runs.js';
import { resolveInside } from './safe-path.js';
import type { WebPage } from './web-bundle.js';
import type { ModelInfo } from './api-types.js';
import { HttpError, readBody } from './http-reply.js';

/** What the routes share: the server's settings, its page, and where recognition runs. */
export interface ServerContext {
  /** The bound interface, as given. */
  host: string;
  /** The bound port (known once listening). */
  port(): number;
  runsDir: string;
  maxUploadBytes: number;
  bodyTimeoutMs: number;
  /** The largest file served. */
  maxServedBytes: number;
  admission: Admission;
  page: WebPage;
  /** The recognition workers, or (workers 0) null and the recognisers of this thread. */
  pool: WorkerPool<RecognizeJob, RecognizeOutcome> | null;
  localRecognizers: RecognizerCache | null;
}

export const ACCEPTED_IMAGES = 'send a JPEG, PNG, WebP, TIFF or GIF file';
const MODELS_HINT = 'GET /api/models lists the models';

/** The bundled models and every run of the runs folder with a readable model, as the page lists them. */
export async function listModels(runsDir: string): Promise<ModelInfo[]> {
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
async function modelDirFor(runsDir: string, model: string | null): Promise<string> {
  // Only bundled names and runs inside the runs folder: a request never names an arbitrary path.
  let key: string | undefined;
  if (model?.startsWith('runs/')) {
    const metaFile = await resolveInside(runsDir, `${model.slice(5)}/${RUN_FILES.metadata}`);
    if (!metaFile) throw new HttpError(404, `no run '${model.slice(5)}' in the runs folder`, MODELS_HINT);
    key = path.dirname(metaFile);
  } else if (model) {
    // A bundled model by its name, never a path of the server's filesystem.
    if (!Object.hasOwn(BUNDLED_MODELS, model)) throw new HttpError(404, `no model '${model}'`, MODELS_HINT);
    key = model;
  }
  try {
    // One recogniser per model folder (per worker), however the request spelled it.
    return (await resolveModel(key)).dir;
  } catch (err) {
    throw new HttpError(404, err instanceof VisemoError ? err.message : String(err), MODELS_HINT);
  }
}

/** Counted from arrival, before the body is read: beyond --max-pending, 503 at once. Returns the leave callback. */
function admit(admission: Admission): () => void {
  try {
    return admission.enter();
  } catch (err) {
    if (err instanceof BusyError) throw new HttpError(503, err.message, 'retry in a moment, or start the server with a larger --max-pending');
    throw err;
  }
}

/** The pixels an upload decodes to, weighed from its header: an image bomb is refused here, undecoded. */
async function pixelsOf(body: Buffer): Promise<number> {
  if (body.length === 0) throw new HttpError(400, 'empty body', 'send an image file as the request body');
  try {
    return (await encodedImageSize(body)).pixels;
  } catch (err) {
    // SVG sniffed from the bytes, whatever the Content-Type said.
    if (err instanceof VectorImageError) throw new HttpError(415, err.message, ACCEPTED_IMAGES);
    throw new HttpError(400, `not a readable image: ${firstLine(err)}`, ACCEPTED_IMAGES);
  }
}

/** One recognition of the request's body with the model it names, within the admission limits. */
export async function recognize(ctx: ServerContext, req: http.IncomingMessage, model: string | null): Promise<RecognizeOutcome> {
  const leave = admit(ctx.admission);
  try {
    const body = await readBody(req, ctx.maxUploadBytes, ctx.bodyTimeoutMs);
    const pixels = await pixelsOf(body);
    const dir = await modelDirFor(ctx.runsDir, model);
    // A buffer of its own, moved (not copied) to the worker.
    const image = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? new Uint8Array(body.buffer) : new Uint8Array(body);
    // Decoded within the pixel budget.
    const release = await ctx.admission.reserve(pixels);
    try {
      return ctx.pool ? await ctx.pool.run({ dir, image }, [image.buffer as ArrayBuffer]) : await runRecognizeJob(ctx.localRecognizers!, { dir, image });
    } finally {
      release();
    }
  } finally {
    leave();
  }
}
