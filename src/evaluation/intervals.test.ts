import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDifference, formatProportion, meanSd, newcombeDifference, wilson } from './intervals.js';

const close = (x: number, y: number, tol = 5e-5) => assert.ok(Math.abs(x - y) < tol, `${x} != ${y}`);

test('Wilson intervals equal published values', () => {
  // 45/50: 0.7864–0.9565 (statsmodels proportion_confint(45, 50, method="wilson")).
  const a = wilson(45, 50);
  close(a.lower, 0.7864);
  close(a.upper, 0.9565);
  // Newcombe (1998), Table I, method 3: 81/263 → 0.2553–0.3662; 15/148 → 0.0624–0.1605; 0/20 → 0–0.1611; 1/29 → 0.0061–0.1718.
  close(wilson(81, 263).lower, 0.2553);
  close(wilson(81, 263).upper, 0.3662);
  close(wilson(15, 148).lower, 0.0624);
  close(wilson(15, 148).upper, 0.1605);
  assert.equal(wilson(0, 20).lower, 0);
  close(wilson(0, 20).upper, 0.1611);
  close(wilson(1, 29).lower, 0.0061);
  close(wilson(1, 29).upper, 0.1718);
  assert.equal(wilson(10, 10).upper, 1);
  assert.deepEqual(wilson(0, 0), { lower: 0, upper: 1 });
  assert.throws(() => wilson(11, 10));
});

test("Newcombe's difference interval equals the paper's example", () => {
  // Newcombe (1998), Table II, example (a), method 10: 56/70 − 48/80 = 0.2000, 0.0524 to 0.3339.
  const d = newcombeDifference(56, 70, 48, 80);
  close(d.difference, 0.2);
  close(d.lower, 0.0524);
  close(d.upper, 0.3339);
  // Example (b) 9/10 − 3/10: 0.6000, 0.1705 to 0.8090.
  const e = newcombeDifference(9, 10, 3, 10);
  close(e.lower, 0.1705);
  close(e.upper, 0.809);
});

test('formatting: 90.6 % (84.9–94.9) and signed differences', () => {
  assert.equal(formatProportion(45, 50), '90.0 % (78.6–95.7)');
  assert.equal(formatProportion(87, 96), '90.6 % (83.1–95.0)');
  assert.equal(formatDifference(newcombeDifference(56, 70, 48, 80)), '+20.0 pp (+5.2 to +33.4)');
  assert.equal(formatDifference(newcombeDifference(48, 80, 56, 70)), '−20.0 pp (−33.4 to −5.2)');
});

test('mean and sample standard deviation', () => {
  const { mean, sd } = meanSd([2, 4, 4, 4, 5, 5, 7, 9]);
  close(mean, 5);
  close(sd, Math.sqrt(32 / 7));
  assert.ok(Number.isNaN(meanSd([1]).sd));
});
