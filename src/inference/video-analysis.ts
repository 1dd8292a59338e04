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
import { argmax } from '../util/argmax.js';
import { annotatedTrackFrame } from './annotate.js';
import { EmotionRecognizer, type RecognizerOptions } from './recognizer.js';
import type { RecognizedFace } from './result.js';
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

/** Analyses one video with a loaded recogniser; throws (an Error naming the problem) for an unreadable one. */
export async function analyseVideo(recognizer: EmotionRecognizer, file: string, opts: VideoAnalysisOptions = {}): Promise<VideoAnalysis> {
  const start = performance.now();
  const config: TrackingConfig = { ...TRACKING_DEFAULTS, ...opts.tracking };
  const info = await probeVideo(file);
  const everyFrame = !(opts.fps && opts.fps < info.fps);
  const picks = everyFrame ? allFrames(info) : chooseFrames(info, { fps: opts.fps! });
  const sampledFps = everyFrame ? info.fps : opts.fps!;
  const batch = Math.max(1, opts.batch ?? 16);
  const classes = recognizer.classes;
  const follower = new FaceFollower(info.width, info.height, config);
  const smoothers = new TrackSmoothers(config.smoothSeconds);
  const timing = { decodeMs: 0, detectMs: 0, trackMs: 0, classifyMs: 0, annotateMs: 0 };
  const timeline: TrackedFrame[] = [];
  let writer: VideoWriter | null = opts.annotate ? await VideoWriter.open(opts.annotate, info.width, info.height, sampledFps) : null;
  // Frames tracked but not yet classified: their faces go through the model together.
  let pending: { time: number; index: number; image: RawImage; faces: FollowedFace[]; crops: Uint8Array[] }[] = [];

  const flush = async () => {
    if (pending.length === 0) return;
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
        const smooth = smoothers.update(f.track, p.time, raw);
        const best = argmax(smooth);
        return {
          ...recognizer.toFace(roundBox(f.box), f.score, raw),
          track: f.track,
          source: f.source,
          smoothed: Object.fromEntries(classes.map((c, i) => [c, smooth[i]!])),
          label: classes[best]!,
          labelConfidence: smooth[best]!,
        };
      });
      timeline.push({ time: p.time, index: p.index, faces });
      if (writer) {
        t0 = performance.now();
        await writer.addFrame(await annotatedTrackFrame(p.image, faces, classes));
        timing.annotateMs += performance.now() - t0;
      }
      opts.onFrame?.(timeline.length, picks.length);
    }
    pending = [];
  };

  try {
    const frames = streamFrames(file, info, picks, { ahead: batch + 4 });
    for (;;) {
      let t0 = performance.now();
      const next = await frames.next();
      timing.decodeMs += performance.now() - t0;
      if (next.done) break;
      const { pick, image } = next.value;
      // Full-frame detection counts as detect; windows and matching as track.
      let detectMs = 0;
      t0 = performance.now();
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
      const crops = await recognizer.cutFaces(image, faces.map((f) => f.box));
      timing.classifyMs += performance.now() - t0;
      pending.push({ time: pick.time, index: pick.index, image, faces, crops });
      smoothers.keepOnly(follower.tracker.kept.map((t) => t.id));
      if (pending.length >= batch) await flush();
    }
    await flush();
    if (timeline.length === 0) throw new Error('no frame could be decoded');
    if (writer) {
      const t0 = performance.now();
      await writer.finish();
      timing.annotateMs += performance.now() - t0;
      writer = null;
    }
  } catch (err) {
    await writer?.abort();
    throw err;
  }
  const totalMs = performance.now() - start;
  return {
    kind: 'video',
    file,
    width: info.width,
    height: info.height,
    videoFps: info.fps,
    sampledFps,
    classes,
    detector: recognizer.detectorFor('video'),
    tracking: config,
    timeline,
    tracks: summariseTracks(timeline, classes, 1 / sampledFps),
    summary: summariseVideo(timeline, classes),
    timing: { ...timing, totalMs, fps: timeline.length / (totalMs / 1000), detectedFrames: follower.detections },
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
    if (withFaces > 0 && (dominant === null || shares[c]! > shares[dominant]!)) dominant = c;
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
