/**
 * Confidence intervals for proportions (accuracy, precision, recall). Wilson's score interval
 * rather than the normal (Wald) one: it stays inside 0–1 and keeps its coverage near 0 and 1 and
 * for the small counts a CK+ test split gives (96 images, a class of 6). Both treat every image
 * as an independent draw; frames of one person are not, so on such data the intervals are a lower
 * bound on the uncertainty.
 */

/** z of a two-sided 95 % interval. */
export const Z95 = 1.959963984540054;

export interface Interval {
  lower: number;
  upper: number;
}

/** Wilson score interval for `successes` of `n` (95 % by default); n = 0 gives the whole 0–1. */
export function wilson(successes: number, n: number, z = Z95): Interval {
  if (!(n > 0)) return { lower: 0, upper: 1 };
  if (successes < 0 || successes > n) throw new Error(`wilson: ${successes} successes of ${n}`);
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  // Exact at the ends (the formula gives them up to rounding).
  return { lower: successes === 0 ? 0 : Math.max(0, centre - half), upper: successes === n ? 1 : Math.min(1, centre + half) };
}

/**
 * Newcombe's hybrid score interval (1998, method 10) for the difference p1 − p2 of two
 * independent proportions, built from the two Wilson intervals. For the same images scored two
 * ways the accuracies are positively correlated, and this interval is then wider than needed.
 */
export function newcombeDifference(x1: number, n1: number, x2: number, n2: number, z = Z95): Interval & { difference: number } {
  const p1 = n1 > 0 ? x1 / n1 : 0;
  const p2 = n2 > 0 ? x2 / n2 : 0;
  const a = wilson(x1, n1, z);
  const b = wilson(x2, n2, z);
  const d = p1 - p2;
  return {
    difference: d,
    lower: d - Math.sqrt((p1 - a.lower) ** 2 + (b.upper - p2) ** 2),
    upper: d + Math.sqrt((a.upper - p1) ** 2 + (p2 - b.lower) ** 2),
  };
}

/** Sample mean and standard deviation (n − 1); sd is NaN for fewer than two values. */
export function meanSd(values: number[]): { mean: number; sd: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, sd: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n < 2 ? NaN : Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  return { mean, sd };
}

/** `90.6 % (84.9–94.9)`: a share with its interval, in percent, one decimal. */
export function formatWithInterval(value: number, ci: Interval, digits = 1): string {
  const p = (x: number) => (x * 100).toFixed(digits);
  return `${p(value)} % (${p(ci.lower)}–${p(ci.upper)})`;
}

/** `successes` of `n` as `90.6 % (84.9–94.9)` with its Wilson interval. */
export function formatProportion(successes: number, n: number, digits = 1): string {
  return formatWithInterval(n > 0 ? successes / n : 0, wilson(successes, n), digits);
}

/** `+3.1 pp (−4.2 to 10.5)`: a difference of shares in percentage points with its interval. */
export function formatDifference(d: Interval & { difference: number }, digits = 1): string {
  const p = (x: number) => `${x < 0 ? '−' : x > 0 ? '+' : ''}${Math.abs(x * 100).toFixed(digits)}`;
  return `${p(d.difference)} pp (${p(d.lower)} to ${p(d.upper)})`;
}
