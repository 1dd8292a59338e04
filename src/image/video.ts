/**
 * Videos through Debian's ffmpeg/ffprobe: which files are videos, probing a clip, choosing which
 * frames to keep, decoding exactly those frames to raw RGB in one ffmpeg run per video, and
 * encoding RGB frames into an MP4. `prepare` reads videos and `predict` reads and writes them.
 */
import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { tempPathFor } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { frameCutter } from './frame-cutter.js';
import type { RawImage } from './geometry.js';

const execFileAsync = promisify(execFile);

/** The file extensions read as videos, by `prepare` and `predict` alike. */
export const VIDEO_EXTENSIONS: ReadonlySet<string> = new Set([
  '.mp4',
  '.m4v',
  '.mov',
  '.avi',
  '.mkv',
  '.webm',
  '.mpg',
  '.mpeg',
  '.wmv',
  '.flv',
  '.ogv',
  '.3gp',
]);

export function isVideoFile(name: string): boolean {
  return VIDEO_EXTENSIONS.has(path.extname(name).toLowerCase());
}

/** The last line ffmpeg wrote to stderr (its reason), or the exit code when it wrote nothing. */
function ffmpegReason(stderr: string, code: number | string | null | undefined): string {
  return stderr.trim().split('\n').pop() || `exit ${code}`;
}

export const INSTALL_FFMPEG_HINT =
  'install it with `sudo apt-get install ffmpeg` (Debian/Ubuntu), `brew install ffmpeg` (macOS), or put ffmpeg and ffprobe on the PATH';

/** Throws a VisemoError saying how to install ffmpeg when ffmpeg or ffprobe cannot be run. */
export async function requireFfmpeg(): Promise<void> {
  for (const tool of ['ffmpeg', 'ffprobe']) {
    try {
      await execFileAsync(tool, ['-version']);
    } catch {
      throw new VisemoError(`${tool} was not found: it is needed to read videos`, INSTALL_FFMPEG_HINT);
    }
  }
}

export interface VideoInfo {
  width: number;
  height: number;
  fps: number;
  /** Seconds. */
  duration: number;
  /** Frames in the stream (from the header, or duration × fps). */
  frameCount: number;
}

function parseRate(rate: string | undefined): number {
  if (!rate) return NaN;
  const [num, den] = rate.split('/').map(Number);
  return den ? num! / den : Number(num);
}

/** Reads a video's size, frame rate and length; throws an Error with ffprobe's message for an unreadable file. */
export async function probeVideo(file: string): Promise<VideoInfo> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('ffprobe', [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=width,height,r_frame_rate,avg_frame_rate,nb_frames,duration:format=duration',
      '-of',
      'json',
      file,
    ]));
  } catch (err) {
    const e = err as Error & { stderr?: string; code?: number | string };
    throw new Error(`ffprobe cannot read it (${ffmpegReason(e.stderr ?? e.message, e.code)})`);
  }
  const json = JSON.parse(stdout) as { streams?: Record<string, string | number>[]; format?: { duration?: string } };
  const s = json.streams?.[0];
  if (!s) throw new Error('no video stream');
  const fps = [parseRate(s.avg_frame_rate as string), parseRate(s.r_frame_rate as string)].find((r) => r > 0 && r < 1000) ?? NaN;
  const duration = [Number(s.duration), Number(json.format?.duration)].find((d) => d > 0) ?? NaN;
  const width = Number(s.width);
  const height = Number(s.height);
  if (!(fps > 0) || !(width > 0) || !(height > 0)) throw new Error('video stream has no usable size or frame rate');
  const headerFrames = Number(s.nb_frames);
  const frameCount = headerFrames > 0 ? headerFrames : Math.floor(duration * fps);
  if (!(frameCount > 0)) throw new Error('video has no frames');
  return { width, height, fps, duration: duration > 0 ? duration : frameCount / fps, frameCount };
}

