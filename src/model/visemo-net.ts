/**
 * VisemoNet: our own emotion CNN, built for accuracy at small cost rather than to reproduce the
 * paper. A VGG-style stack of 3×3 convolutions with batch normalisation in four stages (each
 * halving the resolution), global average pooling instead of a large dense layer, dropout, and a
 * softmax classifier: under a million parameters (~3.5 MB of float32 weights) at any input size.
 *
 * Why plain 3×3 convolutions rather than mini-Xception's depthwise-separable ones: here training
 * runs on the 'native' backend, which computes Conv2D and its gradients with oneDNN, while
 * depthwise convolutions (and their gradients) are plain-JS CPU kernels, and the wasm backend has
 * no depthwise gradients at all. Per FLOP a dense 3×3 convolution is far cheaper to train here,
 * and every kernel the net uses has a gradient on native, wasm and cpu.
 *
 * Each convolution carries its bias and ReLU, and each stage ends in batch normalisation
 * (conv → relu → conv → relu → BN → pool): the conv + bias + relu stays one fused native kernel
 * while training.
 */
import { tf } from '../engine/tf.js';

export interface VisemoNetArgs {
  /** Input height and width in pixels (at least 16: four stages each halve it). */
  size: number;
  numClasses: number;
  /** 1 (monochrome, the natural choice) or 3 (monochrome replicated, as the paper's runs). */
  channels?: 1 | 3;
  /** Filters per stage (default 32, 64, 128, 192); every stage has two convolutions. */
  filters?: number[];
  /** Dropout before the classifier (default 0.4). */
  dropout?: number;
  seed?: number;
}

export const VISEMO_NET_FILTERS = [32, 64, 128, 192];
export const VISEMO_NET_MIN_SIZE = 16;

export function buildVisemoNet(args: VisemoNetArgs): tf.LayersModel {
  const { size, numClasses, channels = 1, filters = VISEMO_NET_FILTERS, dropout = 0.4, seed } = args;
  const minSize = 2 ** filters.length;
  if (!Number.isInteger(size) || size < minSize) throw new Error(`input size must be an integer of at least ${minSize} for the visemo net, got ${size}`);
  let k = 0;
  // Seeds differ per layer: the same seed in every initializer would give identical kernels.
  const init = () => tf.initializers.heNormal({ seed: seed === undefined ? undefined : seed + ++k });

  const model = tf.sequential({ name: 'visemo_net' });
  filters.forEach((f, stage) => {
    for (let i = 1; i <= 2; i++) {
      const name = `stage${stage + 1}_conv${i}`;
      model.add(
        tf.layers.conv2d({
          filters: f,
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: init(),
          name,
          ...(stage === 0 && i === 1 ? { inputShape: [size, size, channels] } : {}),
        }),
      );
    }
    // One normalisation per stage, after its second convolution: on these backends batch norm's
    // reductions cost as much as a convolution, and one per stage trains as well here.
    // Momentum 0.9 (Keras: 0.99) lets the inference statistics settle within a short run.
    model.add(tf.layers.batchNormalization({ momentum: 0.9, name: `stage${stage + 1}_bn` }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `stage${stage + 1}_pool` }));
  });
  model.add(tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }));
  model.add(tf.layers.dropout({ rate: dropout, seed, name: 'dropout' }));
  model.add(tf.layers.dense({ units: numClasses, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed }), name: 'predictions' }));
  return model;
}
