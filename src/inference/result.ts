/**
 * The one result type: what the recogniser, predict, the HTTP API and the web page give for each
 * face (as @vladmandic/human keeps one result.ts), and the one function that builds it from the
 * model's probabilities. No Node imports, so the page builds its results here too.
 */
import type { FaceBox } from '../image/geometry.js';
import { argmax } from '../util/argmax.js';

export interface RecognizedFace {
  /** Where the face is, in pixels of the image as given (after EXIF rotation). */
  box: FaceBox;
  /** The detector's confidence that this is a face, 0–1 (1 when detection was skipped: --crops; 0 for a whole-image fallback). */
  faceScore: number;
  /** The most probable emotion. */
  emotion: string;
  /** Its probability. */
  confidence: number;
  /** Probability per emotion, in the model's class order. */
  scores: Record<string, number>;
  /**
   * How the face was cut: 'detected' (a detector's box), 'crop' (the image is one face, used whole:
   * --crops), or 'whole-image' (no face was found in an image shaped like a face crop, so the whole
   * image was taken as the face; see looksLikeFaceCrop). Absent in results made before this field.
   */
  cut?: 'detected' | 'crop' | 'whole-image';
}

/** A face in a video frame: the recogniser's result for it plus its track and smoothed scores. */
export interface TrackedFace extends RecognizedFace {
  /** The track id: the same number for the same person throughout the video. */
  track: number;
  /** 'detect': found by the full-frame detector in this frame; 'follow': found in its track's window; 'coast': carried by its track's speed (not looked for in this frame). */
  source: 'detect' | 'follow' | 'coast';
  /** The scores smoothed over the track's recent frames (equal to `scores` with smoothing off). */
  smoothed: Record<string, number>;
  /** The emotion with the highest smoothed score: the label the timeline and summary use. */
  label: string;
  /** Its smoothed probability. */
  labelConfidence: number;
}

/** What a face of a video adds to its result: its track, how it was found, and its smoothed probabilities (class order). */
export interface FaceTrack {
  track: number;
  source: TrackedFace['source'];
  smoothed: ArrayLike<number>;
}

/**
 * The result for one face: its box and detector score as given, the model's probabilities
 * (`probs`, in the order of `classes`) named by class, and the most probable emotion; with
 * `track`, also its track and smoothed label (a TrackedFace). Node and the page both build here.
 */
export function buildResult(classes: readonly string[], box: FaceBox, faceScore: number, probs: ArrayLike<number>): RecognizedFace;
export function buildResult(classes: readonly string[], box: FaceBox, faceScore: number, probs: ArrayLike<number>, track: FaceTrack): TrackedFace;
export function buildResult(
  classes: readonly string[],
  box: FaceBox,
  faceScore: number,
  probs: ArrayLike<number>,
  track?: FaceTrack,
): RecognizedFace | TrackedFace {
  if (probs.length !== classes.length) throw new RangeError(`${probs.length} probabilities for ${classes.length} classes`);
  const best = argmax(probs);
  const face: RecognizedFace = { box, faceScore, emotion: classAt(classes, best), confidence: valueAt(probs, best), scores: byClass(classes, probs) };
  if (!track) return face;
  if (track.smoothed.length !== classes.length) throw new RangeError(`${track.smoothed.length} smoothed probabilities for ${classes.length} classes`);
  const top = argmax(track.smoothed);
  return {
    ...face,
    track: track.track,
    source: track.source,
    smoothed: byClass(classes, track.smoothed),
    label: classAt(classes, top),
    labelConfidence: valueAt(track.smoothed, top),
  };
}

function byClass(classes: readonly string[], p: ArrayLike<number>): Record<string, number> {
  return Object.fromEntries(classes.map((c, i) => [c, valueAt(p, i)]));
}

// Lengths are checked in buildResult, so these indices are in range.
const classAt = (classes: readonly string[], i: number): string => classes[i] as string;
const valueAt = (p: ArrayLike<number>, i: number): number => p[i] as number;
