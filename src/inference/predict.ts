/**
 * `visemo predict`: every face in images, folders and videos, classified in batches. Videos are
 * sampled at a fixed rate and summarised; bad inputs are reported by name and skipped.
 */
import path from 'node:path';
import type { InferenceBackendChoice, ModelRuntime } from '../engine/backend.js';
import { toRgb } from '../image/decode.js';
import type { DetectorModel } from '../image/face-detector.js';
import { largestFace, type RawImage } from '../image/geometry.js';
import { chooseFrames, extractFrames, probeVideo, requireFfmpeg, VideoWriter, type FramePick } from '../image/video.js';
import { annotatedFrame, planAnnotatedCopies, writeAnnotatedImage } from './annotate.js';
import { collectInputs, type InputFile, type InputProblem } from './inputs.js';
import { EmotionRecognizer } from './recognizer.js';
import type { RecognizedFace } from './result.js';
import { firstLine } from '../util/errors.js';
import type { FaceCut } from '../data/face-cut.js';

export interface PredictOptions {
  model?: string;
  /** A tfjs backend, or 'onnx' (the emotion model on onnxruntime-node). */
  backend?: InferenceBackendChoice;
  detector?: DetectorModel;
  minFaceScore?: number;
  margin?: number;
  /** Video frames sampled per second (default 5). */
  fps?: number;
  /** Folder for annotated copies (outside the inputs; empty unless `force`). */
  annotate?: string;
  /** Replace annotated copies already in `annotate`. */
  force?: boolean;
  /** Images (or video frames) whose faces are classified in one batch (default 16). */
  batch?: number;
  /** Average each face's scores with its mirror image's (test-time flip). */
  tta?: boolean;
  /** Called once the inputs are expanded, with the number of results to come. */
  onPlan?: (total: number) => void;
  /** Called as each input is done, for streaming output and progress. */
  onResult?: (r: InputResult) => void;
  /** Reused instead of loading a model (the library and tests). */
  recognizer?: EmotionRecognizer;
}

export interface ImageResult {
  kind: 'image';
  file: string;
  width: number;
  height: number;
  faces: RecognizedFace[];
  /** Where the annotated copy went, with --annotate. */
  annotated?: string;
}

export interface FrameResult {
  /** Seconds from the start of the video. */
  time: number;
  faces: RecognizedFace[];
}

export interface VideoSummary {
  frames: number;
  framesWithFaces: number;
  /** Share of the frames with a face in which each emotion is the top one (the largest face's). */
  shares: Record<string, number>;
  /** The emotion with the largest share; null when no frame had a face. */
  dominant: string | null;
}

export interface VideoResult {
  kind: 'video';
  file: string;
  width: number;
  height: number;
  /** The video's own frame rate, and the rate frames were sampled at. */
  videoFps: number;
  sampledFps: number;
  timeline: FrameResult[];
  summary: VideoSummary;
  annotated?: string;
}

export interface FailedInput {
  kind: 'error';
  file: string;
  reason: string;
}

export type InputResult = ImageResult | VideoResult | FailedInput;

export interface PredictStats {
  images: number;
  videos: number;
  frames: number;
  faces: number;
  failed: number;
  seconds: number;
  /** Faces per second over everything: decoding, detection, cropping and classification. */
  facesPerSecond: number;
  /** Faces per second through the emotion model alone (batched). */
  modelFacesPerSecond: number;
}

export interface PredictReport {
  model: { name: string; dir: string; classes: string[]; inputSize: number; faceCut: FaceCut; runtime: ModelRuntime };
  results: InputResult[];
  stats: PredictStats;
}

export const DEFAULT_VIDEO_FPS = 5;

/** Runs predict over `inputs` (files and folders). Never throws for a bad input: it becomes a FailedInput. */
export async function runPredict(inputs: string[], opts: PredictOptions = {}): Promise<PredictReport> {
  const start = performance.now();
  const recognizer = opts.recognizer ?? (await EmotionRecognizer.load(opts));
  const before = { ...recognizer.stats };
  const { files, problems } = await collectInputs(inputs);
  const copies = opts.annotate ? await planAnnotatedCopies(inputs, files, opts.annotate, opts.force === true) : null;
  opts.onPlan?.(files.length + problems.length);
  const results: InputResult[] = [];
  const emit = (r: InputResult) => {
    results.push(r);
    opts.onResult?.(r);
  };
  problems.forEach((p: InputProblem) => emit({ kind: 'error', file: p.path, reason: p.reason }));

  const batch = Math.max(1, opts.batch ?? 16);
  const images = files.filter((f) => f.kind === 'image');
  for (let i = 0; i < images.length; i += batch) {
    for (const r of await predictImages(recognizer, images.slice(i, i + batch), copies)) emit(r);
  }
  const videos = files.filter((f) => f.kind === 'video');
  if (videos.length > 0) {
    try {
      await requireFfmpeg();
      for (const v of videos) emit(await predictVideo(recognizer, v, opts, batch, copies));
    } catch (err) {
      for (const v of videos) emit({ kind: 'error', file: v.path, reason: (err as Error).message });
    }
  }

  const seconds = (performance.now() - start) / 1000;
  const faces = recognizer.stats.faces - before.faces;
  const classifySeconds = (recognizer.stats.classifyMs - before.classifyMs) / 1000;
  const stats: PredictStats = {
    images: results.filter((r) => r.kind === 'image').length,
    videos: results.filter((r) => r.kind === 'video').length,
    frames: results.reduce((n, r) => n + (r.kind === 'video' ? r.timeline.length : 0), 0),
    faces,
    failed: results.filter((r) => r.kind === 'error').length,
    seconds,
    facesPerSecond: seconds > 0 ? faces / seconds : 0,
    modelFacesPerSecond: classifySeconds > 0 ? faces / classifySeconds : 0,
  };
  const model = { name: recognizer.modelName, dir: recognizer.modelDir, classes: recognizer.classes, inputSize: recognizer.inputSize, faceCut: recognizer.faceCut, runtime: recognizer.runtime };
  if (!opts.recognizer) recognizer.dispose();
  return { model, results: results.sort(byInputOrder(inputs)), stats };
}

