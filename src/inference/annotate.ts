/**
 * `predict --annotate`: copies of images with a box and a label drawn on every face, and for a
 * video, its sampled frames annotated and encoded back into an MP4 with ffmpeg.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import sharp, { type FormatEnum, type Sharp } from 'sharp';
import { tempPathFor } from '../util/atomic.js';
import type { RawImage } from './face-detector.js';
import type { RecognizedFace } from './recognizer.js';
import { colourFor } from './colours.js';

export { EMOTION_COLOURS, colourFor } from './colours.js';

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
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } }).composite([
    { input: Buffer.from(overlaySvg(image.width, image.height, faces)), left: 0, top: 0 },
  ]);
}

/** Output formats sharp writes; other inputs (bmp, ...) are annotated as PNG. */
const KEEP_FORMAT: Record<string, keyof FormatEnum> = { '.jpg': 'jpeg', '.jpeg': 'jpeg', '.png': 'png', '.webp': 'webp', '.tif': 'tiff', '.tiff': 'tiff' };

/** The annotated copy's file name: the input's extension when sharp can write it, else .png. */
export function annotatedName(rel: string): string {
  const ext = path.extname(rel).toLowerCase();
  return KEEP_FORMAT[ext] ? rel : rel.slice(0, rel.length - path.extname(rel).length) + '.png';
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

/**
 * An MP4 written by ffmpeg from annotated frames fed one by one, at `fps` frames a second.
 * The file appears under its name only when `finish` succeeds.
 */
export class AnnotatedVideoWriter {
  private readonly tmp: string;
  private readonly child: ChildProcessByStdio<Writable, null, Readable>;
  private readonly done: Promise<{ code: number | null; stderr: string }>;

  /** Starts ffmpeg writing next to `file` (its folder is created). */
  static async open(file: string, width: number, height: number, fps: number): Promise<AnnotatedVideoWriter> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    return new AnnotatedVideoWriter(file, width, height, fps);
  }

  private constructor(
    readonly file: string,
    readonly width: number,
    readonly height: number,
    fps: number,
  ) {
    this.tmp = tempPathFor(file).replace(/\.tmp$/, '.tmp.mp4');
    const args = [
      '-v', 'error', '-y',
      '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps), '-i', 'pipe:0',
      // yuv420p (what players expect) needs even sizes.
      '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2',
      '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', this.tmp,
    ];
    this.child = spawn('ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.done = new Promise((resolve, reject) => {
      let stderr = '';
      this.child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      this.child.on('error', reject);
      this.child.on('close', (code) => resolve({ code, stderr }));
    });
    // A write after ffmpeg died raises EPIPE on stdin; `finish` reports ffmpeg's own message instead.
    this.child.stdin.on('error', () => {});
  }

  async addFrame(image: RawImage, faces: RecognizedFace[]): Promise<void> {
    const rgb = await annotated(image, faces).removeAlpha().raw().toBuffer();
    if (!this.child.stdin.write(rgb)) await new Promise<void>((resolve) => this.child.stdin.once('drain', resolve));
  }

  async finish(): Promise<void> {
    this.child.stdin.end();
    const { code, stderr } = await this.done;
    if (code !== 0) {
      await fs.rm(this.tmp, { force: true });
      throw new Error(`ffmpeg could not write ${this.file}: ${stderr.trim().split('\n').pop() ?? `exit ${code}`}`);
    }
    await fs.rename(this.tmp, this.file);
  }

  /** Stops ffmpeg and removes the partial file. */
  async abort(): Promise<void> {
    this.child.kill();
    await this.done.catch(() => {});
    await fs.rm(this.tmp, { force: true });
  }
}
