import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../util/random.js';
import { applyCalibration, fitClassOffsets } from './calibration.js';

test('offsets multiply each probability by exp(b) and renormalise', () => {
  const p = applyCalibration([0.5, 0.25, 0.25], [0, Math.log(2), 0]);
  // [0.5, 0.5, 0.25] / 1.25
  [0.4, 0.4, 0.2].forEach((v, k) => assert.ok(Math.abs(p[k]! - v) < 1e-6, `${k}: ${p[k]}`));
});

/** Balanced labels; a model whose log-probabilities carry a prior shift `shift` on top of the true posterior. */
function shiftedModel(shift: number[], perClass: number, seed: number) {
  const rng = createRng(seed);
  const k = shift.length;
  const probs: Float32Array[] = [];
  const labels: number[] = [];
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < perClass; i++) {
      // Box–Muller noise on each logit, the true class raised by 1.5.
      const z = shift.map((s, j) => s + (j === c ? 1.5 : 0) + Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()));
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const sum = e.reduce((a, v) => a + v, 0);
      probs.push(Float32Array.from(e.map((v) => v / sum)));
      labels.push(c);
    }
  }
  return { probs, labels };
}

test('the balanced fit undoes a prior shift (a model that over-answers one class)', () => {
  const shift = [Math.log(4), 0, 0, -0.5];
  const { probs, labels } = shiftedModel(shift, 800, 7);
  const b = fitClassOffsets(probs, labels, 4, { balanced: true });
  const centred = shift.map((s) => s - shift.reduce((a, v) => a + v, 0) / 4);
  b.forEach((v, j) => assert.ok(Math.abs(v + centred[j]!) < 0.15, `offset ${j}: ${v.toFixed(3)}, expected ${(-centred[j]!).toFixed(3)}`));
  assert.ok(Math.abs(b.reduce((a, v) => a + v, 0)) < 1e-9, 'offsets are centred');
  // The over-answered class is predicted about as often as it occurs once calibrated.
  const count0 = (ps: ArrayLike<number>[]) => ps.filter((p) => Array.from(p).indexOf(Math.max(...Array.from(p))) === 0).length;
  const before = count0(probs);
  const after = count0(probs.map((p) => applyCalibration(p, b)));
  assert.ok(before > 1.6 * 800, `shifted model answers class 0 ${before} times`);
  assert.ok(after < 1.2 * 800 && after > 0.8 * 800, `calibrated: ${after} times for 800 images`);
});

test('a class without validation images cannot be fitted', () => {
  assert.throws(() => fitClassOffsets([Float32Array.from([0.5, 0.5])], [0], 2, { balanced: true }), /no validation image of class 1/);
});
