/**
 * An emotion classifier as compare and distillation use it: class probabilities, over the model's
 * own classes, for face crops decoded at its input size. A bundled name, a run folder, or
 * `faceapi` (face-api.js's expression net as shipped in @vladmandic/face-api).
 */
import type { DecodedSet } from '../data/decoded-set.js';
import { predictSet } from '../model/predict-set.js';
import { loadFaceApiExpressionNet } from './faceapi-expression.js';
import { loadEmotionModel } from '../model/model-io.js';

export const FACEAPI_MODEL = 'faceapi';

export interface Classifier {
  name: string;
  /** Where it came from: its folder, or the face-api package. */
  source: string;
  classes: string[];
  inputSize: number;
  classify(set: DecodedSet): Promise<Float32Array[]>;
  dispose(): void;
}

/** Loads a classifier by name; `tta` averages a visemo model over each crop and its mirror (faceapi runs as shipped). */
export async function loadClassifier(name: string, opts: { tta?: boolean } = {}): Promise<Classifier> {
  if (name === FACEAPI_MODEL) {
    const net = await loadFaceApiExpressionNet();
    return {
      name,
      source: 'face-api.js expression net (@vladmandic/face-api, model/face_expression_model)',
      classes: net.classes,
      inputSize: net.inputSize,
      classify: (set) => net.classifyGray(splitPixels(set)),
      dispose: () => {},
    };
  }
  const loaded = await loadEmotionModel(name);
  const { normalisation, channels } = loaded.metadata;
  return {
    name,
    source: loaded.dir,
    classes: loaded.metadata.classes,
    inputSize: loaded.metadata.inputSize,
    classify: async (set) => predictSet(loaded.model, set, normalisation, channels, 128, opts.tta === true),
    dispose: () => loaded.model.dispose(),
  };
}

function splitPixels(set: DecodedSet): Uint8Array[] {
  const px = set.size * set.size;
  return Array.from(set.labels, (_, i) => set.pixels.subarray(i * px, (i + 1) * px));
}
