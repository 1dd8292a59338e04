/** The statistics `visemo audit` adds, against published values: chi-square, Fisher's exact test, Holm's correction. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chiSquareSurvival, chiSquareTest, logGamma, proportionsHomogeneity } from './chi-square.js';
import { fisherExact } from './fisher.js';
import { holmAdjust } from './holm.js';

const close = (actual: number, expected: number, tol: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} is not ${expected} ± ${tol}`);

test('log Γ and the chi-square upper tail match the tables', () => {
  close(logGamma(1), 0, 1e-12);
  close(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-12);
  close(logGamma(10), Math.log(362880), 1e-10);
  // NIST/SEMATECH e-Handbook of Statistical Methods, §1.3.6.7.4 (upper critical values of the
  // chi-square distribution): 3.841 (df 1) and 18.307 (df 10) at 0.05, 22.458 (df 6) at 0.001.
  close(chiSquareSurvival(3.841, 1), 0.05, 1e-4, 'df 1');
  close(chiSquareSurvival(18.307, 10), 0.05, 1e-4, 'df 10');
  close(chiSquareSurvival(22.458, 6), 0.001, 1e-5, 'df 6');
  // Both branches of the incomplete gamma: x below a + 1 (series) and above (continued fraction).
  close(chiSquareSurvival(0.5, 3), 0.9189, 1e-4, 'df 3'); // tables: P(χ²₃ ≥ 0.584) = 0.90, ≥ 0.352 = 0.95
  assert.ok(chiSquareSurvival(0.584, 3) > 0.899 && chiSquareSurvival(0.584, 3) < 0.901);
  assert.equal(chiSquareSurvival(0, 4), 1);
});

test("Pearson's test of a 3 × 4 table: the textbook example", () => {
  // Wikipedia, "Chi-squared test", Example chi-squared test for categorical data: 650 residents of
  // four neighbourhoods by occupation; the statistic is ≈ 24.6 with (3 − 1)(4 − 1) = 6 degrees of
  // freedom, beyond the 0.001 critical value 22.458 (so 0.0001 < p < 0.001).
  const r = chiSquareTest([
    [90, 60, 104, 95],
    [30, 50, 51, 20],
    [30, 40, 45, 35],
  ]);
  close(r.statistic, 24.57, 0.01, 'X²');
  assert.equal(r.df, 6);
  assert.ok(r.p > 0.0001 && r.p < 0.001, `p ${r.p}`);
  close(r.p, 0.00041, 0.00001, 'p');
  close(r.minExpected, (150 * 150) / 650, 1e-9);
});

test('homogeneity of accuracies: a 2 × k table of right and wrong', () => {
  // 40/50, 30/50, 20/50 right: expected 30 right and 20 wrong per group,
  // X² = (100 + 0 + 100)/30 + (100 + 0 + 100)/20 = 16.667 on 2 df, p = exp(−X²/2) = 0.000240.
  const r = proportionsHomogeneity([40, 30, 20], [50, 50, 50]);
  close(r.statistic, 50 / 3, 1e-9);
  assert.equal(r.df, 2);
  close(r.p, Math.exp(-25 / 3), 1e-12, 'df 2 is an exponential tail');
  // Equal accuracies: nothing to see.
  const same = proportionsHomogeneity([10, 20], [20, 40]);
  assert.equal(same.statistic, 0);
  assert.equal(same.p, 1);
  // Every face right in every group: one outcome row only, no test possible.
  assert.deepEqual(proportionsHomogeneity([20, 30], [20, 30]), { statistic: 0, df: 0, p: 1, minExpected: 50 });
});

test("Fisher's exact test: the lady tasting tea", () => {
  // Fisher (1935), The Design of Experiments, §2: 3 of 4 cups right each way, two-sided p = 34/70.
  close(fisherExact(3, 4, 1, 4), 34 / 70, 1e-12);
  assert.equal(fisherExact(5, 10, 5, 10), 1);
  // One-sided extreme tables: 4 of 4 against 0 of 4: two-sided 2/70.
  close(fisherExact(4, 4, 0, 4), 2 / 70, 1e-12);
  // Symmetric in the two groups.
  close(fisherExact(18, 20, 11, 20), fisherExact(11, 20, 18, 20), 1e-15);
  close(fisherExact(18, 20, 11, 20), 0.03095, 1e-5);
});

test("Holm's step-down adjustment: the worked example", () => {
  // Holm–Bonferroni method (Wikipedia's and GeeksforGeeks' example): p = 0.01, 0.04, 0.03, 0.005
  // at α = 0.05. Sorted, 0.005 < 0.05/4 and 0.01 < 0.05/3 are rejected; 0.03 > 0.05/2 stops.
  // Adjusted (R's p.adjust 'holm'): 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, max(0.04, 0.06) = 0.06.
  const adjusted = holmAdjust([0.01, 0.04, 0.03, 0.005]);
  [0.03, 0.06, 0.06, 0.02].forEach((p, i) => close(adjusted[i]!, p, 1e-12, `H${i + 1}`));
  assert.deepEqual(
    adjusted.map((p) => p < 0.05),
    [true, false, false, true],
  );
  assert.deepEqual(holmAdjust([0.5, 0.9]), [1, 1], 'capped at 1');
  assert.deepEqual(holmAdjust([]), []);
});