export interface FrameChoice {
  /** N frames evenly spaced over the usable part (default 10); ignored when `fps` is set. */
  framesPerVideo?: number;
  /** Frames per second of video instead of a fixed count. */
  fps?: number;
  /** Seconds dropped at the start (the neutral onset) and at the end. */
  skipStart?: number;
  skipEnd?: number;
}

export interface FramePick {
  index: number;
  /** Seconds from the start of the video. */
  time: number;
}

/**
 * The frames to keep: evenly spaced over [skipStart, duration − skipEnd] (each at the middle of
 * its share), or every 1/fps seconds. When the skips leave nothing, the whole clip is used.
 */
export function chooseFrames(info: VideoInfo, choice: FrameChoice): FramePick[] {
  const length = info.frameCount / info.fps;
  let start = choice.skipStart ?? 0;
  let end = length - (choice.skipEnd ?? 0);
  if (end - start < 1 / info.fps) [start, end] = [0, length];
  const times: number[] = [];
  if (choice.fps) {
    // start + i/fps, not repeated addition: summed steps drift (a frame at 1.6 s came out at 1.5 s).
    for (let i = 0; start + i / choice.fps < end - 1e-9; i++) times.push(start + i / choice.fps);
  } else {
    const n = choice.framesPerVideo ?? 10;
    for (let i = 0; i < n; i++) times.push(start + ((i + 0.5) * (end - start)) / n);
  }
  const picks = new Map<number, FramePick>();
  for (const t of times) {
    const index = Math.min(info.frameCount - 1, Math.floor(t * info.fps));
    if (!picks.has(index)) picks.set(index, { index, time: Math.round((index / info.fps) * 1000) / 1000 });
  }
  return [...picks.values()].sort((a, b) => a.index - b.index);
}

/**
 * Decodes the chosen frames (by frame number) as RGB. Returns the frames that came out, in
 * order; a file that breaks off yields fewer. Throws when ffmpeg fails before any frame.
 */
