/**
 * `visemo predict`: every face in images, folders and videos, classified in batches. Videos are
 * sampled at a fixed rate and summarised; bad inputs are reported by name and skipped.
 */
import path from 'node:path';
import type { InferenceBackendChoice, InferenceBackendName, ModelRuntime } from '../engine/backend.js';
import { toRgb } from '../image/decode.js';
import type { DetectorChoice } from '../image/face-detector.js';
import type { RawImage } from '../image/geometry.js';
import { chooseFrames, probeVideo, requireFfmpeg } from '../image/video.js';
import type { TrackingConfig } from '../config/tracking.js';
import { planAnnotatedCopies, writeAnnotatedImage } from './annotate.js';
import { analyseVideo, summariseVideo } from './video-analysis.js';
import type { VideoAnalysis, VideoOutputFiles } from './video-result.js';
import { checkVideoOutputs, videoOutputPaths, writeVideoOutputs } from './video-outputs.js';
import { collectInputs, type InputFile, type InputProblem } from './inputs.js';
import { EmotionRecognizer } from './recognizer.js';
import type { RecognizedFace } from './result.js';
import { firstLine } from '../util/errors.js';
import type { FaceCut } from '../data/face-cut.js';

export interface PredictOptions {
  model?: string;
  /** A tfjs backend, or 'onnx' (the emotion model on onnxruntime-node). */
  backend?: InferenceBackendChoice;
  detector?: DetectorChoice;
  minFaceScore?: number;
  margin?: number;
  /** Video frames analysed per second (default 5; 0: every frame). */
  fps?: number;
  /** Tracking and smoothing of videos (detectEvery, smoothSeconds, …; defaults in src/config/tracking.ts). */
  tracking?: Partial<TrackingConfig>;
  /** Folder for each video's timeline (JSON, CSV), summary and chart; none are written without it. */
  out?: string;
  /** Folder for annotated copies (outside the inputs; empty unless `force`). */
  annotate?: string;
  /** Replace annotated copies already in `annotate`, and video outputs already in `out`. */
  force?: boolean;
  /** Images (or video frames) whose faces are classified in one batch (default 16). */
  batch?: number;
  /** Average each face's scores with its mirror image's (test-time flip). */
  tta?: boolean;
  /** Each image is one face crop, used whole (no detection; videos are unaffected). */
  crops?: boolean;
  /** Called once the inputs are expanded, with the work to come: images and skipped inputs count one, videos their frames. */
  onPlan?: (total: number) => void;
  /** Called as each input is done, for streaming output. */
  onResult?: (r: InputResult) => void;
  /** Progress in work units: one per image (or skipped input), one per analysed video frame; the total is onPlan's. */
  onProgress?: (done: number, file: string) => void;
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

/** A video's result: its tracked timeline, summaries and timing (src/inference/video-result.ts). */
export type VideoResult = VideoAnalysis;
export type { TrackedFace, TrackedFrame, VideoSummary } from './video-result.js';
export { summariseVideo };

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
  /** The model that ran, and what ran it: `backend` 'native', 'wasm', 'cpu' or 'onnx'; `runtimeLabel` in words ('tfjs native'). */
  model: {
    name: string;
    dir: string;
    classes: string[];
    inputSize: number;
    faceCut: FaceCut;
    runtime: ModelRuntime;
    backend: InferenceBackendName;
    runtimeLabel: string;
  };
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
  const outputs = opts.out ? planVideoOutputs(files, opts.out) : null;
  for (const paths of outputs?.values() ?? []) await checkVideoOutputs(paths, opts.force === true);
  const frameCounts = await plannedFrames(files, opts.fps ?? DEFAULT_VIDEO_FPS);
  opts.onPlan?.(files.length - frameCounts.size + problems.length + [...frameCounts.values()].reduce((a, b) => a + b, 0));
  const results: InputResult[] = [];
  let done = 0;
  const emit = (r: InputResult) => {
    results.push(r);
    if (r.kind !== 'video') opts.onProgress?.(++done, r.file);
    opts.onResult?.(r);
  };
  problems.forEach((p: InputProblem) => emit({ kind: 'error', file: p.path, reason: p.reason }));

