/**
 * What a queued job carries and returns. A job is one video plus the analysis settings that decide
 * its result (the model and predict's options), so every worker, on any machine, computes the same
 * thing for it; how a worker computes (backend, batch size) is the worker's own.
 */
import type { DetectorChoice } from '../image/face-detector.js';
import { hashHex } from '../util/hash.js';

/** The BullMQ queue visemo uses unless --queue names another. */
export const DEFAULT_QUEUE = 'visemo-videos';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** BullMQ's job name for a video analysis. */
export const VIDEO_JOB = 'predict-video';

/** predict's options that change a video's result; part of the result's key. */
export interface AnalysisSettings {
  /** A bundled model name, or the absolute path of a run folder (the same path on every machine). */
  model: string;
  fps: number;
  detector: DetectorChoice;
  minFaceScore: number;
  /** The box margin, or null for the model's own face cut. */
  margin: number | null;
  tta: boolean;
}

export interface VideoJobData {
  /** Absolute path of the video, as every worker sees it (shared storage). */
  file: string;
  settings: AnalysisSettings;
}

export interface VideoJobResult {
  file: string;
  /** sha256 of the video's bytes: the first level of the result's folder. */
  sha256: string;
  /** ROOT/<sha256>/<model key>: result.json (predict's JSON) and job.json. */
  resultDir: string;
  /** True when the result was there already (a retried, duplicated or re-added job): nothing was computed. */
  stored: boolean;
  frames: number;
  faces: number;
  /** Seconds this job took in the worker. */
  seconds: number;
  /** hostname:pid of the worker that ran it. */
  worker: string;
  /** The model that computed the result (a stored one: its settings' model). */
  model: string;
  /** The backend that ran the model ('native', 'wasm', ...), as the result's job.json records it. */
  backend: string;
}

/** One key for the settings, stable whatever order their fields were written in. */
export function settingsKey(s: AnalysisSettings): string {
  return JSON.stringify([s.model, s.fps, s.detector, s.minFaceScore, s.margin, s.tta]);
}

/**
 * The BullMQ job id of a video: its path, size and modification time with the settings, so adding
 * the same unchanged files again adds nothing, while an edited file or other settings make a new job.
 */
export function videoJobId(file: string, size: number, mtimeMs: number, settings: AnalysisSettings): string {
  return `video-${hashHex([file, '\0', String(size), '\0', String(Math.round(mtimeMs)), '\0', settingsKey(settings)], 32)}`;
}