export async function extractFrames(file: string, info: VideoInfo, picks: FramePick[]): Promise<{ pick: FramePick; image: RawImage }[]> {
  if (picks.length === 0) return [];
  const select = picks.map((p) => `eq(n\\,${p.index})`).join('+');
  const args = [
    '-v',
    'error',
    '-nostdin',
    '-i',
    file,
    '-an',
    '-vf',
    `select='${select}'`,
    '-vsync',
    'passthrough',
    '-frames:v',
    String(picks.length),
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
  const frameBytes = info.width * info.height * 3;
  const { chunks, stderr, code } = await new Promise<{ chunks: Buffer[]; stderr: string; code: number | null }>((resolve, reject) => {
    const child = spawn('ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ chunks, stderr, code }));
  });
  const all = Buffer.concat(chunks);
  const count = Math.min(picks.length, Math.floor(all.length / frameBytes));
  if (count === 0 && code !== 0) throw new Error(`ffmpeg cannot decode it (${ffmpegReason(stderr, code)})`);
  const out: { pick: FramePick; image: RawImage }[] = [];
  for (let i = 0; i < count; i++) {
    const data = new Uint8Array(all.buffer, all.byteOffset + i * frameBytes, frameBytes);
    out.push({ pick: picks[i]!, image: { data, width: info.width, height: info.height, channels: 3 } });
  }
  return out;
}

/** ffmpeg's arguments for streaming the first `frames` frames of `file` to stdout as raw RGB. */
function streamArgs(file: string, frames: number): string[] {
  return ['-v', 'error', '-nostdin', '-i', file, '-an', '-vsync', 'passthrough', '-frames:v', String(frames), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
}

/**
 * Decodes the chosen frames (by frame number) as RGB while the caller works on earlier ones:
 * ffmpeg decodes in its own process into a pipe and up to `ahead` frames wait in memory (then
 * the pipe is paused, so a long video never sits in memory whole). Every frame up to the last
 * chosen one is decoded and the unchosen ones are dropped here, which keeps frame numbers
 * exact for any choice. A file that breaks off yields fewer frames; ffmpeg failing before any
 * frame throws. Stopping the iteration early stops ffmpeg.
 */
export async function* streamFrames(
  file: string,
  info: VideoInfo,
  picks: FramePick[],
  opts: { ahead?: number } = {},
): AsyncGenerator<{ pick: FramePick; image: RawImage }> {
  if (picks.length === 0) return;
  const wanted = new Map(picks.map((p) => [p.index, p]));
  const last = picks[picks.length - 1]!.index;
  const ahead = Math.max(1, opts.ahead ?? 8);
  const child = spawn('ffmpeg', streamArgs(file, last + 1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const queue: { pick: FramePick; image: RawImage }[] = [];
  let stderr = '';
  let ended: { code: number | null } | null = null;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const signal = () => {
    wake?.();
    wake = null;
  };
  const cut = frameCutter(info, wanted, (frame) => queue.push(frame));
  child.stdout.on('data', (chunk: Buffer) => {
    cut(chunk);
    if (queue.length >= ahead) child.stdout.pause();
    signal();
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.on('error', (err) => {
    failure = err;
    signal();
  });
  child.on('close', (code) => {
    ended = { code };
    signal();
  });
  let yielded = 0;
  try {
    for (;;) {
      const next = queue.shift();
      if (next) {
        if (queue.length < ahead && child.stdout.isPaused()) child.stdout.resume();
        yielded++;
        yield next;
        continue;
      }
      if (failure) throw failure;
      if (ended) {
        const code = (ended as { code: number | null }).code;
        if (yielded === 0 && code !== 0) throw new Error(`ffmpeg cannot decode it (${ffmpegReason(stderr, code)})`);
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    if (!ended) child.kill();
  }
}

/**
 * An MP4 written by ffmpeg from RGB frames fed one by one, at `fps` frames a second.
 * The file appears under its name only when `finish` succeeds.
 */
export class VideoWriter {
  private readonly tmp: string;
  private readonly child: ChildProcessByStdio<Writable, null, Readable>;
  private readonly done: Promise<{ code: number | null; stderr: string }>;

  /** Starts ffmpeg writing next to `file` (its folder is created). */
  static async open(file: string, width: number, height: number, fps: number): Promise<VideoWriter> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    return new VideoWriter(file, width, height, fps);
  }

  private constructor(
    readonly file: string,
    readonly width: number,
    readonly height: number,
    fps: number,
  ) {
    this.tmp = tempPathFor(file).replace(/\.tmp$/, '.tmp.mp4');
    const args = [
      '-v',
      'error',
      '-y',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'rgb24',
      '-s',
      `${width}x${height}`,
      '-r',
      String(fps),
      '-i',
      'pipe:0',
      // yuv420p (what players expect) needs even sizes.
      '-vf',
      'pad=ceil(iw/2)*2:ceil(ih/2)*2',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      '-movflags',
      '+faststart',
      this.tmp,
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

  /** Appends one frame: RGB pixels of the writer's size. */
  async addFrame(frame: RawImage): Promise<void> {
    if (frame.channels !== 3 || frame.width !== this.width || frame.height !== this.height) {
      throw new Error(`a frame of ${this.file} must be ${this.width}x${this.height}x3, got ${frame.width}x${frame.height}x${frame.channels}`);
    }
    if (!this.child.stdin.write(frame.data)) await new Promise<void>((resolve) => this.child.stdin.once('drain', resolve));
  }

  async finish(): Promise<void> {
    this.child.stdin.end();
    const { code, stderr } = await this.done;
    if (code !== 0) {
      await fs.rm(this.tmp, { force: true });
      throw new Error(`ffmpeg could not write ${this.file}: ${ffmpegReason(stderr, code)}`);
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
