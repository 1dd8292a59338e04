/**
 * Defaults of video analysis: how often the full-frame detector runs, how faces are followed in
 * between, how long a lost face keeps its id, and how scores are smoothed. One typed set, read by
 * predict, the library and the web page (no imports: the page bundles it).
 */
export interface TrackingConfig {
  /** The full-frame detector runs on every n-th analysed frame (1 = every frame). */
  detectEvery: number;
  /** …and at least every this many seconds of video (a time budget: at low frame rates faces move far between frames). */
  detectSeconds: number;
  /**
   * Between full detections, faces are looked for in their windows on every n-th frame; on the
   * frames in between each face is carried where its track's speed puts it (1: windows on every frame).
   */
  followEvery: number;
  /** In between, each face is looked for in a square this many times its box side, around where it is expected. */
  windowScale: number;
  /** Input size of the detector run on those windows (tiny face detector; a multiple of 32). */
  windowInputSize: number;
  /** Seconds a face that was not found keeps its id, so that it gets it back when it reappears near where it was. */
  lostTimeout: number;
  /** A detection belongs to a track when their boxes overlap at least this much (intersection over union)… */
  minIou: number;
  /** …or when their centres lie within this many box sides of each other. */
  maxCentreDistance: number;
  /** For a lost track, the centre distance allowed (box sides), since it may have moved while unseen. */
  lostCentreDistance: number;
  /** Detector score below which a face found in a window is not taken. */
  windowMinScore: number;
  /** Exponential smoothing time constant of the scores, seconds (0: off). */
  smoothSeconds: number;
}

export const TRACKING_DEFAULTS: Readonly<TrackingConfig> = Object.freeze({
  detectEvery: 10,
  detectSeconds: 0.5,
  followEvery: 2,
  windowScale: 2,
  windowInputSize: 128,
  lostTimeout: 1.5,
  minIou: 0.3,
  maxCentreDistance: 0.5,
  lostCentreDistance: 1.5,
  windowMinScore: 0.4,
  smoothSeconds: 0.5,
});
