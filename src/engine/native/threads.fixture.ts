/**
 * For threads.test.ts: on the native backend, `rounds` times a 3×3 convolution, a depthwise
 * convolution and a convolution's input gradient (weights in oneDNN's blocked layouts) of inputs
 * drawn from `seed`; each round's three output checksums.
 */
import { useBackend } from '../backend.js';
import { tf } from '../tf.js';
import { createRng } from '../../util/random.js';

export async function convRounds(seed: number, rounds: number): Promise<number[]> {
  await useBackend('native', { quiet: true });
  const rng = createRng(seed);
  const rand = (shape: number[]) =>
    tf.tensor(
      Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rng() - 0.5),
      shape,
    );
  const x = rand([2, 24, 24, 32]);
  const w = rand([3, 3, 32, 64]);
  const dw = rand([3, 3, 32, 1]);
  const dy = rand([2, 24, 24, 64]);
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const sums = tf.tidy(() => [
      tf
        .conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same')
        .abs()
        .sum(),
      tf
        .depthwiseConv2d(x as tf.Tensor4D, dw as tf.Tensor4D, 1, 'same')
        .abs()
        .sum(),
      tf
        .conv2dTranspose(dy as tf.Tensor4D, w as tf.Tensor4D, [2, 24, 24, 32], 1, 'same')
        .abs()
        .sum(),
    ]);
    for (const s of sums) out.push((await s.data())[0]!); // a scalar sum: one value
    tf.dispose(sums);
  }
  tf.dispose([x, w, dw, dy]);
  return out;
}
