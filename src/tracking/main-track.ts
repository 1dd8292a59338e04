/**
 * The one person of a recording: the faces found in a video's sampled frames are tracked
 * (tracker.ts), and the track seen in the most frames is taken to be its subject (of tracks seen
 * equally often, the one with the larger boxes). `prepare` keeps that track's face in each frame, so
 * a passer-by or a face on a poster, however large in some frame, never becomes a training image
 * of the subject's emotion.
 */
import { TRACKING_DEFAULTS } from '../config/tracking.js';
import { FaceTracker, type Detection } from './tracker.js';

export interface FrameFaces {
  /** Seconds into the video, increasing. */
  time: number;
  /** Every face found in the frame. */
  faces: Detection[];
}

/**
 * Per frame, the main track's detection (null where it was not seen). Frames are often sampled
 * far apart, so a lost face keeps its id for at least three sampling intervals.
 */
export function mainTrackFaces(frames: FrameFaces[]): (Detection | null)[] {
  const gaps = frames.slice(1).map((f, i) => f.time - frames[i]!.time);
  const lostTimeout = Math.max(TRACKING_DEFAULTS.lostTimeout, 3 * Math.max(0, ...gaps));
  const tracker = new FaceTracker({ lostTimeout, lostCentreDistance: 3 * TRACKING_DEFAULTS.lostCentreDistance });
  const perFrame = frames.map((f) => {
    const seen = tracker.update(f.time, f.faces);
    // update returns tracks in the order of the detections, each with its detection's box.
    return new Map(seen.map((t, i) => [t.id, f.faces[i]!]));
  });
  const frameCount = new Map<number, number>();
  const area = new Map<number, number>();
  for (const frame of perFrame) {
    for (const [id, d] of frame) {
      frameCount.set(id, (frameCount.get(id) ?? 0) + 1);
      area.set(id, (area.get(id) ?? 0) + d.box.width * d.box.height);
    }
  }
  let main: number | null = null;
  for (const [id, n] of frameCount) {
    const best = main === null ? null : frameCount.get(main)!;
    if (best === null || n > best || (n === best && area.get(id)! > area.get(main!)!)) main = id;
  }
  return perFrame.map((frame) => (main === null ? null : (frame.get(main) ?? null)));
}
