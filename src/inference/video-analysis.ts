/**
 * One video, analysed: frames decoded by ffmpeg in a pipe while earlier ones are analysed, faces
 * found by the full detector every few frames and followed in between (src/tracking), each
 * track's faces classified in batches across frames, scores smoothed per track over time, and
 * a summary per track. `analyseVideoFile` is the one entry point behind `predict` for a video:
 * it analyses and, when asked, writes the timeline, summary, chart and annotated MP4.
 */
import path from 'node:path';
import { TRACKING_DEFAULTS, type TrackingConfig } from '../config/tracking.js';
export type { TrackedFace, TrackedFrame, VideoAnalysis, VideoSummary, VideoTiming } from './video-result.js';
import { largestFace, roundBox, type FaceBox, type RawImage } from '../image/geometry.js';
import { chooseFrames, probeVideo, requireFfmpeg, streamFrames, VideoWriter, type FramePick, type VideoInfo } from '../image/video.js';
import { FaceFollower, type FollowedFace } from '../tracking/follower.js';
import { TrackSmoothers } from '../tracking/smoother.js';
import { summariseTrack, type LabelAt, type TrackSummary } from '../tracking/track-summary.js';
import { annotatedTrackFrame } from './annotate.js';
import { EmotionRecognizer, type RecognizerOptions } from './recognizer.js';
import { buildResult, type RecognizedFace } from './result.js';
import type { TrackedFace, TrackedFrame, VideoAnalysis, VideoSummary } from './video-result.js';
import { checkVideoOutputs, videoOutputPaths, writeVideoOutputs } from './video-outputs.js';

export interface VideoAnalysisOptions {
  /** Frames analysed per second of video; 0 or absent: every frame. */
  fps?: number;
  /** Tracking and smoothing settings (defaults: src/config/tracking.ts). */
  tracking?: Partial<TrackingConfig>;
  /** Frames whose faces go through the emotion model together (default 16). */
  batch?: number;
  /** Write an annotated MP4 here (track id, label and bars on every face). */
  annotate?: string;
  /** Called after each analysed frame with the frames done and the frames to do. */
  onFrame?: (done: number, total: number) => void;
}

/** Where analysis time goes (VideoTiming less its totals). */
type PhaseTiming = { decodeMs: number; detectMs: number; trackMs: number; classifyMs: number; annotateMs: number };

/** A frame tracked but not yet classified: its faces go through the model with other frames'. */
interface PendingFrame {
  time: number;
  index: number;
  image: RawImage;
  faces: FollowedFace[];
  crops: Uint8Array[];
}

/** What one analysis holds while it runs: the video, its settings, the tracker and smoothers, and what it has found. */
interface AnalysisRun {
  recognizer: EmotionRecognizer;
  file: string;
  opts: VideoAnalysisOptions;
  info: VideoInfo;
  picks: FramePick[];
  sampledFps: number;
  batch: number;
  config: TrackingConfig;
  follower: FaceFollower;
  smoothers: TrackSmoothers;
  timing: PhaseTiming;
  timeline: TrackedFrame[];
}

/** Analyses one video with a loaded recogniser; throws (an Error naming the problem) for an unreadable one. */
export async function analyseVideo(recognizer: EmotionRecognizer, file: string, opts: VideoAnalysisOptions = {}): Promise<VideoAnalysis> {
  const start = performance.now();
  const run = await openAnalysis(recognizer, file, opts);
  const writer = opts.annotate ? await VideoWriter.open(opts.annotate, run.info.width, run.info.height, run.sampledFps) : null;
  let written = false;
  try {
    await analyseFrames(run, writer);
    if (run.timeline.length === 0) throw new Error('no frame could be decoded');
    if (writer) {
      const t0 = performance.now();
      await writer.finish();
      run.timing.annotateMs += performance.now() - t0;
    }
    written = true;
  } finally {
    // A failed analysis leaves no partial MP4 behind.
    if (writer && !written) await writer.abort();
  }
  return analysisResult(run, performance.now() - start);
}

