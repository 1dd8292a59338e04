/**
 * The model registry: which emotion model `predict`, the library and the web app use.
 * Bundled models live in the repository under models/<dir>/; any run folder written by
 * `visemo train` works as well, given by its path.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModel, MODEL_FILE, WEIGHTS_FILE } from '../model/model-io.js';
import { RUN_FILES } from '../training/run-files.js';
import type { RunMetadata } from '../training/types.js';
import type { tf } from '../engine/backend.js';
import { VisemoError } from '../util/errors.js';

/** Bundled models by name → their folder under models/. */
export const BUNDLED_MODELS: Record<string, string> = {
  paper: 'paper-fer50',
  visemo: 'visemo-fer48',
};

/**
 * The model used wherever none is named (predict, the library, the API and the web page). The one
 * place to change it. 'visemo' beats 'paper' on both test sets (FER2013 publictest and CK+; see the
 * model cards), so it is the default; the paper's model stays available by name.
 */
export const DEFAULT_MODEL = 'visemo';

/** The package root: this file is src/inference/models.ts or dist/inference/models.js. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function bundledModelsDir(): string {
  return path.join(PACKAGE_ROOT, 'models');
}

export interface ResolvedModel {
  /** The bundled name ('paper'), or the folder's base name for a run folder. */
  name: string;
  dir: string;
  bundled: boolean;
}

const HOW_TO_GET =
  'train one with `visemo train DATASET --out DIR` and pass --model DIR, or name a bundled model (' +
  Object.keys(BUNDLED_MODELS).join(', ') +
  ')';

/**
 * undefined → the default bundled model; a bundled name → models/<dir>; anything else → a run
 * folder path. Throws a VisemoError naming the path when the folder holds no usable model.
 */
export async function resolveModel(nameOrPath?: string): Promise<ResolvedModel> {
  const key = nameOrPath ?? DEFAULT_MODEL;
  const bundledDir = BUNDLED_MODELS[key];
  const resolved: ResolvedModel = bundledDir
    ? { name: key, dir: path.join(bundledModelsDir(), bundledDir), bundled: true }
    : { name: path.basename(path.resolve(key)), dir: path.resolve(key), bundled: false };
  const missing: string[] = [];
  for (const file of [MODEL_FILE, WEIGHTS_FILE, RUN_FILES.metadata]) {
    if (!(await isFile(path.join(resolved.dir, file)))) missing.push(file);
  }
  if (missing.length > 0) {
    const what = resolved.bundled ? `the bundled model '${key}'` : `model folder ${key}`;
    const where = missing.length === 3 && !(await isDir(resolved.dir)) ? `${resolved.dir} does not exist` : `${resolved.dir} has no ${missing.join(', ')}`;
    throw new VisemoError(`cannot use ${what}: ${where}`, HOW_TO_GET);
  }
  return resolved;
}

export interface LoadedModel extends ResolvedModel {
  model: tf.LayersModel;
  metadata: RunMetadata;
}

/** Resolves and loads a model with its metadata (classes, input size, channels, normalisation). */
export async function loadEmotionModel(nameOrPath?: string): Promise<LoadedModel> {
  const resolved = await resolveModel(nameOrPath);
  const metaFile = path.join(resolved.dir, RUN_FILES.metadata);
  let metadata: RunMetadata;
  try {
    metadata = JSON.parse(await fs.readFile(metaFile, 'utf8')) as RunMetadata;
  } catch (err) {
    throw new VisemoError(`cannot read ${metaFile}: ${(err as Error).message.split('\n')[0]}`, HOW_TO_GET);
  }
  if (!Array.isArray(metadata.classes) || !(metadata.inputSize > 0) || !metadata.normalisation?.mean?.length) {
    throw new VisemoError(`${metaFile} lacks classes, inputSize or normalisation`, 'give a run folder written by visemo train');
  }
  const model = await loadModel(resolved.dir);
  return { ...resolved, model, metadata };
}

/**
 * The crop margin for faces found by the detector, measured against the public datasets: on
 * FER2013 and CK+ 48×48 crops the SSD detector's box spans the whole crop (margin −0.05 and
 * 0.00, median of 90 images each), so their tight crops correspond to a margin of 0.
 */
export const TIGHT_CROP_MARGIN = 0;

/**
 * The margin a model's training faces were cut with: what `visemo prepare` recorded in the
 * dataset's manifest.json when the model was trained on a prepared folder, else the tight crops
 * of the public face datasets.
 */
export async function cropMarginFor(metadata: RunMetadata): Promise<{ margin: number; source: string }> {
  const data = metadata.dataset?.path;
  // The run may have been trained on the prepared folder itself or on one of its splits.
  const candidates = data ? [path.join(data, 'manifest.json'), path.join(data, '..', 'manifest.json')] : [];
  for (const file of candidates) {
    try {
      const m = JSON.parse(await fs.readFile(file, 'utf8')) as { tool?: string; options?: { margin?: number; detect?: boolean } };
      if (m.tool === 'visemo prepare' && m.options?.detect !== false && typeof m.options?.margin === 'number') {
        return { margin: m.options.margin, source: file };
      }
    } catch {
      // no manifest: not a prepared dataset (or not on this machine)
    }
  }
  return { margin: TIGHT_CROP_MARGIN, source: 'tight crops (FER2013, CK+)' };
}

/** Bundled models whose files are present, by name. */
export async function availableBundledModels(): Promise<ResolvedModel[]> {
  const out: ResolvedModel[] = [];
  // The default first: the web page opens with the first model listed.
  const names = [DEFAULT_MODEL, ...Object.keys(BUNDLED_MODELS).filter((n) => n !== DEFAULT_MODEL)];
  for (const name of names) {
    try {
      out.push(await resolveModel(name));
    } catch {
      // absent from this checkout: not listed
    }
  }
  return out;
}

async function isFile(p: string): Promise<boolean> {
  return (await fs.stat(p).catch(() => null))?.isFile() ?? false;
}

async function isDir(p: string): Promise<boolean> {
  return (await fs.stat(p).catch(() => null))?.isDirectory() ?? false;
}
