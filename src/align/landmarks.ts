/**
 * face-api's 68-point landmark net (iBUG 300-W layout), as shipped inside @vladmandic/face-api:
 * its weights come from the package folder, nothing is downloaded. Like the detector in
 * src/inference/face-detector.ts it runs on the process's one tfjs engine and backend.
 *
 * The net sees a 112×112 RGB square. We cut that square ourselves (cropFace: edge pixels pad
 * where it leaves the image, lanczos3 resize) rather than let face-api pad with black and resize
 * bilinearly, and we feed it gray (our pipeline is gray): the gray value fills all three channels.
 */
import { createRequire } from 'node:module';
import { useBackend, activeBackend, type BackendChoice } from '../engine/backend.js';
import { tf } from '../engine/tf.js';
import { cropFace } from '../image/crop.js';
import { faceApiModelDir } from '../image/face-detector.js';
import type { FaceBox, RawImage } from '../image/geometry.js';
import type { Point } from './geometry.js';

export type { Point };

/** Side of the square the landmark net sees (face-api's FaceFeatureExtractor, toBatchTensor(112)). */
export const LANDMARK_INPUT_SIZE = 112;

/** `full`: faceLandmark68Net (~350 kB); `tiny`: faceLandmark68TinyNet (~80 kB, less exact). */
export type LandmarkModel = 'full' | 'tiny';

export interface LandmarkNetOptions {
  model?: LandmarkModel;
  /** Backend to activate when none is active yet (default 'wasm'). */
  backend?: BackendChoice;
}

// Minimal typing of the part of face-api used here: its bundled .d.ts carries its own tfjs types.
interface FaceApiLandmarkNet {
  isLoaded: boolean;
  loadFromDisk(dir: string): Promise<void>;
  detectLandmarks(input: unknown): Promise<{ positions: Point[] }[] | { positions: Point[] }>;
}

export interface LandmarkNet {
  readonly model: LandmarkModel;
  /** Landmarks of 112×112 gray squares, in the squares' own pixel coordinates. */
  run(squares: Uint8Array[]): Promise<Point[][]>;
}

const require = createRequire(import.meta.url);

/** Loads the landmark net's weights (once per process) on the active backend (default wasm). */
export async function loadLandmarkNet(opts: LandmarkNetOptions = {}): Promise<LandmarkNet> {
  const model = opts.model ?? 'full';
  if (activeBackend() === null) await useBackend(opts.backend ?? 'wasm', { quiet: true });
  // The same module face-detector.ts loads, so one face-api instance runs on our tfjs engine.
  const api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as {
    nets: { faceLandmark68Net: FaceApiLandmarkNet; faceLandmark68TinyNet: FaceApiLandmarkNet };
  };
  const net = model === 'full' ? api.nets.faceLandmark68Net : api.nets.faceLandmark68TinyNet;
  if (!net.isLoaded) await net.loadFromDisk(faceApiModelDir());
  const size = LANDMARK_INPUT_SIZE;
  return {
    model,
    async run(squares) {
      if (squares.length === 0) return [];
      // Its weights may have been freed since (disposeFaceApiNets): load them again.
      if (!net.isLoaded) await net.loadFromDisk(faceApiModelDir());
      const tensors = squares.map((s) => {
        if (s.length !== size * size) throw new Error(`landmark input has ${s.length} pixels, expected ${size}x${size}`);
        return tf.tidy(() => tf.tile(tf.tensor3d(s, [size, size, 1], 'int32'), [1, 1, 3]));
      });
      try {
        // An array input is a batch: one FaceLandmarks68 per square, even for a single square.
        const found = (await net.detectLandmarks(tensors)) as { positions: Point[] }[];
        return found.map((l) => l.positions.map((p) => ({ x: p.x, y: p.y })));
      } finally {
        tensors.forEach((t) => t.dispose());
      }
    },
  };
}

export interface LandmarkInput {
  image: RawImage;
  /** A face box from the detector: the net sees a square around it. Without one, the whole image. */
  box?: FaceBox;
  /** Room around `box` on each side, as a fraction of its longest side (default 0.25). */
  margin?: number;
}

/** The square the net sees for an input, in the image's pixel coordinates. */
export function landmarkSquareBox(input: LandmarkInput): { box: FaceBox; margin: number } {
  if (input.box) return { box: input.box, margin: input.margin ?? 0.25 };
  // A pre-cropped face (FER2013, CK+): the crop itself, squared around its centre.
  return { box: { x: 0, y: 0, width: input.image.width, height: input.image.height }, margin: 0 };
}

/**
 * 68 landmarks of each input, in its image's pixel coordinates, `batch` squares per net call.
 * On wasm (SIMD, one thread) batching gains little: net time per face was ~11 ms in batches of
 * 4–16 against ~14 ms one at a time and ~17 ms in batches of 64 (2 cores, one busy with training).
 */
export async function detectLandmarksBatch(net: LandmarkNet, inputs: LandmarkInput[], batch = 8): Promise<Point[][]> {
  const out: Point[][] = [];
  for (let i = 0; i < inputs.length; i += batch) {
    const chunk = inputs.slice(i, i + batch);
    const crops = await Promise.all(
      chunk.map((input) => {
        const { box, margin } = landmarkSquareBox(input);
        return cropFace(input.image, box, { margin, size: LANDMARK_INPUT_SIZE, gray: true });
      }),
    );
    const found = await net.run(crops.map(firstChannel));
    found.forEach((points, k) => {
      const { square } = crops[k]!;
      const scale = square.width / LANDMARK_INPUT_SIZE;
      out.push(points.map((p) => ({ x: square.x + p.x * scale, y: square.y + p.y * scale })));
    });
  }
  return out;
}

/** 68 landmarks of the face in `image` (or in `box`), in the image's pixel coordinates. */
export async function detectLandmarks(net: LandmarkNet, image: RawImage, opts: { box?: FaceBox; margin?: number } = {}): Promise<Point[]> {
  return (await detectLandmarksBatch(net, [{ image, ...opts }], 1))[0]!;
}

/** sharp sometimes keeps three identical channels after grayscale(): take the first. */
function firstChannel(image: RawImage): Uint8Array {
  if (image.channels === 1) return image.data;
  return Uint8Array.from({ length: image.width * image.height }, (_, i) => image.data[i * image.channels]!);
}
