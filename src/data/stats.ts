/**
 * The paper's dataset statistics: Table 1 (images per class and split) and Fig. 4 (per-channel
 * mean and standard deviation over the training images, pixels scaled to 0–1), in one pass.
 */
import { firstLine } from '../util/errors.js';
import sharp from 'sharp';
import { encodedImageSize, MAX_INPUT_PIXELS } from '../image/decode.js';
import { SPLIT_NAMES, type SplitName } from './split.js';
import { scanImageFolder, type ImageItem } from './image-folder.js';

/**
 * Streaming per-channel mean and standard deviation of 0–1 pixels: add images one at a time
 * (any size), read the result at the end. Population std, as in the paper's Fig. 4 code.
 */
export class ChannelMeanStd {
  private sum: number[];
  private sumSq: number[];
  pixels = 0;

  constructor(readonly channels: number) {
    this.sum = new Array<number>(channels).fill(0);
    this.sumSq = new Array<number>(channels).fill(0);
  }

  /** Adds interleaved 8-bit pixels with `channels` channels. */
  add(data: Uint8Array): void {
    const c = this.channels;
    if (data.length % c !== 0) throw new Error(`pixel data of ${data.length} bytes is not a multiple of ${c} channels`);
    // Per-image integer sums stay exact; float accumulation happens once per image.
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      let sq = 0;
      for (let i = ch; i < data.length; i += c) {
        const v = data[i]!;
        s += v;
        sq += v * v;
      }
      this.sum[ch]! += s / 255;
      this.sumSq[ch]! += sq / (255 * 255);
    }
    this.pixels += data.length / c;
  }

  result(): { mean: number[]; std: number[]; pixels: number } {
    const mean = this.sum.map((s) => (this.pixels ? s / this.pixels : NaN));
    const std = this.sumSq.map((sq, ch) => (this.pixels ? Math.sqrt(Math.max(0, sq / this.pixels - mean[ch]! ** 2)) : NaN));
    return { mean, std, pixels: this.pixels };
  }
}

/** Decodes an image to 8-bit pixels with `channels` channels (gray images are replicated to RGB, as cv2.imread does). */
export async function readPixels(file: string, channels: 1 | 3): Promise<Uint8Array> {
  // The one pixel limit, read from the header before decoding (a 16000×16000 PNG took 908 MB and
  // dominated the statistics): such an image is skipped and named, as everywhere else.
  await encodedImageSize(file);
  const img = sharp(file, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS }).removeAlpha();
  const { data } = await (channels === 1 ? img.grayscale() : img.toColourspace('srgb')).raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

export const STATS_FORMAT = 'visemo-stats@1';

export interface DatasetStats {
  format: typeof STATS_FORMAT;
  root: string;
  layout: 'flat' | 'split';
  classes: string[];
  /** Table 1: images per split (or 'all' for a flat folder) and class. */
  counts: Record<string, Record<string, number>>;
  /** Fig. 4: over the training split (every image for a flat folder), RGB order. */
  channels: 1 | 3;
  imagesMeasured: number;
  pixels: number;
  mean: number[];
  std: number[];
  /** Images that could not be read, left out of the statistics. */
  skipped: { path: string; reason: string }[];
}

/** Counts and channel statistics of an image-folder dataset; `onImage` is called per measured image. */
export async function datasetStats(
  root: string,
  opts: { channels?: 1 | 3; onImage?: (done: number, total: number) => void; onSkip?: (s: { path: string; reason: string }) => void } = {},
): Promise<DatasetStats> {
  const channels = opts.channels ?? 3;
  const folder = await scanImageFolder(root);
  const counts: Record<string, Record<string, number>> = {};
  const rows = folder.layout === 'split' ? SPLIT_NAMES : ['all'];
  for (const r of rows) counts[r] = Object.fromEntries(folder.classes.map((c) => [c, 0]));
  for (const it of folder.items) counts[it.split ?? 'all']![it.label]!++;
  const measured: ImageItem[] = folder.layout === 'split' ? folder.items.filter((it) => it.split === ('train' as SplitName)) : folder.items;
  const acc = new ChannelMeanStd(channels);
  const skipped: DatasetStats['skipped'] = [];
  for (const u of folder.unreadable) {
    skipped.push(u);
    opts.onSkip?.(u);
  }
  let failed = 0;
  for (const [i, it] of measured.entries()) {
    try {
      acc.add(await readPixels(it.path, channels));
    } catch (err) {
      const s = { path: it.path, reason: firstLine(err) };
      failed++;
      skipped.push(s);
      opts.onSkip?.(s);
    }
    opts.onImage?.(i + 1, measured.length);
  }
  const { mean, std, pixels } = acc.result();
  return {
    format: STATS_FORMAT,
    root: folder.root,
    layout: folder.layout,
    classes: folder.classes,
    counts,
    channels,
    imagesMeasured: measured.length - failed,
    pixels,
    mean,
    std,
    skipped,
  };
}

const ROW_NAMES: Record<string, string> = { train: 'Train', val: 'Validation', test: 'Test', all: 'All' };

/** Table 1 and the Fig. 4 numbers as text. */
export function formatStats(s: DatasetStats): string {
  const header = ['Set type', ...s.classes, 'Total'];
  const rows = Object.entries(s.counts).map(([split, byClass]) => {
    const values = s.classes.map((c) => byClass[c] ?? 0);
    return [ROW_NAMES[split] ?? split, ...values.map(String), String(values.reduce((a, b) => a + b, 0))];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const measuredOver = s.layout === 'split' ? 'training images' : 'all images';
  return [
    'Table 1. Dataset',
    line(header),
    ...rows.map(line),
    '',
    `Fig. 4. Per-channel mean and standard deviation over ${s.imagesMeasured} ${measuredOver} (0–1 pixels, ${s.channels === 3 ? 'RGB' : 'gray'})`,
    `mean: [${s.mean.map((v) => v.toFixed(6)).join(', ')}]`,
    `std:  [${s.std.map((v) => v.toFixed(6)).join(', ')}]`,
  ].join('\n');
}
