/**
 * Fresh dropout masks at every training step. tfjs-layers hands a Dropout layer's seed to
 * tfjs-core's dropout at every call, and a seeded call draws the same mask each time: a seeded
 * model would drop the same units at every step, a fixed pruning rather than dropout. While one
 * step runs, each seeded Dropout layer carries a seed mixed from its own and the step's index, so
 * masks differ from step to step and a resumed run draws the masks an uninterrupted one would.
 * The layer's own seed is put back after the step, so a saved model's config is unchanged.
 */
import type { tf } from '../engine/tf.js';

interface SeededLayer {
  seed?: number;
}

/** The seed a layer with seed `seed` uses at global step `step` (a 32-bit mix of both). */
export function stepSeed(seed: number, step: number): number {
  let h = Math.imul((seed ^ 0x9e3779b9) >>> 0, 0x85ebca6b) >>> 0;
  h = Math.imul((h ^ step ^ (h >>> 13)) >>> 0, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Runs one training step with every seeded Dropout layer of `model` on its per-step seed. */
export async function withStepDropout<T>(model: tf.LayersModel, step: number, run: () => Promise<T>): Promise<T> {
  const layers = model.layers.filter(
    (l) => l.getClassName() === 'Dropout' && typeof (l as unknown as SeededLayer).seed === 'number',
  ) as unknown as SeededLayer[];
  const own = layers.map((l) => l.seed!);
  layers.forEach((l, i) => (l.seed = stepSeed(own[i]!, step)));
  try {
    return await run();
  } finally {
    layers.forEach((l, i) => (l.seed = own[i]));
  }
}
