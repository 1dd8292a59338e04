/**
 * The one decoder: whatever a caller hands over (a file path, encoded bytes, raw pixels or a
 * tensor) becomes raw RGB pixels for the face detector (toRgb), or the size×size monochrome
 * model input (decodeGray). Training, `prepare` and inference all decode here, so they see the
 * same pixels: EXIF orientation applied, alpha flattened onto black, a truncated file an error.
 */
import sharp, { type Sharp } from 'sharp';
import { tf } from '../engine/tf.js';
import type { RawImage } from './geometry.js';
import { rawPixels, sharpRaw } from './raw.js';

/** A file path, encoded image bytes (PNG, JPEG, ...), raw pixels, or an [h, w, c] tensor of 0–255 values. */
export type ImageInput = string | Buffer | Uint8Array | ArrayBuffer | RawImage | tf.Tensor3D;

export function isRawImage(x: unknown): x is RawImage {
  const r = x as RawImage;
  return (
    typeof r === 'object' &&
    r !== null &&
    r.data instanceof Uint8Array &&
    typeof r.width === 'number' &&
    typeof r.height === 'number' &&
    typeof r.channels === 'number'
  );
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

/**
 * The most pixels one image may have (64 megapixels, 8000×8000): checked from the file's header
 * before decoding, so one small file that decodes to gigabytes (a 16000×16000 PNG is 280 KB)
 * is refused with its size instead of exhausting memory.
 */
export const MAX_INPUT_PIXELS = 64_000_000;

/** Formats sharp would render rather than decode (librsvg, poppler): their cost is not bounded by their pixels. */
const VECTOR_FORMATS = new Set<string>(['svg', 'pdf']);

/** A vector image (SVG, PDF) refused before rendering: the server answers it 415. */
export class VectorImageError extends Error {
  constructor(readonly format: string) {
    super(`vector images (${format.toUpperCase()}) are not accepted: rendering one can take minutes whatever its size; convert it to PNG or JPEG first`);
    this.name = 'VectorImageError';
  }
}

/**
 * An encoded image's (or image file's) width and height, read from its header: nothing is
 * decoded. Over MAX_INPUT_PIXELS it is refused with its size; an unreadable header is an error.
 * The server uses it to weigh an upload before any worker decodes it.
 */
export async function encodedImageSize(bytes: Buffer | string): Promise<{ width: number; height: number; pixels: number }> {
  const { width = 0, height = 0, format } = await sharp(bytes).metadata();
  // A vector image's pixel count bounds nothing: a 1 kB SVG filter chain renders for minutes.
  if (format !== undefined && VECTOR_FORMATS.has(format)) throw new VectorImageError(format);
  if (width * height > MAX_INPUT_PIXELS) {
    throw new Error(
      `the image is ${width}×${height} (${((width * height) / 1e6).toFixed(0)} megapixels), over the ${MAX_INPUT_PIXELS / 1e6} visemo decodes: shrink it first`,
    );
  }
  return { width, height, pixels: width * height };
}

/** A sharp pipeline over any input (raw and tensor inputs are described to sharp, files and bytes decoded). */
async function sharpOf(input: ImageInput): Promise<Sharp> {
  if (isTensor(input)) input = tensorToRaw(input);
  if (isRawImage(input)) {
    if (input.data.length !== input.width * input.height * input.channels) {
      throw new Error(`raw image has ${input.data.length} bytes, expected ${input.width}x${input.height}x${input.channels}`);
    }
    return sharpRaw(input);
  }
  const bytes =
    input instanceof ArrayBuffer
      ? Buffer.from(input)
      : input instanceof Uint8Array && !Buffer.isBuffer(input)
        ? Buffer.from(input.buffer, input.byteOffset, input.byteLength)
        : input;
  await encodedImageSize(bytes);
  // failOn 'error': a truncated file is an error rather than a half-grey image. rotate(): turn
  // the pixels as the EXIF orientation says, so boxes and crops match the image viewers show.
  return sharp(bytes, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS }).rotate();
}

/** RGB pixels for the detector (and crops): EXIF orientation applied, alpha flattened onto black. */
export async function toRgb(input: ImageInput): Promise<RawImage> {
  if (isRawImage(input) && input.channels === 3) return input;
  const rgb = await rawPixels((await sharpOf(input)).flatten({ background: '#000000' }).toColourspace('srgb').removeAlpha());
  if (rgb.channels !== 3) throw new Error(`expected 3 channels after decoding, got ${rgb.channels}`);
  return rgb;
}

/**
 * A whole image as a size×size monochrome uint8 model input (row-major, one byte a pixel): how
 * training decodes its face images, and how the recogniser reads an image that is already a face.
 */
export async function decodeGray(input: ImageInput, size: number): Promise<Uint8Array> {
  return grayPixels(await sharpOf(input), size);
}

/** A whole image, monochrome at its own size (alpha onto black, EXIF orientation applied): what alignment reads. */
export async function toGray(input: ImageInput): Promise<RawImage> {
  return rawPixels((await sharpOf(input)).flatten({ background: '#000000' }).grayscale());
}

/**
 * The one preprocessing every image goes through, in training and at inference alike: alpha
 * flattened onto black, monochrome, resized without keeping the aspect ratio (as the paper
 * resizes frames), lanczos3.
 */
export async function grayPixels(image: Sharp, size: number): Promise<Uint8Array> {
  const { data, info } = await image
    .flatten({ background: '#000000' })
    .grayscale()
    .resize(size, size, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels === 1) return new Uint8Array(data.buffer, data.byteOffset, data.length);
  // Some inputs keep three identical channels after grayscale(): take the first.
  const out = new Uint8Array(size * size);
  for (let i = 0; i < out.length; i++) out[i] = data[i * info.channels]!;
  return out;
}
