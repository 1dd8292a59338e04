/**
 * `predict --annotate`: copies of images with a box and a label drawn on every face, and for a
 * video, its sampled frames annotated (predict encodes them back into an MP4 with image/video.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { FormatEnum, Sharp } from 'sharp';
import type { RawImage } from '../image/geometry.js';
import { rawPixels, sharpRaw } from '../image/raw.js';
import { tempPathFor } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { isInside, realResolve } from '../util/paths.js';
import type { InputFile } from './inputs.js';
import type { RecognizedFace } from './result.js';
import type { TrackedFace } from './video-result.js';
import { colourFor } from './colours.js';

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** An SVG the size of the image with a box and "emotion 87%" over every face. */
export function overlaySvg(width: number, height: number, faces: RecognizedFace[]): string {
  const parts = faces.map((f) => {
    const { x, y, width: w, height: h } = f.box;
    const colour = colourFor(f.emotion);
    const stroke = Math.max(2, Math.round(Math.min(width, height) / 200));
    const font = Math.max(11, Math.round(Math.max(w, 60) / 7));
    const label = `${f.emotion} ${Math.round(f.confidence * 100)}%`;
    const labelW = Math.round(label.length * font * 0.62 + font * 0.6);
    const labelH = Math.round(font * 1.4);
    // Above the box when there is room, else inside its top edge.
    const ly = y - labelH >= 0 ? y - labelH : y;
    return (
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>` +
      `<rect x="${x}" y="${ly}" width="${labelW}" height="${labelH}" fill="${colour}"/>` +
      `<text x="${x + font * 0.3}" y="${ly + font * 1.05}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${font}" fill="#000">${escapeXml(label)}</text>`
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** The RGB image with the faces drawn on it, as a sharp pipeline ready to encode. */
export function annotated(image: RawImage, faces: RecognizedFace[]): Sharp {
  return sharpRaw(image).composite([{ input: Buffer.from(overlaySvg(image.width, image.height, faces)), left: 0, top: 0 }]);
}

/** Output formats sharp writes; other inputs (bmp, ...) are annotated as PNG. */
const KEEP_FORMAT: Record<string, keyof FormatEnum> = { '.jpg': 'jpeg', '.jpeg': 'jpeg', '.png': 'png', '.webp': 'webp', '.tif': 'tiff', '.tiff': 'tiff' };

/** The annotated copy's file name: the input's extension when sharp can write it, else .png. */
/**
 * Where each input's annotated copy goes, checked before any work: inside `dir`, under its path
 * relative to the input given, made unique where two inputs share it (`face.png`, `face-2.png`).
 * `dir` must not be an input, lie inside an input folder or hold an input file (copies would
 * replace or join the inputs), and must be empty unless `force`. Keys are the inputs' paths.
 */
export async function planAnnotatedCopies(inputs: string[], files: InputFile[], dir: string, force: boolean): Promise<Map<string, string>> {
  const out = await realResolve(dir);
  for (const input of inputs) {
    const stat = await fs.stat(input).catch(() => null);
    const abs = await realResolve(input);
    if (stat?.isDirectory() ? isInside(out, abs) : out === abs) {
      throw new VisemoError(
        `--annotate ${dir} is ${out === abs ? '' : 'inside '}the input ${input}: its copies would ${stat?.isDirectory() ? 'join or replace the inputs' : 'replace it'}`,
        'give --annotate a folder outside the inputs',
      );
    }
    // An input inside the folder: its copy (same name) would replace it. Refused even with --force.
    if (stat && !stat.isDirectory() && isInside(abs, out)) {
      throw new VisemoError(
        `the input ${input} lies inside --annotate ${dir}: its annotated copy would replace it`,
        'give --annotate a folder outside the inputs (--force replaces earlier copies, never inputs)',
      );
    }
  }
  const stat = await fs.stat(dir).catch(() => null);
  if (stat && !stat.isDirectory()) throw new VisemoError(`--annotate ${dir} is a file, not a folder`, 'give a folder for the annotated copies');
  const entries = await fs.readdir(dir).catch(() => [] as string[]);
  if (entries.length > 0 && !force)
    throw new VisemoError(`--annotate ${dir} is not empty`, 'choose an empty or new folder, or pass --force to replace copies there');
  const plan = new Map<string, string>();
  const taken = new Set<string>();
  for (const f of files) {
    const base = f.kind === 'video' ? `${f.rel.replace(/\.[^./\\]+$/, '')}.annotated.mp4` : annotatedName(f.rel);
    const { dir: sub, name, ext } = path.parse(base);
    let candidate = base;
    for (let k = 2; taken.has(candidate.toLowerCase()); k++) candidate = path.join(sub, `${name}-${k}${ext}`);
    taken.add(candidate.toLowerCase());
    plan.set(f.path, path.join(dir, candidate));
  }
  return plan;
}

export function annotatedName(rel: string): string {
  const ext = path.extname(rel).toLowerCase();
  return KEEP_FORMAT[ext] ? rel : `${rel.slice(0, rel.length - path.extname(rel).length)}.png`;
}

/** Writes the annotated copy of an image atomically. */
export async function writeAnnotatedImage(file: string, image: RawImage, faces: RecognizedFace[]): Promise<void> {
  const format = KEEP_FORMAT[path.extname(file).toLowerCase()] ?? 'png';
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  try {
    await annotated(image, faces).removeAlpha().toFormat(format).toFile(tmp);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}

/** The RGB frame with the faces drawn on it, for a video (image/video.ts's VideoWriter). */
export function annotatedFrame(image: RawImage, faces: RecognizedFace[]): Promise<RawImage> {
  return rawPixels(annotated(image, faces).removeAlpha());
}

/**
 * An SVG overlay for a video frame: every tracked face boxed in its label's colour, tagged with
 * its track id, label and smoothed probability, and a bar per emotion (smoothed scores) beside it.
 */
export function trackOverlaySvg(width: number, height: number, faces: TrackedFace[], classes: string[]): string {
  const font = Math.max(10, Math.round(Math.min(width, height) / 40));
  const stroke = Math.max(2, Math.round(Math.min(width, height) / 200));
  const barW = font * 5;
  const rowH = Math.round(font * 1.15);
  const nameW = Math.round(font * 3.2);
  const parts = faces.map((f) => {
    const { x, y, width: w, height: h } = f.box;
    const colour = colourFor(f.label);
    const tag = `#${f.track} ${f.label} ${Math.round(f.labelConfidence * 100)}%`;
    const tagW = Math.round(tag.length * font * 0.62 + font * 0.6);
    const tagH = Math.round(font * 1.4);
    const ty = y - tagH >= 0 ? y - tagH : y;
    // Bars to the right of the box when they fit, else to its left.
    const panelW = nameW + barW + font;
    const bx = x + w + 4 + panelW <= width ? x + w + 4 : Math.max(0, x - 4 - panelW);
    const by = Math.max(0, Math.min(y, height - rowH * classes.length));
    const bars = classes.map((c, i) => {
      const p = f.smoothed[c] ?? 0;
      const ry = by + i * rowH;
      return (
        `<text x="${bx + 2}" y="${ry + font * 0.9}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${Math.round(font * 0.8)}" fill="#fff" stroke="#000" stroke-width="0.6" paint-order="stroke">${escapeXml(c.slice(0, 5))}</text>` +
        `<rect x="${bx + nameW}" y="${ry + 2}" width="${barW}" height="${rowH - 4}" fill="#000" fill-opacity="0.35"/>` +
        `<rect x="${bx + nameW}" y="${ry + 2}" width="${Math.round(barW * p)}" height="${rowH - 4}" fill="${colourFor(c)}"/>`
      );
    });
    return (
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="none" stroke="${colour}" stroke-width="${stroke}"/>` +
      `<rect x="${x}" y="${ty}" width="${tagW}" height="${tagH}" fill="${colour}"/>` +
      `<text x="${x + font * 0.3}" y="${ty + font * 1.05}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${font}" fill="#000">${escapeXml(tag)}</text>` +
      bars.join('')
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** The RGB frame with its tracked faces drawn on it (predict --annotate for videos). */
export function annotatedTrackFrame(image: RawImage, faces: TrackedFace[], classes: string[]): Promise<RawImage> {
  if (faces.length === 0) return Promise.resolve(image);
  return rawPixels(
    sharpRaw(image)
      .composite([{ input: Buffer.from(trackOverlaySvg(image.width, image.height, faces, classes)), left: 0, top: 0 }])
      .removeAlpha(),
  );
}
