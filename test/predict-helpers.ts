/**
 * Shared by the predict, server and web tests: a model to test with, and images with a known
 * number of faces built by compositing the shared CK+ face crops onto a plain background.
 */
import { execFileSync } from 'node:child_process';
import { promises as fs, existsSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { PAPER_CLASSES } from '../src/data/classes.js';
import { trainRun } from '../src/training/train.js';
import { BUNDLED_MODELS, DEFAULT_MODEL } from '../src/model/run-folder.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DATASETS = path.resolve(REPO, '../shared/datasets');
export const CKPLUS = path.join(DATASETS, 'ckplus48');
export const BUNDLED_DIR = path.join(REPO, 'models', BUNDLED_MODELS[DEFAULT_MODEL]!);
export const hasBundled = existsSync(path.join(BUNDLED_DIR, 'model.json'));
export const hasDatasets = existsSync(CKPLUS);

/** The n-th CK+ face of a class (sorted by name). */
export function ckFace(cls: string, n = 0): string {
  return path.join(CKPLUS, cls, readdirSync(path.join(CKPLUS, cls)).sort()[n]!);
}

export interface PlacedFace {
  file: string;
  left: number;
  top: number;
  side: number;
}

/** A w×h colour image with the given faces scaled and pasted in, encoded as PNG (or JPEG). */
export async function composite(width: number, height: number, faces: PlacedFace[], format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  const layers = await Promise.all(
    faces.map(async (f) => ({ input: await sharp(f.file).resize(f.side, f.side).toColourspace('srgb').png().toBuffer(), left: f.left, top: f.top })),
  );
  const img = sharp({ create: { width, height, channels: 3, background: { r: 90, g: 110, b: 130 } } }).composite(layers);
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 92 }).toBuffer();
}

/** Intersection over union of two boxes. */
export function iou(a: { x: number; y: number; width: number; height: number }, b: typeof a): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
}

let tinyRun: Promise<string> | null = null;

/**
 * A run folder to test with: the bundled model when it is in the checkout, else a tiny model
 * trained once per test process (50×50 as the bundled one, 12 CK+ images per class, one epoch) under
 * os.tmpdir()/visemo-test-runs-*, the folder the server tests use as their runs folder.
 */
export async function testModel(): Promise<{ dir: string; bundled: boolean; runsDir: string | null }> {
  if (hasBundled) return { dir: BUNDLED_DIR, bundled: true, runsDir: null };
  tinyRun ??= (async () => {
    const runs = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-test-runs-'));
    process.once('exit', () => rmSync(runs, { recursive: true, force: true }));
    const out = path.join(runs, 'tiny');
    await trainRun({
      data: CKPLUS,
      out,
      backend: 'wasm',
      force: true,
      recipe: { size: 50, seed: 7, epochs: 1, batchSize: 16, learningRate: 1e-3, channels: 3 },
      dataset: { classes: [...PAPER_CLASSES], split: 'random', limitPerClass: 12 },
    });
    return out;
  })();
  const dir = await tinyRun;
  return { dir, bundled: false, runsDir: path.dirname(dir) };
}

/** Whether ffmpeg is on the PATH (video tests skip without it). */
export const hasFfmpeg = (() => {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
