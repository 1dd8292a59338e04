import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useBackend } from '../engine/backend.js';
import { tf } from '../engine/tf.js';
import { stepSeed, withStepDropout } from './dropout-masks.js';

function seededDropoutModel(): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.dropout({ rate: 0.5, seed: 11, inputShape: [64] }));
  return model;
}

async function maskAt(model: tf.LayersModel, step: number): Promise<number[]> {
  return withStepDropout(model, step, async () => {
    const out = tf.tidy(() => model.layers[0]!.apply(tf.ones([1, 64]), { training: true }) as tf.Tensor);
    const values = Array.from(out.dataSync());
    out.dispose();
    return values;
  });
}

for (const backend of ['cpu', 'native'] as const) {
  test(`a seeded Dropout layer draws a fresh mask at every step and the same mask for the same step (${backend})`, async (t) => {
    if (
      !(await useBackend(backend, { quiet: true }).then(
        () => true,
        () => false,
      ))
    )
      return t.skip(`${backend} backend unavailable`);
    const model = seededDropoutModel();
    const a = await maskAt(model, 0);
    const b = await maskAt(model, 1);
    const again = await maskAt(model, 0);
    assert.deepEqual(again, a, 'a resumed run replays the mask of a step');
    assert.notDeepEqual(b, a, 'step 1 drops other units than step 0');
    const dropped = a.filter((v) => v === 0).length;
    assert.ok(dropped > 16 && dropped < 48, `about half dropped, got ${dropped} of 64`);
    // The layer's own seed is back after the step, so a saved config is the one the model was built with.
    assert.equal((model.layers[0]!.getConfig() as { seed?: number }).seed, 11);
  });
}

test('stepSeed differs between steps and between layer seeds', () => {
  const seeds = new Set<number>();
  for (const seed of [1, 2, 3]) for (let step = 0; step < 1000; step++) seeds.add(stepSeed(seed, step));
  assert.equal(seeds.size, 3000);
});
