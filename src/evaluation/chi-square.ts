/**
 * Pearson's chi-square test of homogeneity, and the chi-square distribution it needs: does the
 * share of faces a model gets right differ between groups of people more than chance allows?
 * `visemo audit` runs it on the 2 × k table of right and wrong answers per group. No statistics
 * package is a dependency, so the upper tail comes from the regularised incomplete gamma function
 * (series and continued fraction as in Numerical Recipes, 2nd ed., §6.2).
 */

export interface ChiSquareResult {
  statistic: number;
  df: number;
  /** P(X² ≥ statistic) under homogeneity. */
  p: number;
  /** The smallest expected count: under 5 the chi-square approximation is rough. */
  minExpected: number;
}

/** log Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: about 15 significant digits). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Q(a, x) = Γ(a, x) / Γ(a), the regularised upper incomplete gamma function. */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || x < 0) throw new RangeError(`gammaQ(${a}, ${x})`);
  if (x === 0) return 1;
  const lead = -x + a * Math.log(x) - logGamma(a);
  if (x < a + 1) {
    // Series for P(a, x), then Q = 1 − P.
    let ap = a;
    let term = 1 / a;
    let sum = term;
    for (let n = 0; n < 1000; n++) {
      term *= x / ++ap;
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lead));
  }
  // Continued fraction for Q (modified Lentz).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.min(1, Math.exp(lead) * h);
}

/** P(X ≥ x) for X chi-square with `df` degrees of freedom. */
export function chiSquareSurvival(x: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`chi-square with ${df} degrees of freedom`);
  return x <= 0 ? 1 : gammaQ(df / 2, x / 2);
}

/**
 * Pearson's test of an r × c table of counts (rows: outcomes, columns: groups, or the other way
 * round: the statistic is the same). Rows or columns with no counts are dropped first, as they
 * carry no information and would give zero expected counts.
 */
export function chiSquareTest(table: number[][]): ChiSquareResult {
  const rows = table.filter((r) => r.some((v) => v > 0));
  const cols = (rows[0] ?? []).map((_, j) => j).filter((j) => rows.some((r) => r[j]! > 0));
  const t = rows.map((r) => cols.map((j) => r[j]!));
  const rowSums = t.map((r) => r.reduce((a, b) => a + b, 0));
  const colSums = cols.map((_, j) => t.reduce((a, r) => a + r[j]!, 0));
  const n = rowSums.reduce((a, b) => a + b, 0);
  const df = (t.length - 1) * (cols.length - 1);
  if (df < 1) return { statistic: 0, df: Math.max(0, df), p: 1, minExpected: n };
  let statistic = 0;
  let minExpected = Infinity;
  t.forEach((r, i) =>
    r.forEach((observed, j) => {
      const expected = (rowSums[i]! * colSums[j]!) / n;
      minExpected = Math.min(minExpected, expected);
      statistic += (observed - expected) ** 2 / expected;
    }),
  );
  return { statistic, df, p: chiSquareSurvival(statistic, df), minExpected };
}

/** The homogeneity of k proportions: `successes[i]` of `totals[i]`, a 2 × k table. */
export function proportionsHomogeneity(successes: number[], totals: number[]): ChiSquareResult {
  return chiSquareTest([successes, successes.map((s, i) => totals[i]! - s)]);
}
