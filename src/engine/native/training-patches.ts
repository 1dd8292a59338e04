/**
 * The global tfjs patches that keep a training step on the native kernels. Each hands over to
 * tfjs' own code unless 'native' is the backend, so other backends train as before:
 *  - the relu gradient is one VisemoReluGrad kernel instead of two element-wise ops;
 *  - Adam's update is one VisemoAdam kernel per variable instead of 14 passes;
 *  - dropout is one VisemoDropout kernel each way, its mask never stored (patchDropout);
 *  - conv2d + bias + relu stays one FusedConv2D while gradients are recorded, and its relu and
 *    bias gradients are one VisemoReluGradBias pass (patchFusedConv2d);
 *  - a BatchNormalization layer in training mode is one VisemoBatchNormTrain kernel, and its
 *    gradient one VisemoBatchNormGrad (patchBatchNormalization).
 * The model code does not change.
 */
import { createRequire } from 'node:module';
import { tf } from '../tf.js';
import { BATCH_NORM_GRAD_KERNEL, BATCH_NORM_TRAIN_KERNEL } from './kernels-batchnorm.js';
import { ADAM_KERNEL, DROPOUT_KERNEL, RELU_GRAD_BIAS_KERNEL, RELU_GRAD_KERNEL } from './kernels-training.js';
import { NATIVE_BACKEND, type Pad } from './native-backend.js';

type Tuple<N extends number, T, R extends T[] = []> = R['length'] extends N ? R : Tuple<N, T, [...R, T]>;

/** The first `count` tensors a gradient function was handed (its inputsToSave, then outputsToSave), checked present. */
function savedTensors<N extends number>(saved: tf.Tensor[], count: N, kernel: string): Tuple<N, tf.Tensor> {
  const first = saved.slice(0, count);
  if (first.length < count || first.some((t) => !t)) throw new Error(`${kernel} gradient: ${count} saved tensors expected, ${saved.length} given`);
  return first as Tuple<N, tf.Tensor>;
}

/** Applies every patch; register.ts calls it once, when it registers the backend. */
export function applyTrainingPatches(): void {
  patchReluGradient();
  patchAdam();
  patchDropout();
  patchFusedConv2d();
  patchBatchNormalization();
}

function patchReluGradient(): void {
  const reluGrad = tf.getGradient('Relu');
  if (reluGrad) {
    tf.registerGradient({
      ...reluGrad,
      gradFunc: (dy, saved, attrs) => {
        const [x] = savedTensors(saved, 1, 'Relu');
        if (tf.getBackend() !== NATIVE_BACKEND || x.dtype !== 'float32' || (dy as tf.Tensor).dtype !== 'float32') return reluGrad.gradFunc(dy, saved, attrs);
        return { x: () => tf.engine().runKernel(RELU_GRAD_KERNEL, { dy: dy as tf.Tensor, x }) as tf.Tensor };
      },
    });
  }
}

interface AdamInternals {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  incrementIterations(): void;
}

function patchAdam(): void {
  const proto = tf.AdamOptimizer.prototype;
  const original = proto.applyGradients;
  proto.applyGradients = function applyGradients(this: tf.AdamOptimizer, variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (tf.getBackend() !== NATIVE_BACKEND) {
      original.call(this, variableGradients);
      return;
    }
    const self = this as unknown as AdamInternals;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    // The same float32 bias corrections tfjs computes with sub(1, accBeta).
    // accBeta1 and accBeta2 are scalar variables: one value each.
    const c1 = Math.fround(1 - self.accBeta1.dataSync()[0]!);
    const c2 = Math.fround(1 - self.accBeta2.dataSync()[0]!);
    const hyper = [self.beta1, self.beta2, self.epsilon, self.learningRate, c1, c2];
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        if (!value) throw new Error(`Adam: no variable named ${name}`);
        const first = (self.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) });
        const second = (self.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) });
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]?.tensor : variableGradients[name];
        if (gradient == null) return;
        const m = first.variable;
        const v = second.variable;
        // VisemoAdam's three outputs (kernels-training.ts adam).
        const [w2, m2, v2] = tf.engine().runKernel(ADAM_KERNEL, { w: value, m, v, g: gradient }, { hyper } as unknown as tf.NamedAttrMap) as [
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
        ];
        m.assign(m2);
        v.assign(v2);
        value.assign(w2);
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    self.incrementIterations();
  };
}

