/**
 * Saves and loads tfjs LayersModels (model.json + weights.bin, the format tensorflowjs_converter
 * writes for Keras models) from plain folders, each file written atomically.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { tf } from '../engine/tf.js';
import { readJson, writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { version } from '../version.js';
import { VisemoError } from '../util/errors.js';
import { concatBuffers, readModelArtifacts } from '../engine/model-artifacts.js';
import { readRunMetadata, resolveModel, type ResolvedModel, type RunMetadata } from './run-folder.js';
import { RUN_FILES } from './run-files.js';

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

/**
 * Loads a folder's model.json + weights.bin. Given the folder's metadata, the graph is checked
 * against it first (classes, input size, channels): a mismatch is a VisemoError naming both files,
 * where it would otherwise become a wrong class table or a raw tfjs shape error.
 */
export async function loadModel(dir: string, metadata?: Pick<RunMetadata, 'classes' | 'inputSize' | 'channels'>): Promise<tf.LayersModel> {
  const artifacts = await readModelArtifacts(dir, RUN_FILES.model, { missing: 'give a run folder written by visemo train', damaged: 'copy or train it again' });
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  if (metadata) {
    try {
      checkModelAgainstMetadata(model, metadata, dir);
    } catch (err) {
      model.dispose();
      throw err;
    }
  }
  return model;
}

/** The metadata's classes, input size and channels against the graph's input [n, size, size, channels] and output [n, classes]. */
export function checkModelAgainstMetadata(model: tf.LayersModel, meta: Pick<RunMetadata, 'classes' | 'inputSize' | 'channels'>, dir: string): void {
  const input = model.inputs[0]?.shape ?? [];
  const output = model.outputs[0]?.shape ?? [];
  const differ: string[] = [];
  if (output.length !== 2 || output[1] !== meta.classes.length)
    differ.push(`${meta.classes.length} classes (${meta.classes.join(', ')}), the graph ${output[1] ?? '?'} outputs`);
  if (input.length !== 4 || input[1] !== meta.inputSize || input[2] !== meta.inputSize)
    differ.push(`input size ${meta.inputSize}, the graph ${input[1] ?? '?'}×${input[2] ?? '?'}`);
  if (input.length === 4 && input[3] !== meta.channels) differ.push(`${meta.channels} channel${meta.channels === 1 ? '' : 's'}, the graph ${input[3] ?? '?'}`);
  if (differ.length > 0) {
    throw new VisemoError(
      `${path.join(dir, RUN_FILES.metadata)} does not match ${path.join(dir, RUN_FILES.model)}: it says ${differ.join('; ')}`,
      'the model folder is damaged or its files come from different runs: copy or train it again',
    );
  }
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
  const model = await loadModel(resolved.dir, metadata);
  return { ...resolved, model, metadata };
}
