/**
 * Saves and loads tfjs LayersModels (model.json + weights.bin, the format tensorflowjs_converter
 * writes for Keras models) from plain folders, each file written atomically.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { tf } from '../engine/tf.js';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { version } from '../version.js';
import { readRunMetadata, resolveModel, type ResolvedModel, type RunMetadata } from './run-folder.js';
import { RUN_FILES } from './run-files.js';


function concatBuffers(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  const parts = Array.isArray(data) ? data : [data];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), o);
    o += p.byteLength;
  }
  return out;
}

/** Writes weights first and model.json last, so a folder with a model.json always has its weights. */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      await writeFileAtomic(path.join(dir, RUN_FILES.weights), concatBuffers(artifacts.weightData!));
      await writeJsonAtomic(path.join(dir, RUN_FILES.model), {
        format: 'layers-model',
        generatedBy: `visemo ${version} (TensorFlow.js ${tf.version.tfjs})`,
        convertedBy: null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [RUN_FILES.weights], weights: artifacts.weightSpecs }],
      });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/** model.json as saveModel writes it. */
export interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** The bytes model.json's weight specs take in weights.bin (quantised weights at their stored width). */
export function expectedWeightBytes(specs: tf.io.WeightsManifestEntry[]): number {
  return specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * (BYTES[s.quantization?.dtype ?? s.dtype] ?? 4), 0);
}

export async function loadModel(dir: string): Promise<tf.LayersModel> {
  const file = path.join(dir, RUN_FILES.model);
  const json = await readJson<ModelJson>(file, 'give a run folder written by visemo train');
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const paths = json.weightsManifest.flatMap((g) => g.paths);
  const buffers = await Promise.all(paths.map((p) => fs.readFile(path.join(dir, p)).catch((err: NodeJS.ErrnoException) => {
    throw new VisemoError(`cannot read ${path.join(dir, p)}: ${err.code ?? err.message}`, 'the model folder is incomplete: copy or train it again');
  })));
  const bytes = buffers.reduce((n, b) => n + b.byteLength, 0);
  // Checked here: tfjs would fail later with a shape error that names no file.
  if (bytes !== expectedWeightBytes(specs)) {
    throw new VisemoError(`${path.join(dir, paths.join(', '))} holds ${bytes} bytes, ${RUN_FILES.model} describes ${expectedWeightBytes(specs)}`, 'the model folder is damaged (a truncated copy?): copy or train it again');
  }
  const weightData = concatBuffers(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer)).buffer as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
}

/** Saves named tensors (e.g. an optimizer's state) as a JSON manifest + binary pair. */
export async function saveTensors(named: { name: string; tensor: tf.Tensor }[], dir: string, base: string): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(named);
  await writeFileAtomic(path.join(dir, `${base}.bin`), new Uint8Array(data));
  await writeJsonAtomic(path.join(dir, `${base}.json`), specs);
}

export async function loadTensors(dir: string, base: string): Promise<{ name: string; tensor: tf.Tensor }[]> {
  const specs = await readJson<tf.io.WeightsManifestEntry[]>(path.join(dir, `${base}.json`));
  const buf = await fs.readFile(path.join(dir, `${base}.bin`));
  const map = tf.io.decodeWeights(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer, specs);
  return specs.map((s) => ({ name: s.name, tensor: map[s.name]! }));
}

export interface LoadedModel extends ResolvedModel {
  model: tf.LayersModel;
  metadata: RunMetadata;
}

/** Resolves and loads a model with its metadata (classes, input size, channels, normalisation). */
export async function loadEmotionModel(nameOrPath?: string): Promise<LoadedModel> {
  const resolved = await resolveModel(nameOrPath);
  const metadata = await readRunMetadata(resolved.dir);
  const model = await loadModel(resolved.dir);
  return { ...resolved, model, metadata };
}
