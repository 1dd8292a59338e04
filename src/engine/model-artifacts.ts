/**
 * A tfjs model as files: model.json and the weight files its manifest names, read and checked
 * against each other into the artifacts tfjs's loaders take from memory (a LayersModel from a run
 * folder, the GraphModel of a packaged detector); tfjs's own file loaders need tfjs-node, which
 * cannot be installed here.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { tf } from './tf.js';
import { readJson } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';

/** Weight buffers as one. */
export function concatBuffers(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  const parts = Array.isArray(data) ? data : [data];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), o);
    o += p.byteLength;
  }
  return out;
}

/** model.json as saveModel (src/model/model-io.ts) writes it. */
export interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** The bytes model.json's weight specs take in weights.bin (quantised weights at their stored width). */
export function expectedWeightBytes(specs: tf.io.WeightsManifestEntry[]): number {
  return specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * (BYTES[s.quantization?.dtype ?? s.dtype] ?? 4), 0);
}

/**
 * A model.json and its weight files (`file` in `dir`), read and checked against each other, as
 * tfjs's loaders take them from memory. `fix` says what to do when they are missing or damaged.
 */
export async function readModelArtifacts(dir: string, file: string, fix: { missing: string; damaged: string }): Promise<tf.io.ModelArtifacts> {
  const json = await readJson<ModelJson>(path.join(dir, file), fix.missing);
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const paths = json.weightsManifest.flatMap((g) => g.paths);
  const buffers = await Promise.all(
    paths.map((p) =>
      fs.readFile(path.join(dir, p)).catch((err: NodeJS.ErrnoException) => {
        throw new VisemoError(`cannot read ${path.join(dir, p)}: ${err.code ?? err.message}`, `the model folder is incomplete: ${fix.damaged}`);
      }),
    ),
  );
  const bytes = buffers.reduce((n, b) => n + b.byteLength, 0);
  // Checked here: tfjs would fail later with a shape error that names no file.
  if (bytes !== expectedWeightBytes(specs)) {
    throw new VisemoError(
      `${path.join(dir, paths.join(', '))} holds ${bytes} bytes, ${file} describes ${expectedWeightBytes(specs)}`,
      `the model folder is damaged (a truncated copy?): ${fix.damaged}`,
    );
  }
  const weightData = concatBuffers(buffers.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer)).buffer as ArrayBuffer;
  return { modelTopology: json.modelTopology, weightSpecs: specs, weightData };
}
