/**
 * Class-prior calibration: per-class offsets b added to a model's log-probabilities,
 * p'_k ∝ p_k · exp(b_k). A model trained where neutral faces are common answers "neutral" for
 * subtle expressions elsewhere; shifting its priors is the cheapest correction (logit adjustment).
 *
 * The offsets are fitted on validation images by minimising the cross-entropy of the adjusted
 * probabilities, each class weighted equally when `balanced` (so the fit aims at uniform priors,
 * not at the validation set's class mix). The loss is convex in b; b is fixed up to a constant,
 * which is removed (mean 0). Pure arithmetic: the page imports it too.
 */

export interface Calibration {
  /** One offset per class of the model, in its class order (added to log-probabilities). */
  offsets: number[];
  /** How they were fitted, for the card and metadata. */
  method: 'balanced-nll' | 'nll';
  fittedOn: { path: string; images: number };
  createdAt: string;
}

/** p'_k ∝ p_k · exp(b_k), renormalised; a copy (computed in log space, so large offsets cannot overflow). */
export function applyCalibration(probs: ArrayLike<number>, offsets: readonly number[]): Float32Array {
  const z = Array.from(probs, (p, k) => Math.log(Math.max(p, 1e-12)) + (offsets[k] ?? 0));
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const sum = e.reduce((a, v) => a + v, 0);
  return Float32Array.from(e, (v) => v / sum);
}

/**
 * Offsets minimising the (class-balanced) cross-entropy of the adjusted probabilities against
 * the labels, by gradient descent on the convex loss (k parameters: a few hundred
 * full passes converge far below the noise of any validation set).
 */
export function fitClassOffsets(
  probs: readonly ArrayLike<number>[],
  labels: ArrayLike<number>,
  numClasses: number,
  opts: { balanced: boolean; iterations?: number } = { balanced: true },
): number[] {
  const n = probs.length;
  if (n === 0) throw new Error('no images to fit the calibration on');
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < n; i++) counts[labels[i]!]!++;
  const missing = counts.map((c, k) => (c === 0 ? k : -1)).filter((k) => k >= 0);
  if (missing.length > 0) throw new Error(`no validation image of class ${missing.join(', ')}: the offsets of absent classes cannot be fitted`);
  // Per-image weight: 1/(k·n_c) when balanced (each class counts equally), 1/n otherwise.
  const weight = (c: number) => (opts.balanced ? 1 / (numClasses * counts[c]!) : 1 / n);
  const logp = probs.map((p) => Array.from({ length: numClasses }, (_, k) => Math.log(Math.max(p[k]!, 1e-12))));
  const b = new Array<number>(numClasses).fill(0);
  const iterations = opts.iterations ?? 500;
  for (let it = 0; it < iterations; it++) {
    const grad = new Array<number>(numClasses).fill(0);
    for (let i = 0; i < n; i++) {
      const z = logp[i]!.map((v, k) => v + b[k]!);
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const s = e.reduce((a, v) => a + v, 0);
      const w = weight(labels[i]!);
      for (let k = 0; k < numClasses; k++) grad[k]! += w * (e[k]! / s - (labels[i] === k ? 1 : 0));
    }
    // The gradient of a softmax cross-entropy in its logits is bounded by 1 per class: a step of 1 is stable.
    for (let k = 0; k < numClasses; k++) b[k]! -= grad[k]!;
  }
  const mean = b.reduce((a, v) => a + v, 0) / numClasses;
  return b.map((v) => v - mean);
}
