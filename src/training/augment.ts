/**
 * On-the-fly training augmentation: every batch of decoded uint8 images gets a fresh random
 * variant of each image, so no two epochs see the same pixels. One seeded random affine warp per
 * image (the paper's rotation of up to ±15°, a zoom-in crop with a shift, and a horizontal flip),
 * sampled bilinearly with edge pixels repeated, then the paper's Gaussian noise on a share of
 * the images, and (`erase`) random erasing: a rectangle of random gray pixels over part of the
 * face, so the net cannot lean on one region alone (Zhong et al., 2020). Plain JS on small
 * monochrome images: well under a millisecond per 48×48 image, next to tens of milliseconds for
 * the training step it feeds.
 */
import type { DecodedSet } from '../data/decoded-set.js';
import { VisemoError } from '../util/errors.js';
import { gaussian } from '../util/random.js';

export interface TrainAugment {
  /** Largest rotation in degrees, either way (paper: 15). */
  rotate: number;
  /** Largest zoom-in: a crop of 1/(1+crop) of the side, shifted anywhere inside the image. */
  crop: number;
  /** Mirror half of the images left–right. */
  flip: boolean;
  /** Standard deviation of Gaussian noise on 0–1 pixels, added to half of the images. */
  noise: number;
  /** Share of the images that get one rectangle (2–25 % of the area) replaced by random pixels. */
  erase: number;
}

export const NO_AUGMENT: TrainAugment = { rotate: 0, crop: 0, flip: false, noise: 0, erase: 0 };
/** `--augment default`: the paper's rotation and noise, plus crops and flips. */
export const DEFAULT_AUGMENT: TrainAugment = { rotate: 15, crop: 0.15, flip: true, noise: 0.03, erase: 0 };

export function isIdentity(a: TrainAugment): boolean {
  return a.rotate === 0 && a.crop === 0 && !a.flip && a.noise === 0 && a.erase === 0;
}

/** What `--augment` takes, for its help and its errors; 'default' spelled out from DEFAULT_AUGMENT. */
export const AUGMENT_SYNTAX = `'none', 'default' (${formatTrainAugment(DEFAULT_AUGMENT)}), or a comma list of rotate=DEG, crop=SHARE, flip, noise=STD, erase=SHARE`;
const HINT = `use ${AUGMENT_SYNTAX}`;

/** Parses train's `--augment`: 'none', 'default', or a comma list such as 'rotate=15,flip,noise=0.03'. */
export function parseTrainAugment(option: string): TrainAugment {
  const text = option.trim();
  if (text === 'none' || text === '') return { ...NO_AUGMENT };
  if (text === 'default') return { ...DEFAULT_AUGMENT };
  const out = { ...NO_AUGMENT };
  for (const part of text.split(',')) {
    const [key, value] = part.split('=').map((s) => s.trim());
    const n = Number(value);
    if (key === 'flip' && value === undefined) out.flip = true;
    else if (key === 'rotate' && Number.isFinite(n) && n >= 0 && n <= 90) out.rotate = n;
    else if (key === 'crop' && Number.isFinite(n) && n >= 0 && n <= 1) out.crop = n;
    else if (key === 'noise' && Number.isFinite(n) && n >= 0 && n <= 1) out.noise = n;
    else if (key === 'erase' && Number.isFinite(n) && n >= 0 && n <= 1) out.erase = n;
    else throw new VisemoError(`--augment '${option}': cannot read '${part}'`, HINT);
  }
  return out;
}

/** The augmentation as the option text that parses back to it (recorded in metadata.json). */
export function formatTrainAugment(a: TrainAugment): string {
  if (isIdentity(a)) return 'none';
  const parts: string[] = [];
  if (a.rotate) parts.push(`rotate=${a.rotate}`);
  if (a.crop) parts.push(`crop=${a.crop}`);
  if (a.flip) parts.push('flip');
  if (a.noise) parts.push(`noise=${a.noise}`);
  if (a.erase) parts.push(`erase=${a.erase}`);
  return parts.join(',');
}

/**
 * A new set holding an augmented copy of `set`'s images at `indices` (in that order, labels
 * kept), drawn from `rng`. With the same rng state the result is the same, so a run seeded per
 * epoch augments identically when resumed.
 */
