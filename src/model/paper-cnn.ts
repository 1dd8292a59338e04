/**
 * The CNN of Iliev & Mote (2022), section 1.4 and Figs. 3.1–3.3, layer for layer and named
 * as Keras names them, so the summary and the saved topology read like the paper's.
 */
import { tf } from '../engine/tf.js';

export interface PaperCnnArgs {
  /** Input height and width in pixels (the paper uses 100, 50 and 20). */
  size: number;
  /** Number of output classes (6 in the paper). */
  numClasses: number;
  /** 3 replicates the monochrome image as the paper did (896 parameters in the first layer); 1 is leaner. */
  channels?: 1 | 3;
  /** Dropout rate after the third convolution (paper: 0.1). */
  dropout?: number;
  seed?: number;
}

export const MIN_INPUT_SIZE = 8;

export function buildPaperCnn(args: PaperCnnArgs): tf.LayersModel {
  const { size, numClasses, channels = 3, dropout = 0.1, seed } = args;
  if (!Number.isInteger(size) || size < MIN_INPUT_SIZE) throw new Error(`input size must be an integer of at least ${MIN_INPUT_SIZE}, got ${size}`);
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed === undefined ? undefined : seed + k });
  const conv = (filters: number, name: string, k: number, inputShape?: number[]) =>
    tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', name, kernelInitializer: init(k), inputShape });
  const pool = (name: string) => tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name });

  const model = tf.sequential({ name: 'paper_cnn' });
  model.add(conv(32, 'conv2d', 1, [size, size, channels]));
  model.add(pool('max_pooling2d'));
  model.add(conv(64, 'conv2d_1', 2));
  model.add(conv(128, 'conv2d_2', 3));
  model.add(tf.layers.dropout({ rate: dropout, name: 'dropout', seed }));
  model.add(pool('max_pooling2d_1'));
  model.add(pool('max_pooling2d_2'));
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(tf.layers.dense({ units: 256, activation: 'relu', name: 'dense', kernelInitializer: init(4) }));
  model.add(tf.layers.dense({ units: numClasses, activation: 'softmax', name: 'dense_1', kernelInitializer: init(5) }));
  return model;
}
