/**
 * The paper's image treatment (section 1.2): every image monochrome, plus augmented copies
 * rotated by 15° ("inversion") and with Gaussian noise. Copies are seeded per image, so a
 * re-run or a different worker order gives the same pixels.
 */
import { cropFace } from '../image/crop.js';
import type { FaceBox, RawImage } from '../image/geometry.js';
import { rawPixels, sharpRaw } from '../image/raw.js';
import { createRng, gaussian } from '../util/random.js';
import { VisemoError } from '../util/errors.js';

export interface AugmentSpec {
  /** Degrees; each rotated copy turns by +angle or −angle (seeded). 0 or absent: no rotated copy. */
  rotate?: number;
  /** Standard deviation of Gaussian noise on 0–1 pixels. 0 or absent: no noisy copy. */
  noise?: number;
}

export type Augmentation = { type: 'rotate'; degrees: number } | { type: 'noise'; std: number };

/** Parses `--augment`: 'none', or a comma list of rotate=DEGREES and noise=STD. */
export function parseAugment(option: string): AugmentSpec {
  const spec: AugmentSpec = {};
  if (option.trim() === 'none' || option.trim() === '') return spec;
  for (const part of option.split(',')) {
    const [key, value] = part.split('=').map((s) => s.trim());
    const n = Number(value);
    if (key === 'rotate' && Number.isFinite(n) && n >= 0 && n <= 180) spec.rotate = n;
    else if (key === 'noise' && Number.isFinite(n) && n >= 0 && n <= 1) spec.noise = n;
    else {
      throw new VisemoError(
        `--augment '${option}': cannot read '${part}'`,
        "use e.g. 'rotate=15,noise=0.05' (degrees 0–180, noise std 0–1 on 0–1 pixels), or 'none'",
      );
    }
  }
  return spec;
}

/** A 32-bit FNV-1a hash of a string, to derive per-image seeds. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The copies one image gets, each with its suffix for the file name. Deterministic for (seed, id). */
export function planAugmentations(spec: AugmentSpec, seed: number, id: string): { aug: Augmentation; suffix: string }[] {
  const rng = createRng(seed ^ hashString(id));
  const out: { aug: Augmentation; suffix: string }[] = [];
  if (spec.rotate) {
    const degrees = rng() < 0.5 ? -spec.rotate : spec.rotate;
    out.push({ aug: { type: 'rotate', degrees }, suffix: `rot${degrees > 0 ? '+' : ''}${degrees}` });
  }
  if (spec.noise) out.push({ aug: { type: 'noise', std: spec.noise }, suffix: 'noise' });
  return out;
}

/** One-channel square image: the monochrome crop of `square` from `source`, resized to `size`. */
export async function grayCrop(source: RawImage, square: FaceBox, size: number): Promise<RawImage> {
  return cropFace(source, square, { margin: 0, size, gray: true });
}

/**
 * The crop of `square` turned by `degrees` clockwise about its centre. A wider square is cut
 * from the source first, so the corners hold real (or edge-repeated) pixels instead of black.
 */
export async function rotatedGrayCrop(source: RawImage, square: FaceBox, size: number, degrees: number): Promise<RawImage> {
  const wideSize = Math.ceil(size * Math.SQRT2) + 2;
  const wide = await cropFace(source, square, { margin: (Math.SQRT2 - 1) / 2 + 1 / size, size: wideSize, gray: true });
  const rotated = await rawPixels(
    sharpRaw(wide)
      .rotate(degrees, { background: { r: 0, g: 0, b: 0 } })
      .grayscale(),
  );
  return rawPixels(
    sharpRaw(rotated)
      .extract({
        left: Math.floor((rotated.width - wideSize) / 2) + Math.floor((wideSize - size) / 2),
        top: Math.floor((rotated.height - wideSize) / 2) + Math.floor((wideSize - size) / 2),
        width: size,
        height: size,
      })
      .grayscale(),
  );
}

/** A copy with N(0, std) noise added to every 0–1 pixel, clamped; seeded. */
export function addNoise(image: RawImage, std: number, seed: number): RawImage {
  const rng = createRng(seed);
  const data = new Uint8Array(image.data.length);
  for (let i = 0; i < data.length; i++) {
    const v = image.data[i]! / 255 + std * gaussian(rng);
    data[i] = Math.round(Math.min(1, Math.max(0, v)) * 255);
  }
  return { ...image, data };
}

/** PNG bytes of a raw image (monochrome stays one channel). */
export async function encodePng(image: RawImage): Promise<Buffer> {
  return sharpRaw(image)
    .toColourspace(image.channels === 1 ? 'b-w' : 'srgb')
    .png({ compressionLevel: 6 })
    .toBuffer();
}