/** Results in the order of the command line, then by path: stable output however work was scheduled. */
function byInputOrder(inputs: string[]): (a: InputResult, b: InputResult) => number {
  const rank = (file: string) => {
    const i = inputs.findIndex((arg) => file === arg || file.startsWith(arg.endsWith(path.sep) ? arg : arg + path.sep));
    return i < 0 ? inputs.length : i;
  };
  return (a, b) => rank(a.file) - rank(b.file) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
}

async function predictImages(recognizer: EmotionRecognizer, files: InputFile[], copies: Map<string, string> | null): Promise<InputResult[]> {
  const decoded: { file: InputFile; image: RawImage }[] = [];
  const out: InputResult[] = [];
  for (const file of files) {
    try {
      decoded.push({ file, image: await toRgb(file.path) });
    } catch (err) {
      out.push({ kind: 'error', file: file.path, reason: `not a readable image (${firstLine(err)})` });
    }
  }
  const faces = await recognizer.recognizeMany(decoded.map((d) => d.image));
  for (let k = 0; k < decoded.length; k++) {
    const { file, image } = decoded[k]!;
    const result: ImageResult = { kind: 'image', file: file.path, width: image.width, height: image.height, faces: faces[k]! };
    const copy = copies?.get(file.path);
    if (copy) {
      result.annotated = copy;
      await writeAnnotatedImage(copy, image, result.faces);
    }
    out.push(result);
  }
  return out;
}

async function predictVideo(recognizer: EmotionRecognizer, file: InputFile, opts: PredictOptions, batch: number, copies: Map<string, string> | null): Promise<InputResult> {
  const fps = opts.fps ?? DEFAULT_VIDEO_FPS;
  let writer: VideoWriter | null = null;
  try {
    const info = await probeVideo(file.path);
    const picks = chooseFrames(info, { fps });
    const annotatedFile = copies?.get(file.path);
    if (annotatedFile) writer = await VideoWriter.open(annotatedFile, info.width, info.height, Math.min(fps, info.fps));
    const timeline: FrameResult[] = [];
    // Frames are decoded a batch at a time so a long video never sits in memory whole.
    for (let i = 0; i < picks.length; i += batch) {
      const frames = await extractFrames(file.path, info, picks.slice(i, i + batch));
      const faces = await recognizer.recognizeMany(frames.map((f) => f.image));
      for (let k = 0; k < frames.length; k++) {
        timeline.push({ time: (frames[k]!.pick as FramePick).time, faces: faces[k]! });
        if (writer) await writer.addFrame(await annotatedFrame(frames[k]!.image, faces[k]!));
      }
      if (frames.length < Math.min(batch, picks.length - i)) break; // the file broke off
    }
    if (timeline.length === 0) throw new Error('no frame could be decoded');
    await writer?.finish();
    return {
      kind: 'video',
      file: file.path,
      width: info.width,
      height: info.height,
      videoFps: info.fps,
      sampledFps: fps,
      timeline,
      summary: summariseVideo(timeline, recognizer.classes),
      ...(annotatedFile ? { annotated: annotatedFile } : {}),
    };
  } catch (err) {
    await writer?.abort();
    return { kind: 'error', file: file.path, reason: `not a readable video (${firstLine(err)})` };
  }
}

/** Share of frames per emotion (of each frame's largest face) and the dominant one. */
export function summariseVideo(timeline: FrameResult[], classes: string[]): VideoSummary {
  const counts: Record<string, number> = Object.fromEntries(classes.map((c) => [c, 0]));
  let withFaces = 0;
  for (const frame of timeline) {
    const main = largestFace(frame.faces);
    if (!main) continue;
    withFaces++;
    counts[main.emotion] = (counts[main.emotion] ?? 0) + 1;
  }
  const shares: Record<string, number> = {};
  let dominant: string | null = null;
  for (const c of classes) {
    shares[c] = withFaces > 0 ? counts[c]! / withFaces : 0;
    if (withFaces > 0 && (dominant === null || shares[c]! > shares[dominant]!)) dominant = c;
  }
  return { frames: timeline.length, framesWithFaces: withFaces, shares, dominant };
}
