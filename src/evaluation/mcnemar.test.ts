import assert from 'node:assert/strict';
import { test } from 'node:test';
import { binomialHalfCdf, formatP, mcnemarExact, mcnemarFromPredictions } from './mcnemar.js';

const close = (x: number, y: number, tol = 1e-9) => assert.ok(Math.abs(x - y) < tol, `${x} != ${y}`);

test('exact McNemar p-values equal hand-computed binomial tails', () => {
  // b=5, c=15: 2·P(X ≤ 5 | 20, ½) = 2·21700/2^20.
  close(mcnemarExact(5, 15).p, (2 * 21700) / 2 ** 20);
  close(mcnemarExact(15, 5).p, (2 * 21700) / 2 ** 20);
  // 0 of 5 discordant the other way: 2/32.
  close(mcnemarExact(0, 5).p, 0.0625);
  // 1 vs 6: 2·(1 + 7)/128.
  close(mcnemarExact(1, 6).p, 0.125);
  // Balanced tables and no discordant images: p = 1.
  assert.equal(mcnemarExact(4, 4).p, 1);
  assert.equal(mcnemarExact(0, 0).p, 1);
  // scipy.stats.binomtest(2, 12).pvalue = 0.03857421875 (= 2·79/4096).
  close(mcnemarExact(2, 10).p, 0.03857421875);
});

test('large tables do not underflow', () => {
  // 500 vs 600 discordant: a normal approximation gives p ≈ 0.0027.
  const p = mcnemarExact(500, 600).p;
  assert.ok(p > 0.001 && p < 0.005, String(p));
  close(binomialHalfCdf(1000, 2000) + binomialHalfCdf(999, 2000), 1, 1e-9);
});

test('McNemar from predictions counts the discordant images', () => {
  const truth = [0, 1, 2, 0, 1, 2, 0, 1];
  const a = [0, 1, 2, 0, 0, 0, 0, 0]; // right on 0–3 and 6
  const b = [0, 0, 0, 0, 1, 2, 1, 1]; // right on 0, 3, 4, 5, 7
  const r = mcnemarFromPredictions(truth, a, b);
  assert.equal(r.b, 3); // 1, 2, 6
  assert.equal(r.c, 3); // 4, 5, 7
  assert.equal(r.p, 1);
  assert.equal(formatP(0.04139), '0.041');
  assert.equal(formatP(0.00012), '0.0001');
  assert.equal(formatP(1e-7), '< 0.0001');
});
