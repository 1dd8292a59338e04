import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useBackend } from '../engine/backend.js';
import { tf } from '../engine/tf.js';
import { COSINE_FLOOR, learningRateAt, parseLrSchedule, setLearningRate } from './schedule.js';

const close = (a: number, b: number) => Math.abs(a - b) < 1e-12 * Math.max(1, Math.abs(b));

test('constant, cosine and step schedules over 10 epochs', () => {
  const rates = (s: 'constant' | 'cosine' | 'step') => Array.from({ length: 10 }, (_, i) => learningRateAt(s, 1e-3, i + 1, 10));
  assert.ok(rates('constant').every((r) => r === 1e-3));
  const cos = rates('cosine');
  assert.equal(cos[0], 1e-3);
  assert.ok(close(cos[9]!, 1e-3 * COSINE_FLOOR));
  assert.ok(
    cos.every((r, i) => i === 0 || r < cos[i - 1]!),
    `not decreasing: ${cos}`,
  );
  assert.ok(close(cos[4]! + cos[5]!, 1e-3 * (1 + COSINE_FLOOR)), 'symmetric about the middle');
  assert.deepEqual(
    rates('step').map((r) => Number(r.toPrecision(6))),
    [1e-3, 1e-3, 1e-3, 1e-3, 1e-4, 1e-4, 1e-4, 1e-5, 1e-5, 1e-5],
  );
  assert.equal(learningRateAt('cosine', 0.01, 1, 1), 0.01);
  assert.throws(() => learningRateAt('cosine', 0.01, 11, 10), /outside 1..10/);
  assert.throws(() => parseLrSchedule('linear'), /--lr-schedule 'linear' is not a schedule/);
});

test("setting Adam's learning rate changes the size of its next steps", async () => {
  await useBackend('cpu', { quiet: true });
  const v = tf.variable(tf.scalar(1));
  const optimizer = tf.train.adam(0.1);
  // Adam's first steps move a parameter by about the learning rate, whatever the gradient's scale.
  const step = () => {
    const before = v.dataSync()[0]!;
    optimizer.minimize(() => tf.mul(v, v) as tf.Scalar);
    return before - v.dataSync()[0]!;
  };
  assert.ok(Math.abs(step() - 0.1) < 1e-3);
  setLearningRate(optimizer, 0.01);
  assert.ok(Math.abs(step() - 0.01) < 1e-3);
  setLearningRate(optimizer, 0);
  assert.equal(step(), 0);
  optimizer.dispose();
  v.dispose();
});
