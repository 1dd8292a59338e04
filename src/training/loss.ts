/**
 * The loss side of the training recipe: class weights for rare classes (FER2013 has 436 disgust
 * images against 7,215 happy ones). tfjs' trainOnBatch takes no class weights, so they enter
 * through the loss: each example's cross-entropy times its class's weight. (Label smoothing is part
 * of the batch targets: teacher.ts's mixTargets.)
 */
import { tf } from '../engine/tf.js';
import type { ClassWeightMode } from '../config/recipe.js';

/**
 * Weight per class from the training labels: 'balanced' is n / (k · n_c) (scikit-learn's), 'sqrt'
 * its square root, 'none' all 1. Classes without examples get weight 0 (they never occur).
 */
export function classWeightValues(labels: ArrayLike<number>, numClasses: number, mode: ClassWeightMode): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]!++;
  const present = counts.filter((c) => c > 0).length;
  return counts.map((c) => {
    if (mode === 'none') return 1;
    if (c === 0) return 0;
    const w = labels.length / (present * c);
    return mode === 'sqrt' ? Math.sqrt(w) : w;
  });
}

export type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/**
 * Categorical cross-entropy on softmax outputs, each example weighted by Σ_c y_c·w_c (its class's
 * weight; with smoothed targets, nearly so). `weights` must stay alive while the model trains.
 */
export function weightedCrossentropy(weights: tf.Tensor1D): LossFn {
  return (yTrue, yPred) =>
    tf.tidy(() => {
      const p = tf.clipByValue(yPred, 1e-7, 1 - 1e-7);
      const ce = tf.neg(tf.sum(tf.mul(yTrue, tf.log(p)), -1));
      return tf.mul(ce, tf.sum(tf.mul(yTrue, weights), -1));
    });
}
