/**
 * A loaded emotion model and the runtime that runs it: the one place the recogniser (predict, the
 * library, the server) and the classifiers (compare, distillation) get class probabilities from.
 * 'tfjs' runs the LayersModel on the active tfjs backend; 'onnx' exports it to ONNX in memory
 * (src/export, the graph `visemo export` writes) and runs that on onnxruntime-node.
 */
import { batchArray, type DecodedSet, type Normalisation } from '../data/decoded-set.js';
import { activeBackend, type ModelRuntime } from '../engine/backend.js';
import { openOnnxSession, type OnnxSession } from '../engine/onnx.js';
import { modelToOnnx } from '../export/onnx-model.js';
import { loadEmotionModel } from '../model/model-io.js';
import { applyCalibration } from '../model/calibration.js';
import { predictSet } from '../model/predict-set.js';
import type { ResolvedModel, RunMetadata } from '../model/run-folder.js';

export interface EmotionNet extends ResolvedModel {
  metadata: RunMetadata;
  runtime: ModelRuntime;
  /** The runtime in words, for reports: 'tfjs wasm' (tfjs and its backend) or 'onnxruntime-node 1.30.0'. */
  runtimeLabel: string;
  /**
   * Class probabilities for every image of `set` (crops at the model's input size), in batches;
   * `tta` averages each image with its mirror image.
   */
  classify(set: DecodedSet, opts?: ClassifyOptions): Promise<Float32Array[]>;
  dispose(): void;
}

export interface ClassifyOptions {
  batch?: number;
  tta?: boolean;
  /** The model's own probabilities, without the class-prior offsets of its metadata (for fitting them). */
  uncalibrated?: boolean;
}

/** Loads a bundled model or run folder (default: the bundled default) to run on `runtime`. */
export async function loadEmotionNet(nameOrPath: string | undefined, runtime: ModelRuntime = 'tfjs'): Promise<EmotionNet> {
  const net = await loadRawNet(nameOrPath, runtime);
  const offsets = net.metadata.calibration?.offsets;
  if (!offsets) return net;
  // Every runtime's probabilities pass through the same offsets, here and only here.
  const raw = net.classify;
  return { ...net, classify: async (set, o = {}) => (o.uncalibrated ? raw(set, o) : (await raw(set, o)).map((p) => applyCalibration(p, offsets))) };
}

async function loadRawNet(nameOrPath: string | undefined, runtime: ModelRuntime): Promise<EmotionNet> {
  const loaded = await loadEmotionModel(nameOrPath);
  const { model, metadata } = loaded;
  const { normalisation, channels } = metadata;
  const base = { name: loaded.name, dir: loaded.dir, bundled: loaded.bundled, metadata };
  if (runtime === 'tfjs') {
    return {
      ...base,
      runtime,
      runtimeLabel: `tfjs ${activeBackend() ?? ''}`.trim(),
      classify: async (set, o = {}) => predictSet(model, set, normalisation, channels, o.batch ?? 128, o.tta === true),
      dispose: () => model.dispose(),
    };
  }
  let session: OnnxSession;
  try {
    session = await openOnnxSession(modelToOnnx(model, loaded.name, metadata));
  } finally {
    // onnxruntime holds its own copy of the weights.
    model.dispose();
  }
  return {
    ...base,
    runtime,
    runtimeLabel: `onnxruntime-node ${session.version}`,
    classify: (set, o = {}) => predictSetOnnx(session, set, normalisation, channels, o.batch ?? 128, o.tta === true),
    dispose: () => void session.release(),
  };
}

/** predictSet (src/model/predict-set.ts) on an ONNX session of the exported graph: the same batches, in NCHW. */
export async function predictSetOnnx(
  session: OnnxSession,
  set: DecodedSet,
  norm: Normalisation,
  channels: 1 | 3,
  batch = 128,
  tta = false,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (let i = 0; i < set.labels.length; i += batch) {
    const idx = Array.from({ length: Math.min(batch, set.labels.length - i) }, (_, k) => i + k);
    const dims = [idx.length, channels, set.size, set.size];
    const x = batchArray(set, idx, norm, channels, 'nchw');
    const probs = await session.run(x, dims);
    if (tta) {
      const mirrored = await session.run(mirrorRows(x, set.size), dims);
      for (let j = 0; j < probs.length; j++) probs[j] = (probs[j]! + mirrored[j]!) / 2;
    }
    const k = probs.length / idx.length;
    for (let r = 0; r < idx.length; r++) out.push(probs.slice(r * k, (r + 1) * k));
  }
  return out;
}

/** Every image of an NCHW batch mirrored left–right: each run of `width` values reversed. */
export function mirrorRows(x: Float32Array, width: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let row = 0; row < x.length; row += width) {
    for (let j = 0; j < width; j++) out[row + j] = x[row + width - 1 - j]!;
  }
  return out;
}
