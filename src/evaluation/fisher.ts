/**
 * Fisher's exact test of two independent proportions: is one group's accuracy different from
 * another's? `visemo audit` tests every two groups with it. Exact rather than the z or χ² test
 * because groups of people in face sets are often small (a few dozen faces, some classes nearly
 * always right), where the normal approximation misleads.
 */
import { logFactorial } from './mcnemar.js';

/** log of the hypergeometric probability of the 2 × 2 table [[a, b], [c, d]] given its margins. */
function logTableProbability(a: number, b: number, c: number, d: number): number {
  const n = a + b + c + d;
  return (
    logFactorial(a + b) +
    logFactorial(c + d) +
    logFactorial(a + c) +
    logFactorial(b + d) -
    logFactorial(n) -
    logFactorial(a) -
    logFactorial(b) -
    logFactorial(c) -
    logFactorial(d)
  );
}

/**
 * Two-sided p-value of Fisher's exact test for x1 of n1 against x2 of n2: the probability, with
 * the margins fixed, of every table no more probable than the one observed (as R's fisher.test).
 */
export function fisherExact(x1: number, n1: number, x2: number, n2: number): number {
  if (x1 < 0 || x1 > n1 || x2 < 0 || x2 > n2) throw new RangeError(`fisherExact: ${x1}/${n1} vs ${x2}/${n2}`);
  const successes = x1 + x2;
  const observed = logTableProbability(x1, n1 - x1, x2, n2 - x2);
  const lo = Math.max(0, successes - n2);
  const hi = Math.min(n1, successes);
  let p = 0;
  for (let a = lo; a <= hi; a++) {
    const lp = logTableProbability(a, n1 - a, successes - a, n2 - successes + a);
    // A relative tolerance, as R's fisher.test, so tables equal to the observed one up to rounding count.
    if (lp <= observed + 1e-7) p += Math.exp(lp);
  }
  return Math.min(1, p);
}
