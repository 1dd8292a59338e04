/**
 * A short training run of the paper's CNN gives the same loss curve on the native backend as on
 * the wasm backend (same seeded weights, data and dropout masks). wasm is the reference here
 * because the CPU backend's filter gradient takes seconds per step even at this size; the
 * kernel-by-kernel comparison with the CPU backend is in kernels.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prepareForTraining, useBackend } from '../backend.js';
import { loadAddon, type NativeAddon } from './addon.js';
import { POOL_MAX_BYTES, setPoolLimit } from './buffer-pool.js';
import { tf } from '../tf.js';
import { BATCH_NORM_GRAD_KERNEL, BATCH_NORM_TRAIN_KERNEL } from './kernels-batchnorm.js';
import { ADAM_KERNEL, DROPOUT_KERNEL, RELU_GRAD_BIAS_KERNEL } from './kernels-training.js';
import { fallbackCounts, registerNativeBackend } from './register.js';
import { setFusedBatchNorm } from './training-patches.js';
import { buildPaperCnn } from '../../model/paper-cnn.js';
import { buildVisemoNet } from '../../model/visemo-net.js';
import { createRng } from '../../util/random.js';

const unavailable = await registerNativeBackend();

const SIZE = 12;
const BATCH = 8;
const STEPS = 5;
const CLASSES = 6;

/** Runs `body` set up as `visemo train` runs (native: blocked convolution layouts, the training buffer pool). */
async function asTraining<T>(body: () => Promise<T>): Promise<T> {
  await useBackend('native', { quiet: true });
  await prepareForTraining();
  try {
    return await body();
  } finally {
    (loadAddon() as NativeAddon).setBlockedActivations(false);
    setPoolLimit(POOL_MAX_BYTES);
  }
}

/** Losses of STEPS training steps, and the kernels the first step ran. */
async function lossCurve(
  backend: 'native' | 'wasm' | 'cpu',
  dropout: number,
  arch: 'paper' | 'visemo' = 'paper',
): Promise<{ losses: number[]; kernels: Set<string> }> {
  await useBackend(backend, { quiet: true });
  const rng = createRng(7);
  const size = arch === 'paper' ? SIZE : 16;
  const channels = arch === 'paper' ? 3 : 1;
  const pixels = Float32Array.from({ length: BATCH * size * size * channels }, () => rng());
  const labels = Int32Array.from({ length: BATCH }, (_, i) => i % CLASSES);
  const model =
    arch === 'paper'
      ? buildPaperCnn({ size, numClasses: CLASSES, seed: 11, dropout })
      : buildVisemoNet({ size, numClasses: CLASSES, channels: 1, seed: 11, dropout });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const x = tf.tensor4d(pixels, [BATCH, size, size, channels]);
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
  assert.equal(a.length, b.length, 'curves of the same length');
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!) / Math.abs(b[i]!)));
}

test('training the paper CNN gives the same loss curve on native and wasm', { skip: unavailable ?? false }, async () => {
  const before = [...fallbackCounts().values()].reduce((a, b) => a + b, 0);
  const { losses: native, kernels } = await lossCurve('native', 0);
  for (const k of ['FusedConv2D', RELU_GRAD_BIAS_KERNEL, ADAM_KERNEL]) assert.ok(kernels.has(k), `the native step ran ${k}: ${[...kernels].join(', ')}`);
  assert.ok(!kernels.has('Conv2D'), 'conv + bias + relu stay one fused kernel while training');
  const convFallbacks = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'MaxPool', 'MaxPoolGrad'].map(
    (k) => fallbackCounts().get(k) ?? 0,
  );
  assert.deepEqual(convFallbacks, [0, 0, 0, 0, 0, 0], 'convolution and pooling kernels must all run natively');
  const { losses: reference } = await lossCurve('wasm', 0);
  assert.ok(native[STEPS - 1]! < native[0]! * 0.95, `loss should fall over ${STEPS} steps: ${native.join(', ')}`);
  const gap = maxRelativeGap(native, reference);
  assert.ok(gap < 1e-4, `native ${native.join(', ')} vs wasm ${reference.join(', ')}: relative gap ${gap.toExponential(2)}`);
  // Only the tiny loss-side broadcasts ([N,6] / [N,1]) may take the CPU kernels.
  const after = [...fallbackCounts().values()].reduce((a, b) => a + b, 0);
  assert.ok(after - before <= 8 * STEPS, `too many fallbacks to the CPU kernels: ${after - before}`);
});

test('set up as visemo train runs it (blocked layouts), the paper CNN gives the same loss curve as on wasm', { skip: unavailable ?? false }, async () => {
  const { losses: native } = await asTraining(() => lossCurve('native', 0));
  const { losses: reference } = await lossCurve('wasm', 0);
  const gap = maxRelativeGap(native, reference);
  assert.ok(gap < 1e-4, `native ${native.join(', ')} vs wasm ${reference.join(', ')}: relative gap ${gap.toExponential(2)}`);
});

test("with the paper's dropout (native masks differ from tfjs' own) the curves stay close", { skip: unavailable ?? false }, async () => {
  const { losses: native, kernels } = await lossCurve('native', 0.1);
  assert.ok(kernels.has(DROPOUT_KERNEL), 'the native step ran dropout natively');
  const { losses: reference } = await lossCurve('wasm', 0.1);
  assert.ok(native[STEPS - 1]! < native[0]! * 0.95, `loss should fall over ${STEPS} steps: ${native.join(', ')}`);
  const gap = maxRelativeGap(native, reference);
  assert.ok(gap < 0.05, `native ${native.join(', ')} vs wasm ${reference.join(', ')}: relative gap ${gap.toExponential(2)}`);
});

