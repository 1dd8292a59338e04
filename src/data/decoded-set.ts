/**
 * The compact in-memory cache training reads from: every image decoded once to size×size
 * uint8, so no epoch decodes again. 11,475 images at 100×100 take 115 MB.
 */
import { tf } from '../engine/tf.js';
import { decodeGray } from '../image/decode.js';
import type { ImageItem } from './image-folder.js';
import { startProgress } from '../util/progress.js';
import { firstLine } from '../util/errors.js';
import { ChannelMeanStd } from './stats.js';

/** Per input channel, on 0–1 pixels (the paper's Fig. 4): how a model's inputs are normalised. */
export interface Normalisation {
  mean: number[];
  std: number[];
}

export interface DecodedSet {
  size: number;
  /** n × size × size bytes. */
  pixels: Uint8Array;
  /** Class index per image. */
  labels: Int32Array;
  /** Dataset-relative path per image. */
  rels: string[];
}

export interface SkippedImage {
  path: string;
  reason: string;
}

/** Decodes `items` (in order) with a few decodes in flight; unreadable files are skipped and reported. */
export async function decodeItems(
  items: ImageItem[],
  classes: string[],
  size: number,
  opts: { label?: string; concurrency?: number; onSkip?: (s: SkippedImage) => void } = {},
): Promise<{ set: DecodedSet; skipped: SkippedImage[] }> {
  const results: (Uint8Array | null)[] = new Array(items.length).fill(null);
  const skipped: SkippedImage[] = [];
  const progress = startProgress(items.length, opts.label ?? 'decoding');
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await decodeGray(items[i]!.path, size);
      } catch (err) {
        const s = { path: items[i]!.path, reason: firstLine(err) };
        skipped.push(s);
        opts.onSkip?.(s);
      }
      progress.update(++done);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
  progress.stop();

  const kept = items.map((_, i) => i).filter((i) => results[i] !== null);
  const pixels = new Uint8Array(kept.length * size * size);
  const labels = new Int32Array(kept.length);
  const rels: string[] = [];
  kept.forEach((i, k) => {
    pixels.set(results[i]!, k * size * size);
    labels[k] = classes.indexOf(items[i]!.label);
    rels.push(items[i]!.rel);
  });
  return { set: { size, pixels, labels, rels }, skipped };
}

/**
 * The same images decoded at each of `sizes` (several models, several input sizes): an image
 * unreadable at the first size is left out at every size, so every set holds the same images in
 * the same order. `kept` indexes the readable items.
 */
export async function decodeAtSizes(
  items: ImageItem[],
  classes: string[],
  sizes: number[],
  opts: { onSkip?: (s: SkippedImage) => void } = {},
): Promise<{ sets: Map<number, DecodedSet>; kept: number[]; skipped: SkippedImage[] }> {
  const [firstSize, ...rest] = sizes;
  if (firstSize === undefined) throw new Error('decodeAtSizes: no size');
  const first = await decodeItems(items, classes, firstSize, { label: `decoding ${firstSize}x${firstSize}`, onSkip: opts.onSkip });
  const bad = new Set(first.skipped.map((s) => s.path));
  const kept = items.map((_, i) => i).filter((i) => !bad.has(items[i]!.path));
  const sets = new Map<number, DecodedSet>([[firstSize, first.set]]);
  for (const size of rest) {
    const { set } = await decodeItems(
      kept.map((i) => items[i]!),
      classes,
      size,
      { label: `decoding ${size}x${size}` },
    );
    if (set.labels.length !== kept.length)
      throw new Error(`images changed while decoding: ${kept.length} decoded at ${firstSize}, ${set.labels.length} at ${size}`);
    sets.set(size, set);
  }
  return { sets, kept, skipped: first.skipped };
}

/** Two sets of one size as one, rows of `a` first. */
export function concatSets(a: DecodedSet, b: DecodedSet): DecodedSet {
  if (a.size !== b.size) throw new Error(`cannot join sets of ${a.size} and ${b.size} pixels`);
  const pixels = new Uint8Array(a.pixels.length + b.pixels.length);
  pixels.set(a.pixels);
  pixels.set(b.pixels, a.pixels.length);
  const labels = new Int32Array(a.labels.length + b.labels.length);
  labels.set(a.labels);
  labels.set(b.labels, a.labels.length);
  return { size: a.size, pixels, labels, rels: [...a.rels, ...b.rels] };
}

/** Mean and standard deviation of the pixels on 0–1, one value per input channel (the paper's Fig. 4). */
export function pixelStats(set: DecodedSet, channels: 1 | 3): Normalisation {
  const acc = new ChannelMeanStd(1);
  acc.add(set.pixels);
  const { mean, std } = acc.result();
  // Monochrome replicated to three channels has the same statistics in each.
  return { mean: new Array(channels).fill(mean[0] || 0), std: new Array(channels).fill(std[0] || 1) };
}

/**
 * Builds the model input for `indices`: normalised float32 [n, size, size, channels]
 * (monochrome replicated to three channels when asked, as the paper did).
 */
export function batchInput(set: DecodedSet, indices: ArrayLike<number>, norm: Normalisation, channels: 1 | 3): tf.Tensor4D {
  return tf.tensor4d(batchArray(set, indices, norm, channels), [indices.length, set.size, set.size, channels]);
}

/**
 * batchInput's values as a plain array: [n, size, size, channels] ('nhwc', tfjs) or
 * [n, channels, size, size] ('nchw', the exported ONNX graph's input).
 */
export function batchArray(set: DecodedSet, indices: ArrayLike<number>, norm: Normalisation, channels: 1 | 3, layout: 'nhwc' | 'nchw' = 'nhwc'): Float32Array {
  const px = set.size * set.size;
  const out = new Float32Array(indices.length * px * channels);
  const mean = norm.mean[0]!;
  const scale = 1 / (255 * norm.std[0]!);
  const shift = mean / norm.std[0]!;
  // Where channel c of pixel p goes, relative to the image's start.
  const [pixelStride, channelStride] = layout === 'nhwc' ? [channels, 1] : [1, px];
  for (let b = 0; b < indices.length; b++) {
    const src = indices[b]! * px;
    const dst = b * px * channels;
    for (let p = 0; p < px; p++) {
      const v = set.pixels[src + p]! * scale - shift;
      for (let c = 0; c < channels; c++) out[dst + p * pixelStride + c * channelStride] = v;
    }
  }
  return out;
}