export function augmentBatch(set: DecodedSet, indices: ArrayLike<number>, aug: TrainAugment, rng: () => number): DecodedSet {
  const s = set.size;
  const px = s * s;
  const pixels = new Uint8Array(indices.length * px);
  const labels = new Int32Array(indices.length);
  const rels: string[] = [];
  const work = new Float32Array(px);
  for (let b = 0; b < indices.length; b++) {
    const i = indices[b]!;
    const src = set.pixels.subarray(i * px, (i + 1) * px);
    warp(src, s, work, randomTransform(aug, s, rng));
    const noisy = aug.noise > 0 && rng() < 0.5;
    const dst = b * px;
    for (let p = 0; p < px; p++) {
      const v = noisy ? work[p]! + 255 * aug.noise * gaussian(rng) : work[p]!;
      pixels[dst + p] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
    // Drawn only when asked for, so runs without erasing draw the numbers they always drew.
    if (aug.erase > 0 && rng() < aug.erase) eraseRect(pixels.subarray(dst, dst + px), s, rng);
    labels[b] = set.labels[i]!;
    rels.push(set.rels[i]!);
  }
  return { size: s, pixels, labels, rels };
}

/**
 * Random erasing: one rectangle of 2–25 % of the image, aspect ratio between 1:3 and 3:1
 * (log-uniform), placed anywhere inside, filled with uniform random gray values.
 */
export function eraseRect(img: Uint8Array, size: number, rng: () => number): void {
  const area = size * size * (0.02 + rng() * 0.23);
  const aspect = Math.exp((rng() * 2 - 1) * Math.log(3));
  const w = Math.max(1, Math.min(size, Math.round(Math.sqrt(area * aspect))));
  const h = Math.max(1, Math.min(size, Math.round(Math.sqrt(area / aspect))));
  const x0 = Math.floor(rng() * (size - w + 1));
  const y0 = Math.floor(rng() * (size - h + 1));
  for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) img[y * size + x] = Math.floor(rng() * 256);
}

/** Output pixel (x, y) reads source (a·x + b·y + c, d·x + e·y + f). */
interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  e: number;
  f: number;
}

/** Inverse map of: flip, rotate, zoom in by `scale` about the centre, shift by (tx, ty). */
export function randomTransform(aug: TrainAugment, size: number, rng: () => number): Affine {
  const angle = ((rng() * 2 - 1) * aug.rotate * Math.PI) / 180;
  const scale = 1 + rng() * aug.crop;
  // The zoomed crop may sit anywhere that keeps it inside the image.
  const room = (size * (1 - 1 / scale)) / 2;
  const tx = (rng() * 2 - 1) * room;
  const ty = (rng() * 2 - 1) * room;
  const flip = aug.flip && rng() < 0.5 ? -1 : 1;
  const cos = Math.cos(angle) / scale;
  const sin = Math.sin(angle) / scale;
  const c0 = (size - 1) / 2;
  // source = centre + shift + R(angle)/scale · F · (out − centre)
  const a = cos * flip;
  const b = -sin;
  const d = sin * flip;
  const e = cos;
  return { a, b, c: c0 + tx - a * c0 - b * c0, d, e, f: c0 + ty - d * c0 - e * c0 };
}

/** Bilinear resampling of a size×size image through `t`, repeating edge pixels outside it. */
export function warp(src: Uint8Array, size: number, out: Float32Array, t: Affine): void {
  const max = size - 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let sx = t.a * x + t.b * y + t.c;
      let sy = t.d * x + t.e * y + t.f;
      sx = Math.min(max, Math.max(0, sx));
      sy = Math.min(max, Math.max(0, sy));
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = x0 < max ? x0 + 1 : max;
      const y1 = y0 < max ? y0 + 1 : max;
      const fx = sx - x0;
      const fy = sy - y0;
      const top = src[y0 * size + x0]! * (1 - fx) + src[y0 * size + x1]! * fx;
      const bottom = src[y1 * size + x0]! * (1 - fx) + src[y1 * size + x1]! * fx;
      out[y * size + x] = top * (1 - fy) + bottom * fy;
    }
  }
}