  const batch = Math.max(1, opts.batch ?? 16);
  const images = files.filter((f) => f.kind === 'image');
  for (let i = 0; i < images.length; i += batch) {
    for (const r of await predictImages(recognizer, images.slice(i, i + batch), copies, opts.crops === true)) emit(r);
  }
  const videos = files.filter((f) => f.kind === 'video');
  if (videos.length > 0) {
    try {
      await requireFfmpeg();
      for (const v of videos) {
        const base = done;
        const r = await predictVideo(recognizer, v, opts, batch, copies?.get(v.path), outputs?.get(v.path), (n) => opts.onProgress?.(base + n, v.path));
        // A video counts its planned frames, however many could be read.
        done = base + (frameCounts.get(v.path) ?? 1);
        emit(r);
      }
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
  const model = {
    name: recognizer.modelName,
    dir: recognizer.modelDir,
    classes: recognizer.classes,
    inputSize: recognizer.inputSize,
    faceCut: recognizer.faceCut,
    runtime: recognizer.runtime,
    backend: recognizer.modelBackend,
    runtimeLabel: recognizer.runtimeLabel,
  };
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

async function predictImages(recognizer: EmotionRecognizer, files: InputFile[], copies: Map<string, string> | null, crops: boolean): Promise<InputResult[]> {
  const decoded: { file: InputFile; image: RawImage }[] = [];
  const out: InputResult[] = [];
  for (const file of files) {
    try {
      decoded.push({ file, image: await toRgb(file.path) });
    } catch (err) {
      out.push({ kind: 'error', file: file.path, reason: `not a readable image (${firstLine(err)})` });
    }
  }
  const faces = await recognizer.recognizeMany(
    decoded.map((d) => d.image),
    { detect: !crops },
  );
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

async function predictVideo(
  recognizer: EmotionRecognizer,
  file: InputFile,
  opts: PredictOptions,
  batch: number,
  annotate: string | undefined,
  outputs: VideoOutputFiles | undefined,
  onFrame: (done: number) => void,
): Promise<InputResult> {
  let analysis: VideoAnalysis;
  try {
    analysis = await analyseVideo(recognizer, file.path, { fps: opts.fps ?? DEFAULT_VIDEO_FPS, tracking: opts.tracking, batch, annotate, onFrame });
  } catch (err) {
    return { kind: 'error', file: file.path, reason: `not a readable video (${firstLine(err)})` };
  }
  if (outputs) {
    await writeVideoOutputs(analysis, outputs, recognizer.modelName);
    analysis.outputs = outputs;
  }
  return analysis;
}

/** Each video's output files: under `dir`, at its path relative to the input given, without its extension; made unique. */
function planVideoOutputs(files: InputFile[], dir: string): Map<string, VideoOutputFiles> {
  const plan = new Map<string, VideoOutputFiles>();
  const taken = new Set<string>();
  for (const f of files.filter((x) => x.kind === 'video')) {
    const stem = f.rel.slice(0, f.rel.length - path.extname(f.rel).length);
    let name = stem;
    for (let k = 2; taken.has(name.toLowerCase()); k++) name = `${stem}-${k}`;
    taken.add(name.toLowerCase());
    plan.set(f.path, videoOutputPaths(dir, name));
  }
  return plan;
}

/** Frames to analyse per video (for the progress bar); a video that cannot be probed counts one. */
async function plannedFrames(files: InputFile[], fps: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const f of files.filter((x) => x.kind === 'video')) {
    const info = await probeVideo(f.path).catch(() => null);
    out.set(f.path, info ? (fps > 0 && fps < info.fps ? chooseFrames(info, { fps }).length : info.frameCount) : 1);
  }
  return out;
}
