/**
 * Aligns a face: finds its landmarks, turns the image about the face so the eyes are level, and
 * cuts the square of geometry.ts (the framing of FER2013's crops), gray and size×size, through
 * the same preprocessing as every training image (grayPixels: flatten, grayscale, lanczos3).
 *
 * The turn-and-cut is an inverse-mapped bicubic sample at the source's own resolution, with
 * coordinates clamped to the image (so the square's parts outside it repeat the edge pixels, as
 * cropFace pads). sharp's rotate()/affine() place their output on a bounding-box canvas whose
 * origin libvips rounds in ways that shifted a test blob by up to a pixel, which no formula
 * matched; sampling ourselves puts the square exactly where the geometry says, and sharp still
 * does the resize (lanczos3), so large faces are not aliased.
 */
import sharp from 'sharp';
import { grayPixels } from '../image/decode.js';
import { cropFace } from '../image/crop.js';
import { INFERENCE_DEFAULTS } from '../config/inference.js';
import { squareAround, type FaceBox, type RawImage } from '../image/geometry.js';
import { alignmentFromLandmarks, fromAligned, landmarkProblem, type Alignment, type AlignFailure } from './geometry.js';
import {
  detectLandmarksBatch,
  LANDMARK_INPUT_SIZE,
  landmarkSquareBox,
  loadLandmarkNet,
  type LandmarkInput,
  type LandmarkNet,
  type Point,
} from './landmarks.js';

/** Room around a detector box in a fallback (unaligned) crop: prepare's default margin. */
export const FALLBACK_MARGIN = INFERENCE_DEFAULTS.faceMargin;

export interface AlignOptions extends AlignFacesOptions {
  /** The face box from a detector; without one the whole image is taken as the face (pre-cropped data). */
  box?: FaceBox;
  /** Room around `box` on each side for the landmark net, as a fraction of its longest side (default 0.25). */
  margin?: number;
}

export interface AlignedFace {
  aligned: true;
  /** size×size gray pixels, row-major. */
  pixels: Uint8Array;
  /** Roll of the eye line that was undone, in degrees (positive: the face was turned clockwise). */
  angle: number;
  /** The 68 landmarks, in the source image's pixel coordinates. */
  landmarks: Point[];
  /** The square that was cut, in the source image's pixel coordinates. */
  square: Alignment;
}

export interface UnalignedFace {
  aligned: false;
  reason: AlignFailure;
  detail: string;
  /** The face unaligned: the box's square (margin FALLBACK_MARGIN) or the whole image, gray, size×size. */
  pixels: Uint8Array;
  angle: number;
  landmarks: Point[];
}

export type AlignResult = AlignedFace | UnalignedFace;

let defaultNet: Promise<LandmarkNet> | null = null;

function netOf(net?: LandmarkNet): Promise<LandmarkNet> {
  if (net) return Promise.resolve(net);
  defaultNet ??= loadLandmarkNet();
  return defaultNet;
}

/** Aligns the face in `image` (in `opts.box` when given). Deterministic: the same input gives the same bytes. */
export async function alignFace(image: RawImage, opts: AlignOptions): Promise<AlignResult> {
  return (await alignFaces([{ image, box: opts.box, margin: opts.margin }], opts))[0]!;
}

export interface AlignFacesOptions {
  /** Output width and height in pixels. */
  size: number;
  /** The landmark net (default: faceLandmark68Net, loaded on first use). */
  net?: LandmarkNet;
  /** Faces per landmark-net call (default 8). */
  batch?: number;
  /**
   * Run the net a second time on the levelled square and align from those landmarks (default
   * true). The net pulls its points towards an upright face, so one pass undoes only ~85 % of a
   * 20° roll (measured on FER2013 and CK+ crops turned by 20°: 15–19°); on the levelled square the
   * remaining roll is small and the second pass recovers it. Twice the net time.
   */
  refine?: boolean;
}

