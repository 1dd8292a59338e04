import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useBackend, type BackendName } from '../engine/backend.js';
import { tf } from '../engine/tf.js';
import { loadAddon } from '../engine/native/addon.js';
import { buildModel } from './architectures.js';
import { buildVisemoNet } from './visemo-net.js';

test('visemo net: under a million parameters and 6 MB of weights, any size from 16 up', async () => {
  await useBackend('cpu', { quiet: true });
  for (const size of [16, 48, 64]) {
    const model = buildVisemoNet({ size, numClasses: 6, channels: 1 });
    // Global average pooling: the parameter count does not grow with the input size.
    assert.equal(model.countParams(), 842_598, `size ${size}`);
    const bytes = model.getWeights().reduce((n, w) => n + w.size * 4, 0);
    assert.ok(bytes < 6 * 1024 * 1024, `${bytes} bytes of weights`);
    const out = tf.tidy(() => (model.predict(tf.zeros([2, size, size, 1])) as tf.Tensor).shape);
    assert.deepEqual(out, [2, 6]);
    model.dispose();
  }
  assert.throws(() => buildVisemoNet({ size: 15, numClasses: 6 }), /at least 16/);
});

test('architecture registry: paper stays the paper CNN; the same seed gives the same weights', async () => {
  await useBackend('cpu', { quiet: true });
  const paper = buildModel({ arch: 'paper', size: 50, numClasses: 6, channels: 3 });
  assert.equal(paper.countParams(), 1_274_694);
  paper.dispose();
  const a = buildModel({ arch: 'visemo', size: 24, numClasses: 6, channels: 1, seed: 7 });
  const b = buildModel({ arch: 'visemo', size: 24, numClasses: 6, channels: 1, seed: 7 });
  const wa = a.getWeights().map((w) => Array.from(w.dataSync()));
  const wb = b.getWeights().map((w) => Array.from(w.dataSync()));
  assert.deepEqual(wa, wb);
  // Different layers get different kernels (one seed per layer, not one for all).
  assert.notDeepEqual(wa[0]!.slice(0, 9), wa[2]!.slice(0, 9));
  a.dispose();
  b.dispose();
  assert.throws(() => buildModel({ arch: 'resnet' as 'paper', size: 24, numClasses: 6, channels: 1 }), /unknown architecture 'resnet'/);
});

/** A few Adam steps on one fixed batch: the loss must fall well below its start. */
async function lossFallsOn(backend: BackendName): Promise<void> {
  assert.equal(await useBackend(backend, { quiet: true }), backend);
  const model = buildVisemoNet({ size: 16, numClasses: 3, channels: 1, seed: 3 });
  model.compile({ optimizer: tf.train.adam(3e-3), loss: 'categoricalCrossentropy' });
  const x = tf.tidy(() => tf.concat([tf.zeros([4, 16, 16, 1]), tf.ones([4, 16, 16, 1]), tf.linspace(-1, 1, 4 * 256).reshape([4, 16, 16, 1])]));
  const y = tf.oneHot(tf.tensor1d([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2], 'int32'), 3).toFloat();
  const losses: number[] = [];
  for (let i = 0; i < 12; i++) losses.push((await model.trainOnBatch(x, y)) as number);
  tf.dispose([x, y]);
  model.dispose();
  assert.ok(losses.every(Number.isFinite), `${backend}: losses ${losses}`);
  assert.ok(losses.at(-1)! < losses[0]! * 0.5, `${backend}: loss ${losses[0]} → ${losses.at(-1)}`);
}

test('visemo net trains on wasm (batch-norm gradients from tfjs ops, conv gradients from wasm-conv-grads)', async () => {
  await lossFallsOn('wasm');
});

test('visemo net trains on native', { skip: typeof loadAddon() === 'string' ? 'native addon not built' : false }, async () => {
  await lossFallsOn('native');
});
