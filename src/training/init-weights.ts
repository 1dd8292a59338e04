/**
 * `train --init`: a new model starts from another's weights. Every layer is copied as it is, except
 * the classifier (the last layer), which is matched class by class: a class both models know keeps
 * its learned output weights, a class the start model lacks (neutral, when a six-class model starts
 * a seven-class one) keeps the new model's fresh initialisation.
 */
import { tf } from '../engine/tf.js';

export interface InitReport {
  /** Classes of the new model whose outputs were copied, and those started fresh. */
  copied: string[];
  fresh: string[];
}

export function initWeightsFrom(model: tf.LayersModel, start: tf.LayersModel, startClasses: string[], classes: string[]): InitReport {
  if (model.layers.length !== start.layers.length) throw new Error(`the start model has ${start.layers.length} layers, this one ${model.layers.length}`);
  const last = model.layers.length - 1;
  model.layers.forEach((layer, i) => {
    const from = start.layers[i]!.getWeights();
    if (i < last) {
      from.forEach((w, j) => {
        const own = layer.getWeights()[j]!;
        if (w.shape.join('x') !== own.shape.join('x')) throw new Error(`layer ${layer.name}: weight ${j} is ${w.shape.join('x')} in the start model, ${own.shape.join('x')} here`);
      });
      layer.setWeights(from);
      return;
    }
    // The classifier: kernel [features, classes] and bias [classes], columns by class name.
    const fresh = layer.getWeights();
    const remapped = tf.tidy(() =>
      fresh.map((w, j) => {
        const src = from[j]!;
        const columns = classes.map((c, k) => {
          const s = startClasses.indexOf(c);
          const col = (t: tf.Tensor, idx: number) => (t.rank === 1 ? t.slice([idx], [1]) : t.slice([0, idx], [t.shape[0]!, 1]));
          return s >= 0 ? col(src, s) : col(w, k);
        });
        return tf.concat(columns, w.rank - 1);
      }),
    );
    layer.setWeights(remapped);
    remapped.forEach((t) => t.dispose());
  });
  return { copied: classes.filter((c) => startClasses.includes(c)), fresh: classes.filter((c) => !startClasses.includes(c)) };
}
