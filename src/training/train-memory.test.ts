/** trainRun frees what it allocates (model, optimizer, class weights, checkpoint tensors), also when an epoch diverges. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { tf } from '../engine/tf.js';
import { CKPLUS, hasShared, linkSubset, tempDir } from '../../test/helpers.js';
import { trainRun } from './train.js';

const skip = hasShared ? false : 'needs ../shared/datasets/ckplus48';

test('trainRun leaves no tensors behind: after a run, after its resume, after a run that diverges', { skip }, async () => {
  const data = await linkSubset(CKPLUS, ['happiness', 'surprise'], 10);
  const recipe = { size: 16, seed: 2, batchSize: 8, learningRate: 1e-3, channels: 1 as const, classWeights: 'balanced' as const };
  // A first run warms what tfjs keeps for good (backend, kernels' constants), so only leaks count below.
  await trainRun({ data, out: path.join(tempDir(), 'warm'), backend: 'wasm', recipe: { ...recipe, epochs: 1 } });
  const before = tf.memory().numTensors;
  const out = path.join(tempDir(), 'run');
  await trainRun({ data, out, backend: 'wasm', recipe: { ...recipe, epochs: 2 } });
  assert.equal(tf.memory().numTensors, before, 'tensors left by a run');
  await trainRun({ data, out, backend: 'wasm', recipe: { ...recipe, epochs: 3 }, resume: true });
  assert.equal(tf.memory().numTensors, before, 'tensors left by a resumed run');
  await assert.rejects(
    trainRun({ data, out: path.join(tempDir(), 'nan'), backend: 'wasm', recipe: { ...recipe, epochs: 1, learningRate: 1e9 } }),
    /training diverged at epoch 1/,
  );
  assert.equal(tf.memory().numTensors, before, 'tensors left by a diverged run');
});
