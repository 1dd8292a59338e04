import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useBackend } from '../engine/backend.js';
import { tf } from '../engine/tf.js';
import { classWeightValues, weightedCrossentropy } from './loss.js';
import { mixTargets } from './teacher.js';

test('class weights: balanced n/(k·n_c), sqrt its root, none all 1', () => {
  const labels = [0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2];
  assert.deepEqual(classWeightValues(labels, 3, 'none'), [1, 1, 1]);
  assert.deepEqual(classWeightValues(labels, 3, 'balanced'), [12 / 18, 12 / 6, 12 / 12]);
  assert.deepEqual(classWeightValues(labels, 3, 'sqrt'), [Math.sqrt(12 / 18), Math.sqrt(2), 1]);
  assert.deepEqual(classWeightValues([0, 0, 2], 3, 'balanced'), [3 / 4, 0, 3 / 2], 'an absent class weighs 0 and is not counted in k');
});

test('label smoothing moves ε of the mass evenly; the weighted loss scales each example by its class weight', async () => {
  await useBackend('cpu', { quiet: true });
  const y = tf.tensor2d([
    [1, 0, 0, 0],
    [0, 0, 1, 0],
  ]);
  // Smoothing is part of the batch targets (teacher.ts's mixTargets, with no teacher here).
  assert.deepEqual(
    Array.from(mixTargets(Int32Array.from([0, 2]), 4, 0.2, null, [0, 1])).map((v) => Number(v.toFixed(6))),
    [0.85, 0.05, 0.05, 0.05, 0.05, 0.05, 0.85, 0.05],
  );
  assert.deepEqual(Array.from(mixTargets(Int32Array.from([0, 2]), 4, 0, null, [0, 1])), Array.from(y.dataSync()));

  const p = tf.tensor2d([
    [0.7, 0.1, 0.1, 0.1],
    [0.25, 0.25, 0.25, 0.25],
  ]);
  const w = tf.tensor1d([2, 1, 3, 1]);
  const loss = Array.from(weightedCrossentropy(w)(y, p).dataSync());
  assert.ok(Math.abs(loss[0]! - 2 * -Math.log(0.7)) < 1e-5, `${loss}`);
  assert.ok(Math.abs(loss[1]! - 3 * -Math.log(0.25)) < 1e-5, `${loss}`);
  const plain = Array.from(weightedCrossentropy(tf.ones([4]) as tf.Tensor1D)(y, p).dataSync());
  const reference = Array.from(tf.metrics.categoricalCrossentropy(y, p).dataSync());
  plain.forEach((v, i) => assert.ok(Math.abs(v - reference[i]!) < 1e-5, 'unit weights give the plain cross-entropy'));
  tf.dispose([y, p, w]);
});