/** Probes the video and sets up the analysis: the frames to analyse, the tracker, the smoothers. */
async function openAnalysis(recognizer: EmotionRecognizer, file: string, opts: VideoAnalysisOptions): Promise<AnalysisRun> {
  const config: TrackingConfig = { ...TRACKING_DEFAULTS, ...opts.tracking };
  const info = await probeVideo(file);
  const sampled = opts.fps && opts.fps < info.fps ? opts.fps : null;
  return {
    recognizer,
    file,
    opts,
    info,
    picks: sampled ? chooseFrames(info, { fps: sampled }) : allFrames(info),
    sampledFps: sampled ?? info.fps,
    batch: Math.max(1, opts.batch ?? 16),
    config,
    follower: new FaceFollower(info.width, info.height, config),
    smoothers: new TrackSmoothers(config.smoothSeconds),
    timing: { decodeMs: 0, detectMs: 0, trackMs: 0, classifyMs: 0, annotateMs: 0 },
    timeline: [],
  };
}

/** Decodes the frames (ffmpeg in a pipe, stopped in `finally` if analysis fails), tracks their faces and classifies them in batches. */
async function analyseFrames(run: AnalysisRun, writer: VideoWriter | null): Promise<void> {
  const frames = streamFrames(run.file, run.info, run.picks, { ahead: run.batch + 4 });
  let pending: PendingFrame[] = [];
  try {
    for (;;) {
      const t0 = performance.now();
      const next = await frames.next();
      run.timing.decodeMs += performance.now() - t0;
      if (next.done) break;
      pending.push(await trackFrame(run, next.value.pick, next.value.image));
      if (pending.length >= run.batch) {
        await classifyFrames(run, pending, writer);
        pending = [];
      }
    }
    await classifyFrames(run, pending, writer);
  } finally {
    await frames.return(undefined);
  }
}

/** One frame's faces, found or followed by the tracker, and cut for the model. */
async function trackFrame(run: AnalysisRun, pick: FramePick, image: RawImage): Promise<PendingFrame> {
  const { recognizer, config, follower, timing } = run;
  // Full-frame detection counts as detect; windows and matching as track.
  let detectMs = 0;
  let t0 = performance.now();
  const faces = await follower.step(pick.time, {
    detectAll: async () => {
      const d0 = performance.now();
      try {
        return await recognizer.findFaces(image, 'video');
      } finally {
        detectMs += performance.now() - d0;
      }
    },
    detectIn: (window: FaceBox) => recognizer.findFacesIn(image, window, { inputSize: config.windowInputSize, minScore: config.windowMinScore }),
  });
  const stepMs = performance.now() - t0;
  timing.detectMs += detectMs;
  timing.trackMs += stepMs - detectMs;
  t0 = performance.now();
  const crops = await recognizer.cutFaces(
    image,
    faces.map((f) => f.box),
  );
  timing.classifyMs += performance.now() - t0;
  run.smoothers.keepOnly(follower.tracker.kept.map((t) => t.id));
  return { time: pick.time, index: pick.index, image, faces, crops };
}

/** Classifies the faces of these frames in one batch, smooths them per track, and adds the frames to the timeline (and the annotated video). */
async function classifyFrames(run: AnalysisRun, pending: PendingFrame[], writer: VideoWriter | null): Promise<void> {
  if (pending.length === 0) return;
  const { recognizer, timing, timeline } = run;
  let t0 = performance.now();
  const crops = pending.flatMap((p) => p.crops);
  const probs = await recognizer.classifyCrops(crops);
  const ms = performance.now() - t0;
  timing.classifyMs += ms;
  recognizer.stats.classifyMs += ms;
  recognizer.stats.faces += crops.length;
  let k = 0;
  for (const p of pending) {
    const faces: TrackedFace[] = p.faces.map((f) => {
      const raw = probs[k++]!;
      const smoothed = run.smoothers.update(f.track, p.time, raw);
      return buildResult(recognizer.classes, roundBox(f.box), f.score, raw, { track: f.track, source: f.source, smoothed });
    });
    timeline.push({ time: p.time, index: p.index, faces });
    if (writer) {
      t0 = performance.now();
      await writer.addFrame(await annotatedTrackFrame(p.image, faces, recognizer.classes));
      timing.annotateMs += performance.now() - t0;
    }
    run.opts.onFrame?.(timeline.length, run.picks.length);
  }
}