/** A seed for the native dropout mask: tfjs repeats the mask for a given seed, and so does this. */
function dropoutSeed(seed: number | string | undefined): number {
  if (seed === undefined) return Math.floor(Math.random() * 2 ** 52);
  let h = 2166136261;
  for (const ch of String(seed)) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
}

/**
 * tfjs-layers' Dropout calls tfjs-core's `dropout`, which draws its mask in JavaScript one number
 * at a time and applies it in four more passes. On the native backend one native kernel multiplies
 * by a mask it draws from the seed as it goes, and the gradient is the same kernel on dy.
 * The export is looked up at call time by tfjs-layers, so replacing it on the CommonJS module
 * is enough; other backends get the original.
 */
function patchDropout(): void {
  type Dropout = (x: tf.Tensor | tf.TensorLike, rate: number, noiseShape?: number[], seed?: number | string) => tf.Tensor;
  const core = createRequire(import.meta.url)('@tensorflow/tfjs-core') as { dropout: Dropout };
  const original = core.dropout;
  core.dropout = function dropout(x, rate, noiseShape, seed) {
    const plain =
      tf.getBackend() !== NATIVE_BACKEND ||
      !(x instanceof tf.Tensor) ||
      x.dtype !== 'float32' ||
      !(rate > 0 && rate < 1) ||
      (noiseShape != null && !tf.util.arraysEqual(noiseShape, x.shape));
    if (plain) return original(x, rate, noiseShape, seed);
    return tf.engine().runKernel(DROPOUT_KERNEL, { x }, { rate, seed: dropoutSeed(seed) } as unknown as tf.NamedAttrMap) as tf.Tensor;
  };
  // The mask is a function of seed and index: the backward pass draws it again on dy instead of
  // keeping it (one pass each way where the mask, the multiply and its gradient took three).
  tf.registerGradient({
    kernelName: DROPOUT_KERNEL,
    gradFunc: (dy, _saved, attrs) => ({ x: () => tf.engine().runKernel(DROPOUT_KERNEL, { x: dy as tf.Tensor }, attrs as tf.NamedAttrMap) as tf.Tensor }),
  });
}

type FusedConv2dArgs = Parameters<typeof tf.fused.conv2d>[0];

/**
 * While gradients are recorded, tfjs-core splits conv2d + bias + relu into three ops (a conv, a
 * broadcast add and a relu: two extra passes over every activation, forward and backward). On
 * the native backend the layer's call stays one FusedConv2D kernel (bias and relu as oneDNN
 * post-ops), recorded on the tape with the gradient below: tfjs-core's own gradient of a fused
 * linear conv, after the relu step. tfjs registers no gradient for FusedConv2D (its ops wrap the
 * kernel in customGrad), so this one is used only for the calls made here.
 */
function patchFusedConv2d(): void {
  tf.registerGradient({
    kernelName: 'FusedConv2D',
    inputsToSave: ['x', 'filter'],
    outputsToSave: [true],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter, y] = savedTensors(saved, 3, 'FusedConv2D');
      const { strides, pad, dimRoundingMode, activation } = attrs as unknown as {
        strides: [number, number];
        pad: Pad;
        dimRoundingMode?: string;
        activation: string;
      };
      if (activation !== 'relu' && activation !== 'linear') throw new Error(`no native gradient for FusedConv2D with ${activation}`);
      const conv = { strides, pad, dataFormat: 'NHWC', dimRoundingMode } as unknown as tf.NamedAttrMap;
      // relu'(pre-activation) is step(y): y > 0 exactly where the pre-activation is > 0; the bias
      // gradient (g summed per channel) comes out of the same pass. Made here, not in the
      // closures: the engine runs each closure in its own scope.
      const [g, dbias] =
        activation === 'relu' ? (tf.engine().runKernel(RELU_GRAD_BIAS_KERNEL, { dy: dy as tf.Tensor, y }) as [tf.Tensor, tf.Tensor]) : [dy as tf.Tensor, null];
      return {
        // Evaluated only when x needs a gradient: not for the first layer, whose x is the data.
        x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: g, filter }, { ...conv, inputShape: x.shape }) as tf.Tensor,
        filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: g }, { ...conv, filterShape: filter.shape }) as tf.Tensor,
        bias: () => dbias ?? tf.sum(g, [0, 1, 2]),
      };
    },
  });

  const core = createRequire(import.meta.url)('@tensorflow/tfjs-core') as { fused: { conv2d: (args: FusedConv2dArgs) => tf.Tensor } };
  const original = core.fused.conv2d;
  core.fused.conv2d = function conv2d(args: FusedConv2dArgs): tf.Tensor {
    const { x, filter, bias, activation, preluActivationWeights, strides, pad, dimRoundingMode } = args;
    const dataFormat = args.dataFormat ?? 'NHWC';
    const dilations = args.dilations ?? [1, 1];
    const eligible =
      tf.getBackend() === NATIVE_BACKEND &&
      (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0 &&
      activation === 'relu' &&
      preluActivationWeights == null &&
      dataFormat === 'NHWC' &&
      (Array.isArray(dilations) ? dilations.every((d) => d === 1) : dilations === 1) &&
      x instanceof tf.Tensor &&
      x.rank === 4 &&
      x.dtype === 'float32' &&
      filter instanceof tf.Tensor &&
      filter.rank === 4 &&
      filter.dtype === 'float32' &&
      bias instanceof tf.Tensor &&
      bias.rank === 1 &&
      bias.size === filter.shape[3] &&
      bias.dtype === 'float32';
    if (!eligible) return original(args);
    const attrs = { strides, pad, dataFormat: 'NHWC', dilations: 1, dimRoundingMode, activation: 'relu' } as unknown as tf.NamedAttrMap;
    return tf.engine().runKernel('FusedConv2D', { x, filter, bias }, attrs) as tf.Tensor;
  };
}

