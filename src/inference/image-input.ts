/**
 * Turns what a caller hands the recogniser (a file path, encoded bytes, raw pixels or a tensor)
 * into raw RGB pixels for the face detector, and monochrome model-size pixels for a face.
 */
import sharp, { type Sharp } from 'sharp';
import { grayPixels } from '../data/decode.js';
import { tf } from '../engine/backend.js';
import type { RawImage } from './face-detector.js';

/** A file path, encoded image bytes (PNG, JPEG, ...), raw pixels, or an [h, w, c] tensor of 0–255 values. */
export type ImageInput = string | Buffer | Uint8Array | ArrayBuffer | RawImage | tf.Tensor3D;

export function isRawImage(x: unknown): x is RawImage {
  const r = x as RawImage;
  return typeof r === 'object' && r !== null && r.data instanceof Uint8Array && typeof r.width === 'number' && typeof r.height === 'number' && typeof r.channels === 'number';
}

function isTensor(x: unknown): x is tf.Tensor3D {
  return x instanceof tf.Tensor;
}

/** Raw pixels of a tensor [h, w, 1|3|4] holding 0–255 values (clamped and rounded). */
function tensorToRaw(t: tf.Tensor3D): RawImage {
  if (t.rank !== 3 || ![1, 3, 4].includes(t.shape[2])) {
    throw new Error(`an image tensor must be [height, width, 1|3|4], got [${t.shape.join(', ')}]`);
  }
  const values = t.dataSync();
  const data = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = Math.min(255, Math.max(0, Math.round(values[i]!)));
  return { data, width: t.shape[1], height: t.shape[0], channels: t.shape[2] as 1 | 3 | 4 };
}

/** A sharp pipeline over any input (raw and tensor inputs are described to sharp, files and bytes decoded). */
function sharpOf(input: ImageInput): Sharp {
  if (isTensor(input)) input = tensorToRaw(input);
  if (isRawImage(input)) {
    if (input.data.length !== input.width * input.height * input.channels) {
      throw new Error(`raw image has ${input.data.length} bytes, expected ${input.width}x${input.height}x${input.channels}`);
    }
    return sharp(input.data, { raw: { width: input.width, height: input.height, channels: input.channels } });
  }
  const bytes = input instanceof ArrayBuffer ? Buffer.from(input) : input instanceof Uint8Array && !Buffer.isBuffer(input) ? Buffer.from(input.buffer, input.byteOffset, input.byteLength) : input;
  // failOn 'error': a truncated file is an error, as in training's decodeGray.
  return sharp(bytes, { failOn: 'error' }).rotate();
}

/**
 * RGB pixels for the detector. Alpha is flattened onto black, as training's decodeGray does,
 * and EXIF orientation is applied so boxes match the image as viewers show it.
 */
export async function toRgb(input: ImageInput): Promise<RawImage> {
  if (isRawImage(input) && input.channels === 3) return input;
  const { data, info } = await sharpOf(input).flatten({ background: '#000000' }).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`expected 3 channels after decoding, got ${info.channels}`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3 };
}

/**
 * A whole image as one face, exactly as training prepares its images (src/data/decode.ts):
 * flattened, monochrome, resized to size×size without keeping the aspect ratio (lanczos3).
 */
export async function wholeImageGray(input: ImageInput, size: number): Promise<Uint8Array> {
  return grayPixels(sharpOf(input), size);
}
