/**
 * Face tracks over time: each face found in a frame is matched to the track it continues (boxes
 * that overlap, or centres close together, after moving each track by its own speed), so a
 * person keeps one id while they move; a track that is not found is kept for a while
 * (`lostTimeout` seconds) and takes back a face that reappears near where it was; a face no track
 * claims starts a new one. Pure logic on boxes and times, without Node imports (the web page uses
 * it too); the detectors that produce the boxes live elsewhere.
 */
import { TRACKING_DEFAULTS, type TrackingConfig } from '../config/tracking.js';
import type { FaceBox } from '../image/geometry.js';
import { calibrationBetween, centre, centreDistance, iou, shiftBox, IDENTITY_CALIBRATION, type BoxCalibration } from '../image/boxes.js';

export interface Detection {
  box: FaceBox;
  /** Detector confidence, 0–1. */
  score: number;
}

export interface Track {
  readonly id: number;
  /** Where the face was last seen, and the detector's score there. */
  box: FaceBox;
  score: number;
  /** Seconds (video time) of the first and the last frame it was seen in. */
  firstSeen: number;
  lastSeen: number;
  /** Frames it was seen in. */
  hits: number;
  /** The last box a detector gave (not a carried one) and its time: speeds are measured from it. */
  measuredBox: FaceBox;
  measuredAt: number;
  /** Speed of its centre, pixels per second, to predict where it is next. */
  vx: number;
  vy: number;
  /** Maps the window detector's boxes of this face onto the full-frame detector's (see boxes.ts). */
  calibration: BoxCalibration;
}

export type TrackerOptions = Pick<TrackingConfig, 'lostTimeout' | 'minIou' | 'maxCentreDistance' | 'lostCentreDistance'>;

/** Sizes of two boxes of one face differ by less than this factor. */
const MAX_SIZE_RATIO = 2;

export class FaceTracker {
  private readonly opts: TrackerOptions;
  private tracks: Track[] = [];
  private nextId = 1;
  private lastTime = -Infinity;

  constructor(opts: Partial<TrackerOptions> = {}) {
    this.opts = { ...TRACKING_DEFAULTS, ...opts };
    for (const [k, v] of Object.entries(this.opts))
      if (!(typeof v === 'number' && v >= 0)) throw new RangeError(`tracker option ${k} must be a number of at least 0, got ${v}`);
  }

  /** Tracks seen in the latest frame. */
  get visible(): Track[] {
    return this.tracks.filter((t) => t.lastSeen === this.lastTime);
  }

  /** Every track still kept: seen in the latest frame, or lost less than `lostTimeout` ago. */
  get kept(): Track[] {
    return [...this.tracks];
  }

  /** Ids handed out so far. */
  get created(): number {
    return this.nextId - 1;
  }

  /** Where `track` is expected at `time`: its last box moved by its speed (for at most `lostTimeout` seconds). */
  predict(track: Track, time: number): FaceBox {
    const dt = Math.min(Math.max(0, time - track.lastSeen), this.opts.lostTimeout);
    return shiftBox(track.box, track.vx * dt, track.vy * dt);
  }

  /**
   * The faces found in the frame at `time` (seconds, increasing): each is given to the track it
   * continues, and with `spawn` (the default) a face no track claims starts a new one. Returns
   * the tracks seen in this frame, each with its detection's box, in the order of `detections`.
   */
  update(time: number, detections: Detection[], opts: { spawn?: boolean } = {}): Track[] {
    if (!(time >= this.lastTime)) throw new RangeError(`frames must come in time order: ${time} s after ${this.lastTime} s`);
    const previous = this.lastTime;
    this.lastTime = time;
    this.tracks = this.tracks.filter((t) => time - t.lastSeen <= this.opts.lostTimeout);
    // Every admissible (track, detection) pair, best first; taken greedily, one each.
    const pairs: { t: number; d: number; cost: number }[] = [];
    this.tracks.forEach((track, t) => {
      const expected = this.predict(track, time);
      const wasLost = track.lastSeen !== previous;
      const reach = wasLost ? this.opts.lostCentreDistance : this.opts.maxCentreDistance;
      detections.forEach((det, d) => {
        const ratio = Math.max(det.box.width, det.box.height) / Math.max(expected.width, expected.height, 1e-9);
        if (ratio > MAX_SIZE_RATIO || ratio < 1 / MAX_SIZE_RATIO) return;
        const overlap = iou(expected, det.box);
        const distance = centreDistance(expected, det.box);
        if (overlap >= this.opts.minIou || distance <= reach) pairs.push({ t, d, cost: distance - overlap });
      });
    });
    pairs.sort((a, b) => a.cost - b.cost);
    const trackTaken = new Set<number>();
    const owner = new Map<number, Track>();
    for (const p of pairs) {
      if (trackTaken.has(p.t) || owner.has(p.d)) continue;
      trackTaken.add(p.t);
      owner.set(p.d, this.tracks[p.t]!);
    }
    const seen: Track[] = [];
    detections.forEach((det, d) => {
      const track = owner.get(d);
      if (track) {
        this.move(track, det, time);
        seen.push(track);
      } else if (opts.spawn !== false) {
        const born: Track = {
          id: this.nextId++,
          box: det.box,
          score: det.score,
          firstSeen: time,
          lastSeen: time,
          hits: 1,
          measuredBox: det.box,
          measuredAt: time,
          vx: 0,
          vy: 0,
          calibration: { ...IDENTITY_CALIBRATION },
        };
        this.tracks.push(born);
        seen.push(born);
      }
    });
    return seen;
  }

  /**
   * Moves every track seen in the latest frame to where its speed puts it at `time`, without a
   * detection (frames on which faces are not looked for). Returns them.
   */
  coast(time: number): Track[] {
    if (!(time >= this.lastTime)) throw new RangeError(`frames must come in time order: ${time} s after ${this.lastTime} s`);
    const moved = this.visible;
    for (const track of moved) {
      track.box = this.predict(track, time);
      track.lastSeen = time;
    }
    this.lastTime = time;
    return moved;
  }

  /**
   * Records how the window detector drew this track's face (`windowBox`) in the frame where the
   * full-frame detector drew `track.box`; later window boxes are mapped with it (a running mean).
   */
  calibrate(track: Track, windowBox: FaceBox): void {
    const cal = calibrationBetween(windowBox, track.box);
    const c = track.calibration;
    const first = c.sx === 1 && c.sy === 1 && c.dx === 0 && c.dy === 0;
    const w = first ? 1 : 0.5;
    track.calibration = { dx: c.dx + w * (cal.dx - c.dx), dy: c.dy + w * (cal.dy - c.dy), sx: c.sx + w * (cal.sx - c.sx), sy: c.sy + w * (cal.sy - c.sy) };
  }

  private move(track: Track, det: Detection, time: number): void {
    const dt = time - track.measuredAt;
    if (dt > 0) {
      const a = centre(track.measuredBox);
      const b = centre(det.box);
      const vx = (b.x - a.x) / dt;
      const vy = (b.y - a.y) / dt;
      // The first step sets the speed; later ones are averaged in, so one jittery box does not fling the prediction.
      const w = track.hits === 1 ? 1 : 0.5;
      track.vx += w * (vx - track.vx);
      track.vy += w * (vy - track.vy);
    }
    track.box = det.box;
    track.measuredBox = det.box;
    track.measuredAt = time;
    track.score = det.score;
    track.lastSeen = time;
    track.hits++;
  }
}