/** alignFace for many faces, running the landmark net on `batch` faces at a time. */
export async function alignFaces(inputs: LandmarkInput[], opts: AlignFacesOptions): Promise<AlignResult[]> {
  checkSize(opts.size);
  const net = await netOf(opts.net);
  const batch = opts.batch ?? 8;
  const landmarks = await detectLandmarksBatch(net, inputs, batch);
  const problems = inputs.map((input, i) => {
    const { box, margin } = landmarkSquareBox(input);
    return landmarkProblem(landmarks[i]!, squareAround(box, margin).width);
  });
  if (opts.refine ?? true) {
    const todo = inputs.flatMap((_, i) => (problems[i] ? [] : [i]));
    const squares = todo.map((i) => alignmentFromLandmarks(landmarks[i]!));
    const crops = await Promise.all(todo.map((i, k) => cutAligned(inputs[i]!.image, squares[k]!, LANDMARK_INPUT_SIZE)));
    for (let k = 0; k < todo.length; k += batch) {
      const found = await net.run(crops.slice(k, k + batch));
      found.forEach((points, j) => {
        const i = todo[k + j]!;
        const square = squares[k + j]!;
        landmarks[i] = points.map((p) => fromAligned(square, p.x / LANDMARK_INPUT_SIZE, p.y / LANDMARK_INPUT_SIZE));
        problems[i] = landmarkProblem(landmarks[i], square.side);
      });
    }
  }
  return Promise.all(
    inputs.map(async (input, i): Promise<AlignResult> => {
      const square = alignmentFromLandmarks(landmarks[i]!);
      const problem = problems[i];
      if (problem) return { aligned: false, ...problem, pixels: await unalignedPixels(input, opts.size), angle: square.angle, landmarks: landmarks[i]! };
      return { aligned: true, pixels: await cutAligned(input.image, square, opts.size), angle: square.angle, landmarks: landmarks[i]!, square };
    }),
  );
}

/** The face without alignment, as training would see it: the box's square, or the whole image. */
export async function unalignedPixels(input: LandmarkInput, size: number): Promise<Uint8Array> {
  const { image, box } = input;
  if (box) return (await cropFace(image, box, { margin: FALLBACK_MARGIN, size, gray: true })).data;
  return grayPixels(sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } }), size);
}

/** Catmull-Rom (Keys, a = −0.5) weights of the four taps around a point at fraction t past the second. */
function cubicWeights(t: number, w: Float64Array): void {
  const t2 = t * t;
  const t3 = t2 * t;
  w[0] = -0.5 * t3 + t2 - 0.5 * t;
  w[1] = 1.5 * t3 - 2.5 * t2 + 1;
  w[2] = -1.5 * t3 + 2 * t2 + 0.5 * t;
  w[3] = 0.5 * t3 - 0.5 * t2;
}

/** Cuts `square` out of `image` (turned by its angle, edge pixels beyond the image), gray, size×size. */
export async function cutAligned(image: RawImage, square: Alignment, size: number): Promise<Uint8Array> {
  const { data, width, height, channels } = image;
  if (data.length !== width * height * channels) throw new Error(`image data has ${data.length} bytes, expected ${width}x${height}x${channels}`);
  // Sampled at the source's resolution (one output pixel per source pixel), bicubic so the
  // resampling adds little blur; grayPixels then resizes with lanczos3.
  const n = Math.max(1, Math.round(square.side));
  const out = new Uint8Array(n * n * channels);
  const origin = fromAligned(square, 0, 0);
  const along = fromAligned(square, 1, 0);
  const down = fromAligned(square, 0, 1);
  // One output pixel step, in source pixels, along the square's rows and columns.
  const ux = (along.x - origin.x) / n;
  const uy = (along.y - origin.y) / n;
  const vx = (down.x - origin.x) / n;
  const vy = (down.y - origin.y) / n;
  const wx = new Float64Array(4);
  const wy = new Float64Array(4);
  const xs = new Int32Array(4);
  const ys = new Int32Array(4);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      // Centre of output pixel (i, j) in the source, in index coordinates (pixel centres at
      // integers), clamped to the image: outside it the edge pixels repeat.
      const fx = Math.min(width - 1, Math.max(0, origin.x + (i + 0.5) * ux + (j + 0.5) * vx - 0.5));
      const fy = Math.min(height - 1, Math.max(0, origin.y + (i + 0.5) * uy + (j + 0.5) * vy - 0.5));
      const x0 = Math.floor(fx);
      const y0 = Math.floor(fy);
      cubicWeights(fx - x0, wx);
      cubicWeights(fy - y0, wy);
      for (let k = 0; k < 4; k++) {
        xs[k] = Math.min(width - 1, Math.max(0, x0 - 1 + k));
        ys[k] = Math.min(height - 1, Math.max(0, y0 - 1 + k));
      }
      for (let c = 0; c < channels; c++) {
        let v = 0;
        for (let b = 0; b < 4; b++) {
          const row = ys[b]! * width;
          let h = 0;
          for (let a = 0; a < 4; a++) h += wx[a]! * data[(row + xs[a]!) * channels + c]!;
          v += wy[b]! * h;
        }
        out[(j * n + i) * channels + c] = Math.min(255, Math.max(0, Math.round(v)));
      }
    }
  }
  return grayPixels(sharp(out, { raw: { width: n, height: n, channels } }), size);
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < 1) throw new Error(`aligned size must be a positive integer, got ${size}`);
}
