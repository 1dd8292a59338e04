/**
 * What a track's timeline of labels says: the share of its time in each emotion, the dominant
 * one, and the segments in which one emotion held. Pure (the web page may use it too).
 */

export interface LabelAt {
  /** Seconds from the start of the video. */
  time: number;
  label: string;
}

export interface EmotionSegment {
  emotion: string;
  /** Seconds: from the first frame of the run to the end of its last frame. */
  start: number;
  end: number;
  frames: number;
}

export interface TrackSummary {
  track: number;
  frames: number;
  /** Seconds the face was seen: frames × the frame interval. */
  seconds: number;
  firstTime: number;
  lastTime: number;
  /** Share of the track's time per emotion (every class of the model, summing to 1). */
  shares: Record<string, number>;
  dominant: string;
  /** Runs of one emotion, in time order; a gap of more than 1.5 frame intervals ends a run. */
  segments: EmotionSegment[];
}

/** Summarises one track whose labels were sampled every `interval` seconds (in time order). */
export function summariseTrack(track: number, labels: LabelAt[], classes: string[], interval: number): TrackSummary {
  if (labels.length === 0) throw new RangeError(`track ${track} has no frames`);
  const counts = new Map<string, number>(classes.map((c) => [c, 0]));
  for (const l of labels) counts.set(l.label, (counts.get(l.label) ?? 0) + 1);
  const shares: Record<string, number> = {};
  let dominant = labels[0]!.label;
  for (const [c, n] of counts) {
    shares[c] = n / labels.length;
    if (n > counts.get(dominant)!) dominant = c;
  }
  const segments: EmotionSegment[] = [];
  let prevTime = -Infinity;
  for (const l of labels) {
    const last = segments[segments.length - 1];
    if (last && last.emotion === l.label && l.time - prevTime <= 1.5 * interval) {
      last.end = l.time + interval;
      last.frames++;
    } else {
      segments.push({ emotion: l.label, start: l.time, end: l.time + interval, frames: 1 });
    }
    prevTime = l.time;
  }
  return {
    track,
    frames: labels.length,
    seconds: labels.length * interval,
    firstTime: labels[0]!.time,
    lastTime: labels[labels.length - 1]!.time,
    shares,
    dominant,
    segments,
  };
}

/** How often the label changes between consecutive frames of a track (flicker). */
export function labelFlips(labels: LabelAt[]): number {
  let flips = 0;
  for (let i = 1; i < labels.length; i++) if (labels[i]!.label !== labels[i - 1]!.label) flips++;
  return flips;
}
