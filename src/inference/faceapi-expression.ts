/**
 * face-api.js's expression net, as shipped inside @vladmandic/face-api: the model users of
 * face-api already have, which `visemo compare` measures ours against. Seven classes (face-api's
 * labels folded to ours); its weights come from the package folder, nothing is downloaded.
 *
 * Its input, per face-api's FaceFeatureExtractor: an RGB face crop of 112×112 (0–255; face-api
 * pads to a square, resizes bilinearly to 112, subtracts its mean RGB and divides by 255 itself).
 * Our crops are monochrome, so the gray value fills all three channels.
 */
import { createRequire } from 'node:module';
import { useBackend, activeBackend, type BackendChoice } from '../engine/backend.js';
import { tf } from '../engine/tf.js';
import { normaliseClassName } from '../data/classes.js';
import { faceApiModelDir } from '../image/face-detector.js';

/** face-api's FaceFeatureExtractor input (toBatchTensor(112)). */
export const FACEAPI_INPUT_SIZE = 112;
/** face-api's FACE_EXPRESSION_LABELS, in its output order. */
export const FACEAPI_LABELS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'] as const;
/** The same classes under our names (neutral, happiness, sadness, anger, fear, disgust, surprise). */
export const FACEAPI_CLASSES: string[] = FACEAPI_LABELS.map(normaliseClassName);

interface FaceApiExpressionNetRaw {
  isLoaded: boolean;
  loadFromDisk(dir: string): Promise<void>;
  predictExpressions(input: unknown): Promise<Record<string, number> | Record<string, number>[]>;
}

const require = createRequire(import.meta.url);

export interface FaceApiExpressionModel {
  name: 'faceapi';
  classes: string[];
  inputSize: number;
  /** Class probabilities (FACEAPI_CLASSES order) for monochrome inputSize×inputSize crops. */
  classifyGray(crops: Uint8Array[], batch?: number): Promise<Float32Array[]>;
}

/** Loads the expression net's weights (once per process) on the active backend (default wasm). */
export async function loadFaceApiExpressionNet(opts: { backend?: BackendChoice } = {}): Promise<FaceApiExpressionModel> {
  if (activeBackend() === null) await useBackend(opts.backend ?? 'wasm', { quiet: true });
  // The same module image/face-detector.ts loads, so one face-api instance runs on our tfjs engine.
  const api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as { nets: { faceExpressionNet: FaceApiExpressionNetRaw } };
  const net = api.nets.faceExpressionNet;
  if (!net.isLoaded) await net.loadFromDisk(faceApiModelDir());
  const size = FACEAPI_INPUT_SIZE;
  return {
    name: 'faceapi',
    classes: FACEAPI_CLASSES,
    inputSize: size,
    async classifyGray(crops, batch = 32) {
      const out: Float32Array[] = [];
      for (let i = 0; i < crops.length; i += batch) {
        const chunk = crops.slice(i, i + batch);
        const tensors = chunk.map((c) => {
          if (c.length !== size * size) throw new Error(`face-api crop has ${c.length} pixels, expected ${size}x${size}`);
          return tf.tidy(() => tf.tile(tf.tensor3d(c, [size, size, 1], 'int32'), [1, 1, 3]));
        });
        try {
          // An array input is a batch: one FaceExpressions per crop, even for a single crop.
          const found = (await net.predictExpressions(tensors)) as Record<string, number>[];
          for (const e of found) out.push(Float32Array.from(FACEAPI_LABELS, (label) => e[label]!));
        } finally {
          tensors.forEach((t) => t.dispose());
        }
      }
      return out;
    },
  };
}
