/**
 * What video analysis gives (the video counterpart of result.ts): every frame's faces with
 * their track ids and raw and smoothed scores, a summary per track and over the video, and
 * where the time went. Types only.
 */
import type { DetectorModel } from '../image/face-detector.js';
import type { TrackingConfig } from '../config/tracking.js';
import type { TrackSummary } from '../tracking/track-summary.js';
import type { TrackedFace } from './result.js';

// TrackedFace lives beside RecognizedFace (result.ts), where buildResult makes both.
export type { TrackedFace };

export interface VideoOutputFiles {
  timelineJson: string;
  timelineCsv: string;
  summary: string;
  chartSvg: string;
  chartPng: string;
}

export interface TrackedFrame {
  /** Seconds from the start of the video. */
  time: number;
  /** Frame number in the video. */
  index: number;
  faces: TrackedFace[];
}

export interface VideoSummary {
  frames: number;
  framesWithFaces: number;
  /** Share of the frames with a face in which each emotion is the label of the largest face. */
  shares: Record<string, number>;
  /** The emotion with the largest share; null when no frame had a face. */
  dominant: string | null;
}

/** Where the time of an analysis went, in milliseconds of wall time (they overlap nowhere). */
export interface VideoTiming {
  /** Waiting for ffmpeg's next frame (it decodes in parallel, so this is what decoding cost beyond that). */
  decodeMs: number;
  /** The full-frame detector. */
  detectMs: number;
  /** Following faces: the window detector and the tracker. */
  trackMs: number;
  /** Cutting faces and the emotion model. */
  classifyMs: number;
  /** Drawing and encoding the annotated MP4. */
  annotateMs: number;
  totalMs: number;
  /** Frames analysed per second of wall time. */
  fps: number;
  /** Frames on which the full-frame detector ran. */
  detectedFrames: number;
}

export interface VideoAnalysis {
  kind: 'video';
  file: string;
  width: number;
  height: number;
  /** The video's own frame rate, and the rate frames were analysed at. */
  videoFps: number;
  sampledFps: number;
  classes: string[];
  /** The full-frame face detector that ran on the video's frames. */
  detector: DetectorModel;
  tracking: TrackingConfig;
  timeline: TrackedFrame[];
  /** One summary per track, by id. */
  tracks: TrackSummary[];
  summary: VideoSummary;
  timing: VideoTiming;
  /** The annotated MP4, when one was written. */
  annotated?: string;
  /** The timeline, summary and chart files, when written. */
  outputs?: VideoOutputFiles;
}
