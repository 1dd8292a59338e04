/**
 * Cutting a face out of a raw image with sharp: the square of geometry.ts's squareAround, edge
 * pixels repeated where it leaves the image. `prepare` cuts training faces and the recogniser
 * cuts faces to classify with this one function (the web page mirrors it on tensors).
 */
import type { Sharp } from 'sharp';
import { squareAround, type FaceBox, type RawImage } from './geometry.js';
import { rawPixels, sharpRaw } from './raw.js';
import { INFERENCE_DEFAULTS } from '../config/inference.js';

export interface CropOptions {
  /** Extra room on every side, as a fraction of the face box's longest side (default INFERENCE_DEFAULTS.faceMargin, 0.2). */
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
  const square = squareAround(box, opts.margin ?? INFERENCE_DEFAULTS.faceMargin);
  const pad = {
    left: Math.max(0, -square.x),
    top: Math.max(0, -square.y),
    right: Math.max(0, square.x + square.width - image.width),
    bottom: Math.max(0, square.y + square.height - image.height),
  };
  let pipeline = sharpRaw(image);
  if (pad.left || pad.top || pad.right || pad.bottom) {
    // Extend first, then extract in the padded coordinates; sharp orders operations itself, so
    // the extension is materialised before extracting.
    pipeline = sharpRaw(await rawPixels(keepChannels(pipeline.extend({ ...pad, extendWith: 'copy' }), image.channels)));
  }
  pipeline = pipeline.extract({ left: square.x + pad.left, top: square.y + pad.top, width: square.width, height: square.height });
  const size = opts.size ?? square.width;
  if (size !== square.width) pipeline = pipeline.resize(size, size, { kernel: 'lanczos3' });
  pipeline = opts.gray ? pipeline.grayscale() : keepChannels(pipeline, image.channels);
  return { ...(await rawPixels(pipeline)), square };
}

/** sharp writes one-channel raw input out as sRGB, and may add alpha, unless told otherwise. */
function keepChannels(pipeline: Sharp, channels: 1 | 3 | 4): Sharp {
  if (channels === 1) return pipeline.grayscale();
  return channels === 3 ? pipeline.removeAlpha() : pipeline.ensureAlpha();
}
