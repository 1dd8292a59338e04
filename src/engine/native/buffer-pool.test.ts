/**
 * The native backend's recycled output buffers (buffer-pool.ts): a disposed kernel output's
 * buffer goes to the next output of its length, but never while anything can still see it
 * (values handed out by a read, a view that outlives the tensor it was cut from).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { prepareForTraining, useBackend } from '../backend.js';
import { tf } from '../tf.js';
import { POOL_MAX_BYTES, POOLED_MIN_LENGTH, pooledBytes, poolLimit, setPoolLimit, TRAINING_POOL_MAX_BYTES } from './buffer-pool.js';
import { loadAddon, type NativeAddon } from './addon.js';
import type { NativeBackend } from './native-backend.js';
import { registerNativeBackend } from './register.js';

const skip = (await registerNativeBackend()) ?? false;
const SHAPE = [4, 32, 32, 4]; // 16,384 floats: pooled
/** The buffer behind a tensor, looked up without reading it (a read would take it out of the pool). */
const bufferOf = (t: tf.Tensor) => ((tf.backend() as NativeBackend).data.get(t.dataId).values as Float32Array).buffer;
const ramp = () =>
  tf.tensor(
    Float32Array.from({ length: 16384 }, (_, i) => (i % 97) - 48),
    SHAPE,
  );

describe('native backend buffer pool', { skip }, () => {
  before(async () => {
    await useBackend('native', { quiet: true });
    assert.ok(16384 >= POOLED_MIN_LENGTH);
  });

  test("a disposed output's buffer is the next output of the same length", () => {
    const x = ramp();
    const a = tf.relu(x);
    const buffer = bufferOf(a);
    const free = pooledBytes();
    a.dispose();
    assert.equal(pooledBytes(), free + 16384 * 4);
    const b = tf.neg(x);
    assert.equal(bufferOf(b), buffer, 'the buffer was not recycled');
    assert.equal(b.dataSync()[0], 48);
    tf.dispose([x, b]);
  });

  test('values handed out by a read stay as they were after the tensor is disposed', async () => {
    const x = ramp();
    const a = tf.relu(x);
    const synced = a.dataSync();
    const b = tf.relu(x);
    const awaited = await b.data();
    const expected = Float32Array.from({ length: 16384 }, (_, i) => Math.max(0, (i % 97) - 48));
    tf.dispose([a, b]);
    const others = [tf.neg(x), tf.neg(x), tf.neg(x)]; // would land in a's and b's buffers if they were recycled
    assert.deepEqual(synced, expected);
    assert.deepEqual(awaited, expected);
    assert.ok(others.every((o) => bufferOf(o) !== synced.buffer && bufferOf(o) !== awaited.buffer));
    tf.dispose([x, ...others]);
  });

  test('a view cut from an output keeps its buffer out of the pool until the view is gone', () => {
    const x = ramp();
    const a = tf.relu(x);
    const view = tf.slice(a, [0, 0, 0, 0], [2, 32, 32, 4]); // contiguous: a view of a's buffer
    assert.equal(bufferOf(view), bufferOf(a));
    const buffer = bufferOf(a);
    a.dispose();
    const b = tf.neg(x);
    assert.notEqual(bufferOf(b), buffer, 'the buffer was recycled while a view of it was alive');
    assert.deepEqual(
      view.dataSync(),
      Float32Array.from({ length: 8192 }, (_, i) => Math.max(0, (i % 97) - 48)),
    );
    tf.dispose([x, b, view]);
  });

  test('small outputs are not pooled', () => {
    const x = tf.tensor(Float32Array.from({ length: 64 }, (_, i) => i - 32));
    const free = pooledBytes();
    tf.relu(x).dispose();
    assert.equal(pooledBytes(), free);
    x.dispose();
  });

  test('a lower limit lets free buffers go until they fit; training raises it to a step of activations', {
    skip: process.env.VISEMO_BUFFER_POOL_MB ? 'VISEMO_BUFFER_POOL_MB fixes the limit' : false,
  }, async () => {
    const x = ramp();
    const outs = [tf.relu(x), tf.neg(x), tf.abs(x)];
    tf.dispose(outs);
    assert.ok(pooledBytes() >= 3 * 16384 * 4);
    try {
      setPoolLimit(16384 * 4);
      assert.ok(pooledBytes() <= 16384 * 4, `${pooledBytes()} bytes still pooled`);
      setPoolLimit(0);
      assert.equal(pooledBytes(), 0);
      tf.relu(x).dispose();
      assert.equal(pooledBytes(), 0, 'nothing is pooled beyond the limit');
      await prepareForTraining();
      assert.equal(poolLimit(), TRAINING_POOL_MAX_BYTES);
      assert.ok(TRAINING_POOL_MAX_BYTES > POOL_MAX_BYTES);
      tf.relu(x).dispose();
      assert.equal(pooledBytes(), 16384 * 4);
    } finally {
      // Back to inference's settings: prepareForTraining also turned blocked layouts on.
      setPoolLimit(POOL_MAX_BYTES);
      (loadAddon() as NativeAddon).setBlockedActivations(false);
      x.dispose();
    }
  });
});
