/**
 * `train --init`: a new model starts from another's weights. Every layer is copied as it is, except
 * the classifier (the last layer), which is matched class by class: a class both models know keeps
 * its learned output weights, a class the start model lacks (neutral, when a six-class model starts
 * a seven-class one) keeps the new model's fresh initialisation.
 *
 * A wider model (`--width`) starts from a narrower one as Net2WiderNet does (Chen et al., 2016):
 * each new filter is a copy of an old one, and the next layer's weights from a filter's copies are
 * split among them so that they still add up to the old weight. The wider net computes exactly
 * what the narrow one did; the splits are uneven (seeded), so the copies get different gradients
 * and learn apart.
 */
import { tf } from '../engine/tf.js';
import { createRng } from '../util/random.js';

export interface InitReport {
  /** Classes of the new model whose outputs were copied, and those started fresh. */
  copied: string[];
  fresh: string[];
}

/** Which old channel each new channel copies, and the share of the old outgoing weights it takes. */
interface ChannelMap {
  source: Int32Array;
  share: Float32Array;
}

export function initWeightsFrom(model: tf.LayersModel, start: tf.LayersModel, startClasses: string[], classes: string[], seed = 0): InitReport {
  if (model.layers.length !== start.layers.length) throw new Error(`the start model has ${start.layers.length} layers, this one ${model.layers.length}`);
  const rng = createRng(seed ^ 0x5eed);
  const last = model.layers.length - 1;
  // The channels of the activation flowing into the current layer, when a wider layer has copied some.
  let inMap: ChannelMap | null = null;
  model.layers.forEach((layer, i) => {
    const startWeights = start.layers[i]!.getWeights();
    const own = layer.getWeights();
    const from = widened(layer, startWeights, own, inMap, i < last, rng);
    if (from.map !== undefined) inMap = from.map;
    const disposeWidened = () => from.weights.forEach((w, j) => w !== startWeights[j] && w.dispose());
    if (i < last) {
      from.weights.forEach((w, j) => {
        if (w.shape.join('x') !== own[j]!.shape.join('x'))
          throw new Error(`layer ${layer.name}: weight ${j} is ${startWeights[j]!.shape.join('x')} in the start model, ${own[j]!.shape.join('x')} here`);
      });
      layer.setWeights(from.weights);
      disposeWidened();
      return;
    }
    // The classifier: kernel [features, classes] and bias [classes], columns by class name.
    const remapped = tf.tidy(() =>
      own.map((w, j) => {
        const src = from.weights[j]!;
        const columns = classes.map((c, k) => {
          const s = startClasses.indexOf(c);
          const col = (t: tf.Tensor, idx: number) => (t.rank === 1 ? t.slice([idx], [1]) : t.slice([0, idx], [t.shape[0], 1]));
          return s >= 0 ? col(src, s) : col(w, k);
        });
        return tf.concat(columns, w.rank - 1);
      }),
    );
    layer.setWeights(remapped);
    remapped.forEach((t) => t.dispose());
    disposeWidened();
  });
  return { copied: classes.filter((c) => startClasses.includes(c)), fresh: classes.filter((c) => !startClasses.includes(c)) };
}

/**
 * The start layer's weights fitted to a wider layer: input rows gathered through `inMap` (and
 * scaled by each copy's share), output filters widened by copying. Returns the start weights
 * themselves where nothing is wider, and the map of this layer's output channels where it changes.
 */
function widened(
  layer: tf.layers.Layer,
  from: tf.Tensor[],
  own: tf.Tensor[],
  inMap: ChannelMap | null,
  widenOutputs: boolean,
  rng: () => number,
): { weights: tf.Tensor[]; map?: ChannelMap | null } {
  const kind = layer.getClassName();
  if (kind === 'Flatten' && inMap) throw new Error(`layer ${layer.name}: a widened net cannot be flattened (only the visemo net, with global pooling, widens)`);
  if (from.length === 0) return { weights: from };
  if (kind === 'BatchNormalization') {
    // Per-channel scale, offset and statistics: each copy takes its source channel's.
    return { weights: inMap ? from.map((w) => gatherVector(w, inMap.source)) : from };
  }
  if (kind !== 'Conv2D' && kind !== 'Dense') return { weights: from };
  const [kernel, bias] = from as [tf.Tensor, tf.Tensor | undefined];
  const oldOut = kernel.shape.at(-1)!;
  const newOut = own[0]!.shape.at(-1)!;
  const outMap = widenOutputs && newOut > oldOut ? copyMap(oldOut, newOut, rng) : null;
  if (!inMap && !outMap) return { weights: from };
  const weights = [widenKernel(kernel, inMap, outMap?.source ?? null)];
  if (bias) weights.push(outMap ? gatherVector(bias, outMap.source) : bias);
  return { weights, map: outMap };
}

/** New channels 0 … old−1 are the old ones; the rest copy old channels drawn at random. */
function copyMap(oldCount: number, newCount: number, rng: () => number): ChannelMap {
  const source = new Int32Array(newCount);
  for (let j = 0; j < newCount; j++) source[j] = j < oldCount ? j : Math.floor(rng() * oldCount);
  const groups = new Map<number, number[]>();
  source.forEach((s, j) => groups.set(s, [...(groups.get(s) ?? []), j]));
  // Uneven shares that still sum to 1 within each group of copies: the function is kept exactly.
  const share = new Float32Array(newCount);
  for (const members of groups.values()) {
    const raw = members.map(() => 0.75 + 0.5 * rng());
    const total = raw.reduce((a, b) => a + b, 0);
    members.forEach((j, k) => (share[j] = raw[k]! / total));
  }
  return { source, share };
}

function gatherVector(w: tf.Tensor, source: Int32Array): tf.Tensor {
  const v = w.dataSync();
  return tf.tensor1d(Float32Array.from(source, (s) => v[s]!));
}

/** A kernel [..., in, out]: rows through inMap (times each copy's share), columns through outSource. */
function widenKernel(kernel: tf.Tensor, inMap: ChannelMap | null, outSource: Int32Array | null): tf.Tensor {
  const shape = kernel.shape;
  const [oldIn, oldOut] = shape.slice(-2) as [number, number];
  const inCount = inMap ? inMap.source.length : oldIn;
  const outCount = outSource ? outSource.length : oldOut;
  const outer = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  const src = kernel.dataSync();
  const dst = new Float32Array(outer * inCount * outCount);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inCount; i++) {
      const si = inMap ? inMap.source[i]! : i;
      const scale = inMap ? inMap.share[i]! : 1;
      const srcRow = (o * oldIn + si) * oldOut;
      const dstRow = (o * inCount + i) * outCount;
      for (let j = 0; j < outCount; j++) dst[dstRow + j] = src[srcRow + (outSource ? outSource[j]! : j)]! * scale;
    }
  }
  return tf.tensor(dst, [...shape.slice(0, -2), inCount, outCount]);
}
