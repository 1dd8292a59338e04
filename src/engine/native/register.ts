/**
 * Registers the `native` tfjs backend: the CPU backend (native-backend.ts) with the kernels
 * that carry a training step's cost computed through the addon (addon.ts), as oneDNN primitives
 * (kernels-conv.ts) or OpenMP loops (kernels-elementwise.ts, kernels-reduce.ts, kernels-batchnorm.ts), plus the fused
 * training kernels and patches (kernels-training.ts, training-patches.ts). Every other kernel is
 * the CPU backend's own. KERNELS below is the one list of what runs natively.
 */
import type { Backend } from '../backend-interface.js';
import { tf } from '../tf.js';
import { loadAddon } from './addon.js';
import { conv2d, conv2dBackpropFilter, conv2dBackpropInput, depthwiseConv2d, matMul, maxPool, maxPoolGrad, padV2, resizeBilinear } from './kernels-conv.js';
import { BINARY_OPS, CLIP_OP, UNARY_OPS, binary, unary } from './kernels-elementwise.js';
import { mean, slice, sum, tile } from './kernels-reduce.js';
import { ADAM_KERNEL, DROPOUT_KERNEL, RELU_GRAD_BIAS_KERNEL, RELU_GRAD_KERNEL, adam, dropout, reluGrad, reluGradBias } from './kernels-training.js';
import { BATCH_NORM_GRAD_KERNEL, BATCH_NORM_TRAIN_KERNEL, batchNormGrad, batchNormTrain, fusedBatchNorm } from './kernels-batchnorm.js';
import { NATIVE_BACKEND, NativeBackend, type KernelArgs, type NativeKernel, type TensorInfo } from './native-backend.js';
import { applyTrainingPatches } from './training-patches.js';

const KERNELS: Record<string, NativeKernel> = {
  Conv2D: (native, b, args) => conv2d(native, b, args, false),
  FusedConv2D: (native, b, args) => conv2d(native, b, args, true),
  Conv2DBackpropInput: conv2dBackpropInput,
  Conv2DBackpropFilter: conv2dBackpropFilter,
  BatchMatMul: (native, b, args) => matMul(native, b, args, false),
  _FusedMatMul: (native, b, args) => matMul(native, b, args, true),
  // The face detectors at inference (face-api.js's SSD and tiny nets, BlazeFace).
  DepthwiseConv2dNative: depthwiseConv2d,
  ResizeBilinear: resizeBilinear,
  PadV2: padV2,
  Slice: slice,
  ClipByValue: (native, b, args) => unary(native, b, args, CLIP_OP),
  MaxPool: maxPool,
  MaxPoolGrad: maxPoolGrad,
  Sum: sum,
  FusedBatchNorm: fusedBatchNorm,
  // Batch normalisation through tfjs' own ops (when the patch in training-patches.ts does not apply).
  Mean: mean,
  Tile: tile,
  ...Object.fromEntries(Object.entries(BINARY_OPS).map(([name, code]): [string, NativeKernel] => [name, (native, b, args) => binary(native, b, args, code)])),
  ...Object.fromEntries(Object.entries(UNARY_OPS).map(([name, code]): [string, NativeKernel] => [name, (native, b, args) => unary(native, b, args, code)])),
  [RELU_GRAD_KERNEL]: reluGrad,
  [ADAM_KERNEL]: adam,
  [DROPOUT_KERNEL]: dropout,
  [RELU_GRAD_BIAS_KERNEL]: reluGradBias,
  [BATCH_NORM_TRAIN_KERNEL]: batchNormTrain,
  [BATCH_NORM_GRAD_KERNEL]: batchNormGrad,
};

let registration: Promise<string | null> | null = null;

/** Registers the 'native' backend; null when ready, else a short reason it is unavailable. */
export function registerNativeBackend(): Promise<string | null> {
  registration ??= (async () => {
    const native = loadAddon();
    if (typeof native === 'string') return native;
    if (tf.findBackendFactory(NATIVE_BACKEND) === null) {
      tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(), 1);
      for (const config of tf.getKernelsForBackend('cpu')) {
        if (!(config.kernelName in KERNELS)) tf.registerKernel({ ...config, backendName: NATIVE_BACKEND });
      }
      for (const [name, compute] of Object.entries(KERNELS)) {
        const fallback = tf.getKernel(name, 'cpu')?.kernelFunc;
        tf.registerKernel({
          kernelName: name,
          backendName: NATIVE_BACKEND,
          // Shapes, dtypes or options the addon is not asked to handle go to the CPU backend's
          // kernel; visemo's own kernels have none and throw instead.
          kernelFunc: (args) => compute(native, args.backend as NativeBackend, args) ?? noteFallback(name, args, fallback),
        });
      }
      applyTrainingPatches();
    }
    return null;
  })();
  return registration;
}

/** The native backend for backend.ts. */
export const nativeBackend: Backend = { prepare: registerNativeBackend };

const reportedFallbacks = new Set<string>();
const fallbacks = new Map<string, number>();

/** How often each natively registered kernel handed a call to the CPU kernel (tests check it is 0). */
export function fallbackCounts(): ReadonlyMap<string, number> {
  return fallbacks;
}

function noteFallback(name: string, args: KernelArgs, fallback: tf.KernelFunc | undefined): TensorInfo | TensorInfo[] {
  if (!fallback) throw new Error(`${name}: no CPU kernel to hand these inputs to`);
  fallbacks.set(name, (fallbacks.get(name) ?? 0) + 1);
  if (process.env.VISEMO_DEBUG) {
    const shapes = Object.values(args.inputs)
      .map((t) => `${t?.dtype}[${t?.shape.join(',')}]`)
      .join(' ');
    const key = `${name} ${shapes} ${JSON.stringify(args.attrs)}`;
    if (!reportedFallbacks.has(key)) process.stderr.write(`visemo native: ${key} runs on the CPU kernel\n`);
    reportedFallbacks.add(key);
  }
  return fallback(args);
}
