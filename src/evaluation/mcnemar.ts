/**
 * The exact McNemar test: are two classifiers, scored on the same images, equally accurate?
 * Only the discordant images count — b right by the first model alone, c by the second alone —
 * and under the null hypothesis each is a fair coin, so the two-sided p-value is twice the
 * smaller binomial tail of Binomial(b + c, 1/2), capped at 1 (the mid-p and χ² forms are not used:
 * the exact test is valid for the small counts a CK+ test split gives).
 */

export interface McNemarResult {
  /** Images only the first model got right. */
  b: number;
  /** Images only the second model got right. */
  c: number;
  /** Two-sided exact p-value. */
  p: number;
}

/** log(k!) by summation (cached): exact enough for tails of up to a few hundred thousand trials. */
const logFactorials: number[] = [0];
export function logFactorial(k: number): number {
  for (let i = logFactorials.length; i <= k; i++) logFactorials.push(logFactorials[i - 1]! + Math.log(i));
  return logFactorials[k]!;
}

/** P(X ≤ k) for X ~ Binomial(n, 1/2), summed in log space so large n does not underflow. */
export function binomialHalfCdf(k: number, n: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  const logHalfN = -n * Math.LN2;
  let sum = 0;
  for (let i = 0; i <= k; i++) sum += Math.exp(logFactorial(n) - logFactorial(i) - logFactorial(n - i) + logHalfN);
  return Math.min(1, sum);
}

/** Exact McNemar test from the two discordant counts. */
export function mcnemarExact(b: number, c: number): McNemarResult {
  const n = b + c;
  const p = n === 0 ? 1 : Math.min(1, 2 * binomialHalfCdf(Math.min(b, c), n));
  return { b, c, p };
}

/** The test from two models' correctness on the same images, index for index. */
export function mcnemarFromPredictions(truth: ArrayLike<number>, first: ArrayLike<number>, second: ArrayLike<number>): McNemarResult {
  if (truth.length !== first.length || truth.length !== second.length) throw new Error('mcnemar: predictions of different lengths');
  let b = 0;
  let c = 0;
  for (let i = 0; i < truth.length; i++) {
    const r1 = first[i] === truth[i];
    const r2 = second[i] === truth[i];
    if (r1 && !r2) b++;
    else if (r2 && !r1) c++;
  }
  return mcnemarExact(b, c);
}

/** p-values as people read them: 0.043, 0.0012, < 0.0001. */
export function formatP(p: number): string {
  if (p < 1e-4) return '< 0.0001';
  if (p < 0.001) return p.toFixed(4);
  return p.toFixed(3);
}

/** `p = 0.041`, or `p < 0.0001`. */
export function pStatement(p: number): string {
  return p < 1e-4 ? 'p < 0.0001' : `p = ${formatP(p)}`;
}
