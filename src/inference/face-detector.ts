/**
 * Face detection and cropping, shared by `prepare` (cutting faces out of video frames) and
 * `predict` (finding the face to classify). The detectors are the ones that ship inside
 * @vladmandic/face-api, loaded from its package folder: nothing is downloaded at run time.
 *
 * face-api's `node-wasm` build `require`s the same `@tensorflow/tfjs` that src/engine/tf.ts
 * imports, so the detector runs on the one tfjs engine (and backend) of the process.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { tf, useBackend, activeBackend, type BackendChoice } from '../engine/backend.js';

/** Raw interleaved pixels, row-major, 8 bits a channel. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/** A rectangle in pixel coordinates of the image it was found in. */
export interface FaceBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface FaceDetection {
  box: FaceBox;
  /** Detector confidence, 0–1. */
  score: number;
}

/** `ssd`: SSD MobileNet v1 (more accurate, ~4x slower); `tiny`: Tiny Face Detector. */
export type DetectorModel = 'ssd' | 'tiny';
export const DETECTOR_MODELS: DetectorModel[] = ['ssd', 'tiny'];

export interface FaceDetectorOptions {
  model?: DetectorModel;
  /** Detections below this score are dropped (default 0.5). */
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
}
interface FaceApi {
  nets: { ssdMobilenetv1: FaceApiNet; tinyFaceDetector: FaceApiNet };
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
  const minScore = opts.minScore ?? 0.5;
  const inputSize = opts.inputSize ?? 416;
  if (!DETECTOR_MODELS.includes(model)) throw new Error(`unknown face detector '${model}' (use ${DETECTOR_MODELS.join(' or ')})`);
  if (inputSize % 32 !== 0) throw new Error(`detector input size must be a multiple of 32, got ${inputSize}`);
  if (activeBackend() === null) await useBackend(opts.backend ?? 'wasm', { quiet: true });
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

/** Faces in `image` with the default detector (SSD MobileNet, score ≥ 0.5), loaded on first use. */
export async function detectFaces(image: RawImage): Promise<FaceDetection[]> {
  defaultDetector ??= loadFaceDetector();
  return (await defaultDetector).detect(image);
}

/** The face with the largest box area, or undefined when there is none. */
export function largestFace(faces: FaceDetection[]): FaceDetection | undefined {
  let best: FaceDetection | undefined;
  for (const f of faces) if (!best || f.box.width * f.box.height > best.box.width * best.box.height) best = f;
  return best;
}

/** An int32 [h, w, 3] tensor, as face-api expects (it scales 0–255 itself). */
function toRgbTensor(image: RawImage) {
  const { data, width, height, channels } = image;
  if (data.length !== width * height * channels) {
    throw new Error(`image data has ${data.length} bytes, expected ${width}x${height}x${channels}`);
  }
  return tf.tidy(() => {
    const t = tf.tensor3d(Int32Array.from(data), [height, width, channels], 'int32');
    if (channels === 3) return t;
    if (channels === 4) return tf.slice(t, [0, 0, 0], [height, width, 3]);
    return tf.tile(t, [1, 1, 3]);
  });
}

function clipBox(b: FaceBox, width: number, height: number): FaceBox {
  const x = Math.max(0, b.x);
  const y = Math.max(0, b.y);
  return { x, y, width: Math.min(width, b.x + b.width) - x, height: Math.min(height, b.y + b.height) - y };
}

/**
 * The square to cut around a face: centred on the box, side = longest box side × (1 + 2·margin),
 * in whole pixels. It may reach outside the image; cropFace pads such parts.
 */
export function squareAround(box: FaceBox, margin: number): FaceBox {
  const side = Math.max(1, Math.round(Math.max(box.width, box.height) * (1 + 2 * margin)));
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  const x = Math.round(cx - side / 2);
  const y = Math.round(cy - side / 2);
  return { x, y, width: side, height: side };
}

export interface CropOptions {
  /** Extra room on every side, as a fraction of the face box's longest side (default 0.2). */
  margin?: number;
  /** Output width and height in pixels (default: the square's own size). */
  size?: number;
  /** Also return the crop made monochrome (1 channel). */
  gray?: boolean;
}

/**
 * Cuts a square around `box` (see squareAround), padding by repeating the edge pixels where the
 * square leaves the image, and resizes it to `size`. Returns raw pixels with the input's channels,
 * or one channel with `gray`.
 */
export async function cropFace(image: RawImage, box: FaceBox, opts: CropOptions = {}): Promise<RawImage & { square: FaceBox }> {
  const square = squareAround(box, opts.margin ?? 0.2);
  const pad = {
    left: Math.max(0, -square.x),
    top: Math.max(0, -square.y),
    right: Math.max(0, square.x + square.width - image.width),
    bottom: Math.max(0, square.y + square.height - image.height),
  };
  let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  if (pad.left || pad.top || pad.right || pad.bottom) {
    // Extend first, then extract in the padded coordinates; sharp orders operations itself, so
    // the extension is materialised before extracting.
    const padded = await keepChannels(pipeline.extend({ ...pad, extendWith: 'copy' }), image.channels).raw().toBuffer();
    pipeline = sharp(padded, {
      raw: { width: image.width + pad.left + pad.right, height: image.height + pad.top + pad.bottom, channels: image.channels },
    });
  }
  pipeline = pipeline.extract({ left: square.x + pad.left, top: square.y + pad.top, width: square.width, height: square.height });
  const size = opts.size ?? square.width;
  if (size !== square.width) pipeline = pipeline.resize(size, size, { kernel: 'lanczos3' });
  pipeline = opts.gray ? pipeline.grayscale() : keepChannels(pipeline, image.channels);
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: info.channels as 1 | 3 | 4, square };
}

/** sharp writes one-channel raw input out as sRGB, and may add alpha, unless told otherwise. */
function keepChannels(pipeline: Sharp, channels: 1 | 3 | 4): Sharp {
  if (channels === 1) return pipeline.grayscale();
  return channels === 3 ? pipeline.removeAlpha() : pipeline.ensureAlpha();
}
