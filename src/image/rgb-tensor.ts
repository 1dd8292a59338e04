/** Raw images into the tensor the face detectors take. */
import { tf } from '../engine/tf.js';
import type { RawImage } from './geometry.js';

/** An int32 [h, w, 3] tensor of a raw image (gray repeated, alpha dropped), as the detectors take it (0–255). */
export function toRgbTensor(image: RawImage) {
  const { data, width, height, channels } = image;
  if (data.length !== width * height * channels) {
    throw new Error(`image data has ${data.length} bytes, expected ${width}x${height}x${channels}`);
  }
  return tf.tidy(() => {
    const t = tf.tensor3d(Int32Array.from(data), [height, width, channels], 'int32');
    if (channels === 3) return t;
    if (channels === 4) return tf.slice(t, [0, 0, 0], [height, width, 3]);
    return tf.tile(t, [1, 1, 3]);
  });
}
