/**
 * An emotion classifier as compare and distillation use it: class probabilities, over the model's
 * own classes, for face crops decoded at its input size. A bundled name, a run folder, or
 * `faceapi` (face-api.js's expression net as shipped in @vladmandic/face-api).
 */
import type { DecodedSet } from '../data/decoded-set.js';
import { TIGHT_CROPS, type FaceCut } from '../data/face-cut.js';
import { activeBackend, type ModelRuntime } from '../engine/backend.js';
import { loadEmotionNet } from './emotion-net.js';
import { loadFaceApiExpressionNet } from './faceapi-expression.js';
import { VisemoError } from '../util/errors.js';

export const FACEAPI_MODEL = 'faceapi';

export interface Classifier {
  name: string;
  /** Where it came from: its folder, or the face-api package. */
  source: string;
  classes: string[];
  inputSize: number;
  /** How faces found in photos are cut for it (audit): a visemo model's metadata, face-api's detector box as is. */
  faceCut: FaceCut;
  /** What runs it: 'tfjs wasm' (tfjs and its backend), or 'onnxruntime-node <version>'. */
  runtime: string;
  classify(set: DecodedSet): Promise<Float32Array[]>;
  dispose(): void;
}

/**
 * Loads a classifier by name; `tta` averages a visemo model over each crop and its mirror, `runtime`
 * runs it on onnxruntime-node (faceapi runs on tfjs as shipped).
 */
export async function loadClassifier(name: string, opts: { tta?: boolean; runtime?: ModelRuntime } = {}): Promise<Classifier> {
  if (name === FACEAPI_MODEL) {
    const net = await loadFaceApiExpressionNet();
    return {
      name,
      source: 'face-api.js expression net (@vladmandic/face-api, model/face_expression_model)',
      classes: net.classes,
      inputSize: net.inputSize,
      // face-api.js classifies the detector's box itself (padded to a square), without margin.
      faceCut: TIGHT_CROPS,
      runtime: `tfjs ${activeBackend() ?? ''}`.trim(),
      classify: (set) => net.classifyGray(splitPixels(set)),
      dispose: () => {},
    };
  }
  const net = await loadEmotionNet(name, opts.runtime);
  return {
    name,
    source: net.dir,
    classes: net.metadata.classes,
    inputSize: net.metadata.inputSize,
    faceCut: net.metadata.faceCut,
    runtime: net.runtimeLabel,
    classify: (set) => net.classify(set, { tta: opts.tta }),
    dispose: () => net.dispose(),
  };
}

/**
 * Loads each named classifier and checks it knows every one of `classes`; on a failure the ones
 * already loaded are freed. `fix` says what to do when a model lacks a class.
 */
export async function loadClassifiers(names: string[], classes: string[], opts: { tta?: boolean; runtime?: ModelRuntime }, fix: string): Promise<Classifier[]> {
  const loaded: Classifier[] = [];
  try {
    for (const name of names) {
      const c = await loadClassifier(name, opts);
      loaded.push(c);
      const missing = classes.filter((k) => !c.classes.includes(k));
      if (missing.length > 0) throw new VisemoError(`model ${name} has no class ${missing.join(', ')} (it knows ${c.classes.join(', ')})`, fix);
    }
    return loaded;
  } catch (err) {
    for (const c of loaded) c.dispose();
    throw err;
  }
}

function splitPixels(set: DecodedSet): Uint8Array[] {
  const px = set.size * set.size;
  return Array.from(set.labels, (_, i) => set.pixels.subarray(i * px, (i + 1) * px));
}
