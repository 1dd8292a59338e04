/**
 * A short training run of the paper's CNN gives the same loss curve on the native backend as on
 * the wasm backend (same seeded weights, data and dropout masks). wasm is the reference here
 * because the CPU backend's filter gradient takes seconds per step even at this size; the
 * kernel-by-kernel comparison with the CPU backend is in kernels.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useBackend } from '../backend.js';
import { tf } from '../tf.js';
import { ADAM_KERNEL, DROPOUT_MASK_KERNEL, RELU_GRAD_KERNEL } from './kernels-training.js';
import { fallbackCounts, registerNativeBackend } from './register.js';
import { buildPaperCnn } from '../../model/paper-cnn.js';
import { createRng } from '../../util/random.js';

const unavailable = await registerNativeBackend();

const SIZE = 12;
const BATCH = 8;
const STEPS = 5;
const CLASSES = 6;

/** Losses of STEPS training steps, and the kernels the first step ran. */
async function lossCurve(backend: 'native' | 'wasm', dropout: number): Promise<{ losses: number[]; kernels: Set<string> }> {
  await useBackend(backend, { quiet: true });
  const rng = createRng(7);
  const pixels = Float32Array.from({ length: BATCH * SIZE * SIZE * 3 }, () => rng());
  const labels = Int32Array.from({ length: BATCH }, (_, i) => i % CLASSES);
  const model = buildPaperCnn({ size: SIZE, numClasses: CLASSES, seed: 11, dropout });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const x = tf.tensor4d(pixels, [BATCH, SIZE, SIZE, 3]);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES);
  const losses: number[] = [];
  const first = await tf.profile(async () => {
    losses.push(Number(await model.trainOnBatch(x, y)));
  });
  for (let i = 1; i < STEPS; i++) losses.push(Number(await model.trainOnBatch(x, y)));
  tf.dispose([x, y]);
  model.dispose();
  return { losses, kernels: new Set(first.kernels.map((k) => k.name)) };
}

function maxRelativeGap(a: number[], b: number[]): number {
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]) / Math.abs(b[i])));
}

test('training the paper CNN gives the same loss curve on native and wasm', { skip: unavailable ?? false }, async () => {
  const before = [...fallbackCounts().values()].reduce((a, b) => a + b, 0);
  const { losses: native, kernels } = await lossCurve('native', 0);
  for (const k of ['FusedConv2D', RELU_GRAD_KERNEL, ADAM_KERNEL]) assert.ok(kernels.has(k), `the native step ran ${k}: ${[...kernels].join(', ')}`);
  assert.ok(!kernels.has('Conv2D'), 'conv + bias + relu stay one fused kernel while training');
  const convFallbacks = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'MaxPool', 'MaxPoolGrad'].map((k) => fallbackCounts().get(k) ?? 0);
  assert.deepEqual(convFallbacks, [0, 0, 0, 0, 0, 0], 'convolution and pooling kernels must all run natively');
  const { losses: reference } = await lossCurve('wasm', 0);
  assert.ok(native[STEPS - 1] < native[0] * 0.95, `loss should fall over ${STEPS} steps: ${native.join(', ')}`);
  const gap = maxRelativeGap(native, reference);
  assert.ok(gap < 1e-4, `native ${native.join(', ')} vs wasm ${reference.join(', ')}: relative gap ${gap.toExponential(2)}`);
  // Only the tiny loss-side broadcasts ([N,6] / [N,1]) may take the CPU kernels.
  const after = [...fallbackCounts().values()].reduce((a, b) => a + b, 0);
  assert.ok(after - before <= 8 * STEPS, `too many fallbacks to the CPU kernels: ${after - before}`);
});

test('with the paper\'s dropout (native masks differ from tfjs\' own) the curves stay close', { skip: unavailable ?? false }, async () => {
  const { losses: native, kernels } = await lossCurve('native', 0.1);
  assert.ok(kernels.has(DROPOUT_MASK_KERNEL), 'the native step drew its dropout mask natively');
  const { losses: reference } = await lossCurve('wasm', 0.1);
  assert.ok(native[STEPS - 1] < native[0] * 0.95, `loss should fall over ${STEPS} steps: ${native.join(', ')}`);
  const gap = maxRelativeGap(native, reference);
  assert.ok(gap < 0.05, `native ${native.join(', ')} vs wasm ${reference.join(', ')}: relative gap ${gap.toExponential(2)}`);
});
