/**
 * Exponential smoothing of one track's class probabilities over time, with a time constant in
 * seconds rather than a per-frame factor, so the same setting means the same at any frame rate
 * and across gaps: after dt seconds the old value keeps a weight of exp(−dt/τ). τ = 0 is off.
 * The result stays a probability distribution (a weighted mean of distributions).
 */
export class ScoreSmoother {
  private value: Float32Array | null = null;
  private time = -Infinity;

  constructor(readonly seconds: number) {
    if (!(seconds >= 0) || !Number.isFinite(seconds))
      throw new RangeError(`the smoothing time constant must be a number of seconds of at least 0, got ${seconds}`);
  }

  /** Adds the scores seen at `time` (seconds, not decreasing) and returns the smoothed scores. */
  update(time: number, scores: ArrayLike<number>): Float32Array {
    if (time < this.time) throw new RangeError(`scores must come in time order: ${time} s after ${this.time} s`);
    if (this.value === null || this.seconds === 0 || this.value.length !== scores.length) {
      this.value = Float32Array.from(scores);
    } else {
      const keep = Math.exp(-(time - this.time) / this.seconds);
      for (let i = 0; i < scores.length; i++) this.value[i] = keep * this.value[i]! + (1 - keep) * scores[i]!;
    }
    this.time = time;
    return Float32Array.from(this.value);
  }
}

/** One smoother per track id. */
export class TrackSmoothers {
  private readonly byTrack = new Map<number, ScoreSmoother>();

  constructor(readonly seconds: number) {
    new ScoreSmoother(seconds); // checks the constant once, up front
  }

  update(track: number, time: number, scores: ArrayLike<number>): Float32Array {
    let s = this.byTrack.get(track);
    if (!s) this.byTrack.set(track, (s = new ScoreSmoother(this.seconds)));
    return s.update(time, scores);
  }

  /** Forgets tracks that are gone (their memory only). */
  keepOnly(ids: Iterable<number>): void {
    const keep = new Set(ids);
    for (const id of [...this.byTrack.keys()]) if (!keep.has(id)) this.byTrack.delete(id);
  }
}