interface BatchNormLayer {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: { read(): tf.Tensor };
  beta: { read(): tf.Tensor };
  movingMean: { read(): tf.Tensor; write(v: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(v: tf.Tensor): void };
}
type LayerCall = (this: BatchNormLayer, inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }) => tf.Tensor | tf.Tensor[];

/**
 * tfjs-layers' BatchNormalization in training mode runs moments (a Mean, a SquaredDifference and
 * another Mean), then batchNorm, and its gradient chains some ten element-wise ops, Sums, Tiles
 * and ones(): on the visemo net at 48×48 more time than its convolutions' forward pass. On the
 * native backend, with the normalised axis last and both gamma and beta, the layer's training
 * call is instead one VisemoBatchNormTrain kernel (y, the batch mean and variance), with the
 * gradient below, and the moving averages are updated from its mean and variance exactly as the
 * layer does. Inference (training false) is the layer's own code, on the native FusedBatchNorm.
 */
let fusedBatchNorm = true;

/** Turns the batch-norm patch off and on: tests compare it with tfjs-layers' own code on native. */
export function setFusedBatchNorm(on: boolean): void {
  fusedBatchNorm = on;
}

function patchBatchNormalization(): void {
  tf.registerGradient({
    kernelName: BATCH_NORM_TRAIN_KERNEL,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    // Only y's gradient flows: mean and variance feed the moving averages, never the loss.
    gradFunc: (dys, saved, attrs) => {
      const [x, gamma, mean, variance] = savedTensors(saved, 4, BATCH_NORM_TRAIN_KERNEL);
      const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor;
      // VisemoBatchNormGrad's three outputs (kernels-batchnorm.ts batchNormGrad).
      const [dx, dgamma, dbeta] = tf.engine().runKernel(BATCH_NORM_GRAD_KERNEL, { dy, x, mean, variance, gamma }, attrs) as [tf.Tensor, tf.Tensor, tf.Tensor];
      return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
    },
  });

  const proto = Object.getPrototypeOf(tf.layers.batchNormalization({})) as { call: LayerCall };
  const original = proto.call;
  proto.call = function call(this: BatchNormLayer, inputs, kwargs) {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const eligible =
      fusedBatchNorm &&
      tf.getBackend() === NATIVE_BACKEND &&
      kwargs?.training === true &&
      x instanceof tf.Tensor &&
      x.dtype === 'float32' &&
      x.rank >= 2 &&
      (this.axis === -1 || this.axis === x.rank - 1) &&
      this.center &&
      this.scale;
    if (!eligible) return original.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const attrs = { epsilon: this.epsilon } as unknown as tf.NamedAttrMap;
      const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN_KERNEL, { x, gamma: this.gamma.read(), beta: this.beta.read() }, attrs) as tf.Tensor[];
      // The layer's doMovingAverage: moving -= (moving - batch) * (1 - momentum).
      const decay = 1 - this.momentum;
      for (const [variable, value] of [
        [this.movingMean, mean],
        [this.movingVariance, variance],
      ] as const) {
        tf.tidy(() => {
          const orig = variable.read();
          variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value!), decay)));
        });
      }
      return y!;
    });
  };
}