/** The analysis as returned: the timeline, per-track and whole-video summaries, and the timing. */
function analysisResult(run: AnalysisRun, totalMs: number): VideoAnalysis {
  const { info, timeline, sampledFps, opts } = run;
  const classes = run.recognizer.classes;
  return {
    kind: 'video',
    file: run.file,
    width: info.width,
    height: info.height,
    videoFps: info.fps,
    sampledFps,
    classes,
    detector: run.recognizer.detectorFor('video'),
    tracking: run.config,
    timeline,
    tracks: summariseTracks(timeline, classes, 1 / sampledFps),
    summary: summariseVideo(timeline, classes),
    timing: { ...run.timing, totalMs, fps: timeline.length / (totalMs / 1000), detectedFrames: run.follower.detections },
    ...(opts.annotate ? { annotated: opts.annotate } : {}),
  };
}

/** Every frame of the video, by number. */
export function allFrames(info: VideoInfo): FramePick[] {
  return Array.from({ length: info.frameCount }, (_, index) => ({ index, time: Math.round((index / info.fps) * 1000) / 1000 }));
}

/** One summary per track (by id) from the frames' smoothed labels. */
export function summariseTracks(timeline: TrackedFrame[], classes: string[], interval: number): TrackSummary[] {
  const byTrack = new Map<number, LabelAt[]>();
  for (const frame of timeline) {
    for (const f of frame.faces) {
      let list = byTrack.get(f.track);
      if (!list) byTrack.set(f.track, (list = []));
      list.push({ time: frame.time, label: f.label });
    }
  }
  return [...byTrack].sort((a, b) => a[0] - b[0]).map(([track, labels]) => summariseTrack(track, labels, classes, interval));
}

/** Share of frames per emotion (the label of each frame's largest face) and the dominant one. */
export function summariseVideo(timeline: { faces: (RecognizedFace & { label?: string })[] }[], classes: string[]): VideoSummary {
  const counts: Record<string, number> = Object.fromEntries(classes.map((c) => [c, 0]));
  let withFaces = 0;
  for (const frame of timeline) {
    const main = largestFace(frame.faces);
    if (!main) continue;
    withFaces++;
    const label = main.label ?? main.emotion;
    counts[label] = (counts[label] ?? 0) + 1;
  }
  const shares: Record<string, number> = {};
  let dominant: string | null = null;
  for (const c of classes) {
    shares[c] = withFaces > 0 ? counts[c]! / withFaces : 0;
    if (withFaces > 0 && (dominant === null || shares[c] > shares[dominant]!)) dominant = c;
  }
  return { frames: timeline.length, framesWithFaces: withFaces, shares, dominant };
}

export interface VideoFileOptions extends VideoAnalysisOptions, RecognizerOptions {
  /** A loaded recogniser to use (else one is loaded for this call and freed after). */
  recognizer?: EmotionRecognizer;
  /** Folder for the timeline (JSON, CSV), summary (JSON) and chart (SVG, PNG); nothing is written without it. */
  out?: string;
  /** The files' base name inside `out` (default: the video's name without its extension). */
  name?: string;
  /** Replace output files already there (otherwise they are refused before any work). */
  force?: boolean;
}

/**
 * The one entry point for a video (predict, the library, job queues): analyses `file` and, with
 * `out`, writes `<name>.timeline.json|csv`, `<name>.summary.json` and `<name>.timeline.svg|png`
 * there atomically (and the MP4 with `annotate`). Throws for an unreadable video or when an
 * output exists and `force` is not set (checked before any work).
 */
export async function analyseVideoFile(file: string, opts: VideoFileOptions = {}): Promise<VideoAnalysis> {
  await requireFfmpeg();
  const paths = opts.out ? videoOutputPaths(opts.out, opts.name ?? path.parse(file).name) : null;
  if (paths) await checkVideoOutputs(paths, opts.force === true);
  const recognizer = opts.recognizer ?? (await EmotionRecognizer.load(opts));
  try {
    const analysis = await analyseVideo(recognizer, file, opts);
    if (paths) {
      await writeVideoOutputs(analysis, paths, recognizer.modelName);
      analysis.outputs = paths;
    }
    return analysis;
  } finally {
    if (!opts.recognizer) recognizer.dispose();
  }
}
