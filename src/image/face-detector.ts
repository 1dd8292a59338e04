/**
 * Face detection, shared by `prepare` (finding faces in video frames) and `predict` (finding the
 * faces to classify); crop.ts cuts them out. The detectors are the ones that ship inside
 * @vladmandic/face-api, loaded from its package folder: nothing is downloaded at run time.
 *
 * face-api's `node-wasm` build `require`s the same `@tensorflow/tfjs` that src/engine/tf.ts
 * imports, so the detector runs on the one tfjs engine (and backend) of the process.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { useBackend, activeBackend, type BackendChoice } from '../engine/backend.js';
import { detectBlazeFaces, disposeBlazeFace } from './blazeface.js';
import { clipBox, type FaceBox, type RawImage } from './geometry.js';
import { DETECTOR_MODELS, type DetectorModel } from './detector-choice.js';
import { toRgbTensor } from './rgb-tensor.js';
import { INFERENCE_DEFAULTS } from '../config/inference.js';

export interface FaceDetection {
  box: FaceBox;
  /** Detector confidence, 0–1. */
  score: number;
}

export { DETECTOR_CHOICES, DETECTOR_MODELS, detectorFor, type DetectorChoice, type DetectorModel } from './detector-choice.js';

export interface FaceDetectorOptions {
  model?: DetectorModel;
  /** Detections below this score are dropped (default INFERENCE_DEFAULTS.minFaceScore, 0.5). */
  minScore?: number;
  /** Tiny detector input size, a multiple of 32 (default 416). */
  inputSize?: number;
  /** Backend to activate when none is active yet (default 'wasm', the fastest that runs everything here). */
  backend?: BackendChoice;
}

export interface FaceDetector {
  readonly model: DetectorModel;
  /** All faces found, best score first. */
  detect(image: RawImage): Promise<FaceDetection[]>;
}

// Minimal typing of the part of face-api used here: its bundled .d.ts carries its own tfjs types.
interface FaceApiNet {
  isLoaded: boolean;
  loadFromDisk(dir: string): Promise<void>;
  dispose(throwOnRedispose?: boolean): void;
}
interface FaceApi {
  nets: { ssdMobilenetv1: FaceApiNet; tinyFaceDetector: FaceApiNet } & Record<string, FaceApiNet>;
  SsdMobilenetv1Options: new (o: { minConfidence: number; maxResults?: number }) => object;
  TinyFaceDetectorOptions: new (o: { inputSize: number; scoreThreshold: number }) => object;
  detectAllFaces(input: unknown, options: object): Promise<{ score: number; box: FaceBox }[]>;
}

const require = createRequire(import.meta.url);
let faceApi: FaceApi | null = null;

function loadFaceApi(): FaceApi {
  faceApi ??= require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  return faceApi;
}

/** The folder of model weights inside the installed @vladmandic/face-api package. */
export function faceApiModelDir(): string {
  return path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
}

/** Loads a detector's weights (once per process) and returns a detector bound to its options. */
export async function loadFaceDetector(opts: FaceDetectorOptions = {}): Promise<FaceDetector> {
  const model = opts.model ?? 'ssd';
  const minScore = opts.minScore ?? INFERENCE_DEFAULTS.minFaceScore;
  const inputSize = opts.inputSize ?? 416;
  if (!DETECTOR_MODELS.includes(model)) throw new Error(`unknown face detector '${model}' (use ${DETECTOR_MODELS.join(' or ')})`);
  if (inputSize % 32 !== 0) throw new Error(`detector input size must be a multiple of 32, got ${inputSize}`);
  if (activeBackend() === null) await useBackend(opts.backend ?? 'wasm', { quiet: true });
  if (model === 'blazeface') return { model, detect: (image) => detectBlazeFaces(image, { minScore }) };
  const api = loadFaceApi();
  const net = model === 'ssd' ? api.nets.ssdMobilenetv1 : api.nets.tinyFaceDetector;
  if (!net.isLoaded) await net.loadFromDisk(faceApiModelDir());
  const options =
    model === 'ssd'
      ? new api.SsdMobilenetv1Options({ minConfidence: minScore, maxResults: 20 })
      : new api.TinyFaceDetectorOptions({ inputSize, scoreThreshold: minScore });
  return {
    model,
    async detect(image) {
      // Its weights may have been freed since (disposeFaceApiNets): load them again.
      if (!net.isLoaded) await net.loadFromDisk(faceApiModelDir());
      const input = toRgbTensor(image);
      try {
        const found = await api.detectAllFaces(input, options);
        return found
          .map((d) => ({ score: d.score, box: clipBox(d.box, image.width, image.height) }))
          .filter((d) => d.box.width > 0 && d.box.height > 0)
          .sort((a, b) => b.score - a.score);
      } finally {
        input.dispose();
      }
    },
  };
}

let defaultDetector: Promise<FaceDetector> | null = null;

/**
 * Frees the weights of every face net this process loaded (face-api.js's detectors, landmarks and
 * expressions: about 21 MB for the SSD detector alone; BlazeFace). Anything that uses one later
 * loads it again.
 */
export function disposeFaceApiNets(): void {
  disposeBlazeFace();
  defaultDetector = null;
  if (!faceApi) return;
  for (const net of Object.values(faceApi.nets)) if (net.isLoaded) net.dispose(false);
}

/** Faces in `image` with the default detector (SSD MobileNet, score ≥ 0.5), loaded on first use. */
export async function detectFaces(image: RawImage): Promise<FaceDetection[]> {
  defaultDetector ??= loadFaceDetector();
  return (await defaultDetector).detect(image);
}
