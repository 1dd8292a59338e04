/**
 * The model's preprocessing in plain JavaScript (as transformers.js's RawImage does it): gray by
 * sRGB luminance, a square cut with edge pixels repeated, an aliasing-free shrink to the model's
 * size, and the normalisation training applies. Node does the same with sharp (decode.ts,
 * crop.ts); pixels.test.ts holds this module to sharp's output. No imports, so the web page
 * bundles it and keeps no image arithmetic of its own.
 */

/** Interleaved pixels, row-major, 0–255 (a RawImage, or a tfjs frame's int32 values). */
export interface Pixels {
  data: ArrayLike<number>;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/** One-channel pixels, 0–255, not rounded (what the gray conversion gives). */
export interface GrayPixels {
  data: Float32Array;
  width: number;
  height: number;
}

/** A rectangle in whole pixels; it may reach outside the image (a FaceBox of geometry.ts). */
export interface PixelRect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Mean and standard deviation of the training pixels on 0–1 (a run's normalisation; one value per channel, all equal). */
export interface PixelNormalisation {
  mean: readonly number[];
  std: readonly number[];
}

/** An affine map from output pixel (x, y) to input point: [ax, bx, cx, ay, by, cy], input x = ax·x + bx·y + cx. */
export type AffineMap = readonly [number, number, number, number, number, number];

/** sRGB value (0–255) → linear light, as a lookup table (float32, as the page always had it). */
const SRGB_TO_LINEAR = Float32Array.from({ length: 256 }, (_, i) => {
  const c = i / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});
/** Rec. 709 luminance weights of linear R, G, B. */
const LUMA = [0.2126, 0.7152, 0.0722] as const;

/** A value of `data` the caller has bounds-checked (the index is inside the image). */
const at = (data: ArrayLike<number>, i: number): number => data[i] as number;

/** Linear-light luminance encoded back to sRGB, 0–255 (not rounded): what sharp's grayscale() gives. */
function encodeSrgb(y: number): number {
  return 255 * (y <= 0.0031308 ? y * 12.92 : 1.055 * y ** (1 / 2.4) - 0.055);
}

/** The gray value of the pixel starting at data[p]: its luminance in linear light, back in sRGB (one channel: itself). */
function grayAt(data: ArrayLike<number>, p: number, channels: number): number {
  if (channels === 1) return at(data, p);
  return encodeSrgb(LUMA[0] * linearAt(data, p) + LUMA[1] * linearAt(data, p + 1) + LUMA[2] * linearAt(data, p + 2));
}

/** data[i] (an sRGB value, clamped and rounded to 0–255) in linear light. A function of its own, not a closure per pixel: this runs for every pixel of every face. */
function linearAt(data: ArrayLike<number>, i: number): number {
  return at(SRGB_TO_LINEAR, Math.min(255, Math.max(0, Math.round(at(data, i)))));
}

/**
 * The gray square (or any rectangle) `rect` of an image, edge pixels repeated where it leaves the
 * image, as crop.ts pads. Alpha is ignored. One loop in plain JS: on the page's wasm backend,
 * tfjs's gathers over a face-sized square cost tens of milliseconds, this about one.
 */
export function grayCut(image: Pixels, rect: PixelRect): GrayPixels {
  const { data, width: w, height: h, channels } = image;
  if (data.length !== w * h * channels) throw new RangeError(`image data has ${data.length} values, expected ${w}x${h}x${channels}`);
  const out = new Float32Array(rect.width * rect.height);
  for (let j = 0; j < rect.height; j++) {
    const row = Math.min(h - 1, Math.max(0, rect.y + j)) * w;
    for (let i = 0; i < rect.width; i++) out[j * rect.width + i] = grayAt(data, (row + Math.min(w - 1, Math.max(0, rect.x + i))) * channels, channels);
  }
  return { data: out, width: rect.width, height: rect.height };
}

/** A whole image in gray (sharp's grayscale(), not rounded). */
export function toGrayPixels(image: Pixels): GrayPixels {
  return grayCut(image, { x: 0, y: 0, width: image.width, height: image.height });
}

/** Rounds half to even, as tf.round does (the page's preprocessing rounded with it). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * `gray` resized to size×size, rounded to whole values 0–255. Shrinking: bilinear (corners
 * aligned) to the multiple k·size nearest above each side, then the mean of each k×k block: an
 * area filter, so nothing aliases. sharp's lanczos3 (decode.ts, crop.ts) differs by a level or two.
 */
export function resizeGray(gray: GrayPixels, size: number): Uint8Array {
  // k·size at least the side: every source pixel counts in some block (a smaller multiple skips some, and aliases).
  const kx = Math.max(1, Math.ceil(gray.width / size));
  const ky = Math.max(1, Math.ceil(gray.height / size));
  const bigWidth = size * kx;
  const big = resizeBilinear(gray, bigWidth, size * ky);
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let sum = 0;
      for (let dy = 0; dy < ky; dy++) for (let dx = 0; dx < kx; dx++) sum += at(big, (y * ky + dy) * bigWidth + x * kx + dx);
      out[y * size + x] = Math.min(255, Math.max(0, roundHalfEven(sum / (kx * ky))));
    }
  }
  return out;
}

