/**
 * Weight averaging ("model soup", Wortsman et al. 2022): the element-wise mean of the weights of
 * models with one architecture, e.g. several fine-tuning runs from the same start with other
 * seeds. The result is one model of the same size and speed; it only works for models that
 * share a start (unrelated models have unrelated weights and average to noise).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { expectedWeightBytes, type ModelJson } from '../engine/model-artifacts.js';
import { claimRunDir, readRunMetadata, resolveModel, type RunMetadata } from './run-folder.js';
import { RUN_FILES } from './run-files.js';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';

/** One model folder as read for averaging. */
interface Ingredient {
  dir: string;
  modelJson: ModelJson;
  metadata: RunMetadata;
  weights: Float32Array;
}

export interface AverageOptions {
  /** Replace the files of an existing run in `out`. */
  force?: boolean;
  /** Recorded in the new metadata.json. */
  commandLine?: string;
}

export interface AverageResult {
  out: string;
  models: string[];
  parameters: number;
  bytes: number;
}

async function readIngredient(dir: string): Promise<Ingredient> {
  const modelJson = await readJson<ModelJson>(path.join(dir, RUN_FILES.model), 'give model folders written by visemo train');
  const metadata = await readRunMetadata(dir);
  const specs = modelJson.weightsManifest.flatMap((g) => g.weights);
  const bad = specs.find((s) => s.dtype !== 'float32' || s.quantization !== undefined);
  if (bad)
    throw new VisemoError(`${path.join(dir, RUN_FILES.model)}: weight ${bad.name} is not plain float32`, 'only unquantised float32 models can be averaged');
  const files = modelJson.weightsManifest.flatMap((g) => g.paths.map((p) => path.join(dir, p)));
  const buffers = await Promise.all(
    files.map((f) =>
      fs.readFile(f).catch((err: NodeJS.ErrnoException) => {
        throw new VisemoError(`cannot read ${f}: ${err.code ?? err.message}`, 'give model folders written by visemo train');
      }),
    ),
  );
  const bytes = Buffer.concat(buffers);
  // Every spec is float32 here (checked above): four bytes a weight.
  const expected = expectedWeightBytes(specs) / 4;
  if (bytes.byteLength !== expected * 4) {
    throw new VisemoError(
      `${dir}: ${RUN_FILES.weights} holds ${bytes.byteLength} bytes, ${RUN_FILES.model} describes ${expected * 4}`,
      'the folder is damaged: train it again',
    );
  }
  // Copy into an aligned buffer: a Buffer from readFile may start at any byte offset.
  const weights = new Float32Array(expected);
  new Uint8Array(weights.buffer).set(bytes);
  return { dir, modelJson, metadata, weights };
}

/** Names the first way `b` differs from `a` that makes their weights impossible to average, or null. */
function mismatch(a: Ingredient, b: Ingredient): string | null {
  for (const key of ['arch', 'inputSize', 'channels'] as const) {
    if (a.metadata[key] !== b.metadata[key]) return `${key} ${String(b.metadata[key])} where ${a.dir} has ${String(a.metadata[key])}`;
  }
  if (a.metadata.classes.join(',') !== b.metadata.classes.join(','))
    return `classes ${b.metadata.classes.join(',')} where ${a.dir} has ${a.metadata.classes.join(',')}`;
  // The mean and std feed the input: models that normalise differently see different numbers.
  if (JSON.stringify(a.metadata.normalisation) !== JSON.stringify(b.metadata.normalisation)) return `another input normalisation than ${a.dir}`;
  const sa = a.modelJson.weightsManifest.flatMap((g) => g.weights);
  const sb = b.modelJson.weightsManifest.flatMap((g) => g.weights);
  if (sa.length !== sb.length) return `${sb.length} weight tensors where ${a.dir} has ${sa.length}`;
  for (let i = 0; i < sa.length; i++) {
    if (sa[i]!.shape.join('x') !== sb[i]!.shape.join('x'))
      return `weight ${sb[i]!.name} of shape ${sb[i]!.shape.join('x')} where ${a.dir} has ${sa[i]!.shape.join('x')}`;
  }
  return null;
}

/** The element-wise mean, accumulated in float64 so the order of the models does not matter. */
export function meanOf(arrays: Float32Array[]): Float32Array {
  const n = arrays[0]!.length;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (const a of arrays) s += a[i]!;
    out[i] = s / arrays.length;
  }
  return out;
}

/**
 * Averages the weights of `dirs` into a new model folder `out` (model.json, weights.bin and a
 * metadata.json that names every ingredient). Checks everything before writing anything.
 */
export async function averageModels(dirs: string[], out: string, options: AverageOptions = {}): Promise<AverageResult> {
  if (dirs.length < 2) throw new VisemoError(`averaging needs at least two models, got ${dirs.length}`, 'name two or more model folders');
  const outAbs = path.resolve(out);
  // A bundled model's name ('visemo') or a run folder, as everywhere a model is named.
  const resolved = await Promise.all(dirs.map(async (d) => (await resolveModel(d)).dir));
  const clash = resolved.find((d) => d === outAbs);
  if (clash) throw new VisemoError(`--out ${out} is one of the models being averaged`, 'choose another --out: an ingredient is never overwritten');
  const ingredients: Ingredient[] = [];
  for (const dir of resolved) ingredients.push(await readIngredient(dir));
  const first = ingredients[0]!;
  for (const other of ingredients.slice(1)) {
    const why = mismatch(first, other);
    if (why)
      throw new VisemoError(
        `cannot average ${other.dir} with ${first.dir}: it has ${why}`,
        'average only models of one architecture, classes, input and normalisation',
      );
  }
  const weights = meanOf(ingredients.map((i) => i.weights));
  const metadata: RunMetadata & { averagedFrom: { dir: string; commandLine: string; createdAt: string }[] } = {
    ...first.metadata,
    averagedFrom: ingredients.map((i) => ({ dir: path.resolve(i.dir), commandLine: i.metadata.commandLine, createdAt: i.metadata.createdAt })),
    commandLine: options.commandLine ?? `visemo average ${dirs.join(' ')} --out ${out}`,
    createdAt: new Date().toISOString(),
  };
  // Refuses an existing run without --force; only now, with every check passed, are its files removed.
  await claimRunDir(out, options.force ?? false);
  // Weights first, model.json and metadata.json last: a folder with metadata.json is a whole model.
  await writeFileAtomic(path.join(out, RUN_FILES.weights), new Uint8Array(weights.buffer));
  const manifest = [{ paths: [RUN_FILES.weights], weights: first.modelJson.weightsManifest.flatMap((g) => g.weights) }];
  await writeJsonAtomic(path.join(out, RUN_FILES.model), { ...first.modelJson, weightsManifest: manifest });
  await writeJsonAtomic(path.join(out, RUN_FILES.metadata), metadata);
  return { out, models: dirs, parameters: weights.length, bytes: weights.byteLength };
}
