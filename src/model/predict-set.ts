/** Class probabilities for a decoded set: shared by validation, evaluate, compare and the recogniser. */
import { tf } from '../engine/tf.js';
import { batchInput, type DecodedSet } from '../data/decoded-set.js';
import type { RunMetadata } from './run-folder.js';

/**
 * Class probabilities for every image of `set`, in batches, as one [n, classes] array. With `tta`
 * (test-time augmentation) each image's probabilities are the mean over it and its mirror image.
 */
export function predictSet(
  model: tf.LayersModel,
  set: DecodedSet,
  norm: RunMetadata['normalisation'],
  channels: 1 | 3,
  batch = 128,
  tta = false,
): Float32Array[] {
  const out: Float32Array[] = [];
  for (let i = 0; i < set.labels.length; i += batch) {
    const idx = Array.from({ length: Math.min(batch, set.labels.length - i) }, (_, k) => i + k);
    const probs = tf.tidy(() => {
      const x = batchInput(set, idx, norm, channels);
      const p = model.predict(x) as tf.Tensor2D;
      // Axis 2 of NHWC is the width: reversing it mirrors every image left–right.
      return tta ? (tf.div(tf.add(p, model.predict(tf.reverse(x, 2)) as tf.Tensor2D), 2) as tf.Tensor2D) : p;
    });
    const data = probs.dataSync() as Float32Array;
    const k = probs.shape[1];
    for (let r = 0; r < idx.length; r++) out.push(data.slice(r * k, (r + 1) * k));
    probs.dispose();
  }
  return out;
}