/** Bilinear resize to width×height with corners aligned (tf.image.resizeBilinear's alignCorners). */
function resizeBilinear(gray: GrayPixels, width: number, height: number): Float32Array {
  const { data, width: w, height: h } = gray;
  const out = new Float32Array(width * height);
  const ry = height > 1 ? (h - 1) / (height - 1) : 0;
  const rx = width > 1 ? (w - 1) / (width - 1) : 0;
  for (let y = 0; y < height; y++) {
    const sy = y * ry;
    const y0 = Math.floor(sy);
    const y1 = Math.min(h - 1, Math.ceil(sy));
    const fy = sy - y0;
    for (let x = 0; x < width; x++) {
      const sx = x * rx;
      const x0 = Math.floor(sx);
      const x1 = Math.min(w - 1, Math.ceil(sx));
      const fx = sx - x0;
      const top = at(data, y0 * w + x0) + (at(data, y0 * w + x1) - at(data, y0 * w + x0)) * fx;
      const bottom = at(data, y1 * w + x0) + (at(data, y1 * w + x1) - at(data, y1 * w + x0)) * fx;
      out[y * width + x] = top + (bottom - top) * fy;
    }
  }
  return out;
}

/**
 * Monochrome pixels (0–255) as the model takes them: x = p / 255 − mean over std, in the same
 * arithmetic as training's batchArray (src/data/decoded-set.ts), repeated to `channels` ([h, w, c]).
 */
export function normalisePixels(pixels: ArrayLike<number>, norm: PixelNormalisation, channels: 1 | 3): Float32Array {
  const mean = at(norm.mean, 0);
  const std = at(norm.std, 0);
  const scale = 1 / (255 * std);
  const shift = mean / std;
  const out = new Float32Array(pixels.length * channels);
  for (let p = 0; p < pixels.length; p++) {
    const v = at(pixels, p) * scale - shift;
    for (let c = 0; c < channels; c++) out[p * channels + c] = v;
  }
  return out;
}

/** The model input for the face in `square` of an image: cut (edges repeated), gray, resized to size×size, normalised. */
export function faceModelInput(image: Pixels, square: PixelRect, size: number, norm: PixelNormalisation, channels: 1 | 3): Float32Array {
  return normalisePixels(resizeGray(grayCut(image, square), size), norm, channels);
}

/**
 * A side×side RGB image sampled from `image` through `map` (output pixel → input point, pixel
 * centres at integers): bilinear, points beyond the frame taking the nearest edge pixel, values
 * rounded. As tf.image.transform(…, 'bilinear', 'nearest') does; the page cuts aligned faces so.
 */
export function warpAffine(image: Pixels, map: AffineMap, side: number): Pixels {
  const { data, width: w, height: h, channels } = image;
  const [ax, bx, cx, ay, by, cy] = map;
  const out = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const sx = Math.min(w - 1, Math.max(0, ax * x + bx * y + cx));
      const sy = Math.min(h - 1, Math.max(0, ay * x + by * y + cy));
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(w - 1, x0 + 1);
      const y1 = Math.min(h - 1, y0 + 1);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let c = 0; c < 3; c++) {
        const v = (yy: number, xx: number) => at(data, (yy * w + xx) * channels + (channels === 1 ? 0 : c));
        const top = v(y0, x0) * (1 - fx) + v(y0, x1) * fx;
        const bottom = v(y1, x0) * (1 - fx) + v(y1, x1) * fx;
        out[(y * side + x) * 3 + c] = Math.round(top * (1 - fy) + bottom * fy);
      }
    }
  }
  return { data: out, width: side, height: side, channels: 3 };
}
