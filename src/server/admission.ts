/**
 * How much recognition work the server takes on at once, so that a burst of uploads (image bombs
 * included) cannot exhaust memory:
 *
 *  - requests in progress (reading their body, waiting or being recognised) are counted from the
 *    moment they arrive; beyond `maxPending` a request is refused at once (503, BusyError),
 *    before its body is read, so waiting uploads hold at most maxPending × --max-upload bytes;
 *  - the pixels being decoded at once (each image's width × height, read from its header) stay
 *    within `pixelBudget`: a request beyond it waits, in arrival order, until earlier ones finish.
 *    An image larger than the whole budget is decoded alone.
 */

/** The server is at its limit of requests in progress: answered 503 with Retry-After. */
export class BusyError extends Error {}

export interface AdmissionLimits {
  /** Requests in progress at most (at least 1). */
  maxPending: number;
  /** Pixels decoded at once at most (at least 1). */
  pixelBudget: number;
}

export class Admission {
  private pending = 0;
  private pixels = 0;
  private readonly waiting: { cost: number; start: () => void }[] = [];
  /** The most pixels that were ever decoding at once (for the bench and the tests). */
  peakPixels = 0;

  constructor(readonly limits: AdmissionLimits) {
    for (const [name, v] of Object.entries(limits))
      if (!(Number.isInteger(v) && v >= 1)) throw new RangeError(`${name} must be a whole number of at least 1, got ${v}`);
  }

  /** Requests in progress now. */
  get inProgress(): number {
    return this.pending;
  }

  /** Pixels being decoded now. */
  get pixelsInFlight(): number {
    return this.pixels;
  }

  /** Counts an arriving request, or refuses it with BusyError; call the returned function once it is answered. */
  enter(): () => void {
    if (this.pending >= this.limits.maxPending) {
      throw new BusyError(`the server is busy: ${this.pending} recognition requests are in progress, the most it takes (--max-pending)`);
    }
    this.pending++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.pending--;
    };
  }

  /** Waits until `pixels` fit the budget, then holds them; call the returned function when decoding is done. */
  async reserve(pixels: number): Promise<() => void> {
    // An image larger than the whole budget may run, but only alone.
    const cost = Math.min(Math.max(1, pixels), this.limits.pixelBudget);
    if (this.waiting.length > 0 || this.pixels + cost > this.limits.pixelBudget) {
      await new Promise<void>((start) => this.waiting.push({ cost, start }));
    } else {
      this.take(cost);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.pixels -= cost;
      this.admitWaiting();
    };
  }

  private take(cost: number): void {
    this.pixels += cost;
    this.peakPixels = Math.max(this.peakPixels, this.pixels);
  }

  /** Starts waiting requests in arrival order while they fit (a large one first keeps later small ones waiting: no starvation). */
  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.pixels + this.waiting[0]!.cost <= this.limits.pixelBudget) {
      const next = this.waiting.shift()!;
      this.take(next.cost);
      next.start();
    }
  }
}
