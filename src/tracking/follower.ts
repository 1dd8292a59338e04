/**
 * The per-frame schedule of video analysis: the full-frame detector on every `detectEvery`-th
 * frame, and in between each face looked for only in a small window around where its track
 * expects it (a much cheaper detector run), so most frames cost little more than the emotion
 * model. The detectors are passed in: Node gives face-api on tfjs here, the page the same in the
 * browser; this file has no Node imports.
 */
import { TRACKING_DEFAULTS, type TrackingConfig } from '../config/tracking.js';
import type { FaceBox } from '../image/geometry.js';
import { applyCalibration, iou, searchWindow, suppressDuplicates } from '../image/boxes.js';
import { FaceTracker, type Detection, type Track } from './tracker.js';

export interface FrameDetectors {
  /** Every face in the whole frame. */
  detectAll(): Promise<Detection[]>;
  /** The faces inside `window` (frame coordinates in and out), found by the window detector. */
  detectIn(window: FaceBox): Promise<Detection[]>;
}

export interface FollowedFace {
  track: number;
  box: FaceBox;
  score: number;
  /** 'detect': found by the full-frame detector in this frame; 'follow': in its track's window; 'coast': where its speed puts it (not looked for in this frame). */
  source: 'detect' | 'follow' | 'coast';
}

export class FaceFollower {
  readonly config: TrackingConfig;
  readonly tracker: FaceTracker;
  private frames = 0;
  /** Frames the full-frame detector ran on so far. */
  detections = 0;
  private sinceDetect = 0;
  private lastDetectTime = -Infinity;
  private lostInWindow = false;

  constructor(
    readonly width: number,
    readonly height: number,
    config: Partial<TrackingConfig> = {},
  ) {
    this.config = { ...TRACKING_DEFAULTS, ...config };
    if (!(Number.isInteger(this.config.detectEvery) && this.config.detectEvery >= 1))
      throw new RangeError(`detectEvery must be a whole number of at least 1, got ${this.config.detectEvery}`);
    if (!(Number.isInteger(this.config.followEvery) && this.config.followEvery >= 1))
      throw new RangeError(`followEvery must be a whole number of at least 1, got ${this.config.followEvery}`);
    if (!(this.config.windowScale >= 1)) throw new RangeError(`windowScale must be at least 1, got ${this.config.windowScale}`);
    this.tracker = new FaceTracker(this.config);
  }

  /** Whether the next frame gets the full-frame detector: every `detectEvery`-th frame, and any frame while no face is tracked (nothing to follow). */
  get detectsNext(): boolean {
    return this.sinceDetect + 1 >= this.config.detectEvery || this.frames === 0 || this.tracker.kept.length === 0 || this.lostInWindow;
  }

  /** The faces of the frame at `time` (seconds, increasing), each with its track id. */
  /**
   * The full detector also runs when `detectSeconds` have passed since it last did, and on the
   * frame after a face was lost in its window (it may have moved out of it).
   */
  async step(time: number, detectors: FrameDetectors): Promise<FollowedFace[]> {
    const full = this.detectsNext || time - this.lastDetectTime >= this.config.detectSeconds - 1e-9;
    this.lostInWindow = false;
    if (full) {
      this.lastDetectTime = time;
      this.detections++;
    }
    this.frames++;
    this.sinceDetect = full ? 0 : this.sinceDetect + 1;
    if (!full && this.sinceDetect % this.config.followEvery !== 0) return this.tracker.coast(time).map((t) => face(t, 'coast'));
    if (full) {
      const seen = this.tracker.update(time, await detectors.detectAll());
      // Where the window detector draws each face just found, to map its later boxes onto the full detector's.
      for (const track of seen) {
        const window = searchWindow(track.box, this.config.windowScale, this.width, this.height);
        const same = (await detectors.detectIn(window))
          .filter((d) => iou(d.box, track.box) > 0.3)
          .sort((a, b) => iou(b.box, track.box) - iou(a.box, track.box))[0];
        if (same) this.tracker.calibrate(track, same.box);
      }
      return seen.map((t) => face(t, 'detect'));
    }
    const found: Detection[] = [];
    const wereVisible = this.tracker.visible.map((t) => t.id);
    for (const track of this.tracker.kept) {
      const window = searchWindow(this.tracker.predict(track, time), this.config.windowScale, this.width, this.height);
      for (const d of await detectors.detectIn(window)) {
        if (d.score >= this.config.windowMinScore) found.push({ box: applyCalibration(d.box, track.calibration), score: d.score });
      }
    }
    const seen = this.tracker.update(time, suppressDuplicates(found), { spawn: false });
    this.lostInWindow = wereVisible.some((id) => !seen.some((t) => t.id === id));
    return seen.map((t) => face(t, 'follow'));
  }
}

function face(t: Track, source: FollowedFace['source']): FollowedFace {
  return { track: t.id, box: t.box, score: t.score, source };
}