// The reference is tfjs-layers' own batch norm (moments, batchNorm and their tfjs gradients) on
// the same backend, whose kernels kernels.test.ts compares with the CPU backend's one by one: the
// CPU backend itself needs minutes for these steps on a busy machine, and wasm's curve drifts
// from both after the first step. the test below checks one step's gradients against the CPU backend.
test("training the visemo net with the fused batch norm gives the same loss curve as with tfjs' own", { skip: unavailable ?? false }, async () => {
  const { losses: fused, kernels } = await lossCurve('native', 0, 'visemo');
  for (const k of [BATCH_NORM_TRAIN_KERNEL, BATCH_NORM_GRAD_KERNEL, RELU_GRAD_BIAS_KERNEL])
    assert.ok(kernels.has(k), `the native step ran ${k}: ${[...kernels].join(', ')}`);
  for (const k of ['FusedBatchNorm', 'SquaredDifference', 'Tile']) assert.ok(!kernels.has(k), `the native step still ran tfjs' ${k}`);
  setFusedBatchNorm(false);
  try {
    const { losses: reference, kernels: refKernels } = await lossCurve('native', 0, 'visemo');
    assert.ok(
      refKernels.has('FusedBatchNorm') && !refKernels.has(BATCH_NORM_TRAIN_KERNEL),
      `the reference ran tfjs-layers' batch norm: ${[...refKernels].join(', ')}`,
    );
    assert.ok(fused[STEPS - 1]! < fused[0]! * 0.95, `loss should fall over ${STEPS} steps: ${fused.join(', ')}`);
    // The loss falls a hundredfold in one step here, so the gap is measured against the curve's
    // scale (its first loss): relative to 0.02 the last digits of float32 rounding are 1e-4.
    const gap = Math.max(...fused.map((v, i) => Math.abs(v - reference[i]!))) / reference[0]!;
    assert.ok(gap < 1e-5, `fused ${fused.join(', ')} vs tfjs' batch norm ${reference.join(', ')}: relative gap ${gap.toExponential(2)}`);
  } finally {
    setFusedBatchNorm(true);
  }
});

/** Every trainable variable's gradient of one visemo-net step (batch norm in training mode). */
async function visemoGradients(backend: 'native' | 'cpu'): Promise<{ loss: number; grads: Float32Array[]; kernels: Set<string> }> {
  await useBackend(backend, { quiet: true });
  const rng = createRng(5);
  const [batch, size] = [4, 16];
  const x = tf.tensor4d(
    Float32Array.from({ length: batch * size * size }, () => rng()),
    [batch, size, size, 1],
  );
  const y = tf.oneHot(
    tf.tensor1d(
      Int32Array.from({ length: batch }, (_, i) => i % CLASSES),
      'int32',
    ),
    CLASSES,
  );
  const model = buildVisemoNet({ size, numClasses: CLASSES, channels: 1, seed: 3, dropout: 0 });
  const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
  const f = () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar;
  const { kernels } = await tf.profile(() => f());
  const { value, grads: named } = tf.variableGrads(f, vars);
  const grads = vars.map((v) => Float32Array.from(named[v.name]!.dataSync()));
  const loss = Number(value.dataSync()[0]);
  tf.dispose([x, y, value, ...Object.values(named)]);
  model.dispose();
  return { loss, grads, kernels: new Set(kernels.map((k) => k.name)) };
}

/** Each variable's gradient within 1e-4 of the reference's (max-norm, relative to the reference's largest). */
function assertGradientsMatch(grads: Float32Array[], reference: Float32Array[]): void {
  grads.forEach((g, i) => {
    const r = reference[i]!;
    let diff = 0;
    let scale = 0;
    for (let j = 0; j < r.length; j++) {
      diff = Math.max(diff, Math.abs(g[j]! - r[j]!));
      scale = Math.max(scale, Math.abs(r[j]!));
    }
    assert.ok(scale > 0, `variable ${i}: reference gradient all zeros`);
    assert.ok(diff / scale < 1e-4, `variable ${i}: relative error ${(diff / scale).toExponential(2)}`);
  });
}

test("one visemo-net step: every gradient on native matches the CPU backend's", { skip: unavailable ?? false }, async () => {
  const native = await visemoGradients('native');
  // Its gradient is the one registered for this kernel: VisemoBatchNormGrad.
  assert.ok(native.kernels.has(BATCH_NORM_TRAIN_KERNEL), `native ran ${[...native.kernels].join(', ')}`);
  const reference = await visemoGradients('cpu');
  assert.ok(!reference.kernels.has(BATCH_NORM_TRAIN_KERNEL));
  assert.ok(Math.abs(native.loss - reference.loss) / reference.loss < 1e-5, `loss ${native.loss} vs ${reference.loss}`);
  assertGradientsMatch(native.grads, reference.grads);
});

test("set up as visemo train runs it (blocked layouts), every visemo-net gradient matches the CPU backend's", { skip: unavailable ?? false }, async () => {
  const native = await asTraining(() => visemoGradients('native'));
  const reference = await visemoGradients('cpu');
  assertGradientsMatch(native.grads, reference.grads);
});
