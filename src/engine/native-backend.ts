/**
 * The `native` tfjs backend: the CPU backend with the kernels that carry a training step's cost
 * computed natively through a small N-API addon (native/visemo_dnnl.cc, built by
 * scripts/build-native.mjs): convolutions and their gradients, matrix products and max pooling
 * with oneDNN primitives; bias adds, relu, sums and the other element-wise kernels tfjs-layers
 * and Adam use as OpenMP loops. Every other kernel is the CPU backend's own, so tensors keep
 * living as TypedArrays in `backend.data` and the addon works on those buffers in place.
 *
 * Three training-time fusions go beyond single kernels, each active only while 'native' is the
 * backend (other backends run tfjs' own code): conv2d + bias + relu stays one FusedConv2D while
 * gradients are recorded, the relu gradient and the Adam update are one pass each, and dropout
 * draws its mask natively. The model code does not change.
 */
import { Buffer } from 'node:buffer';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { tf } from './backend.js';

type TensorInfo = tf.TensorInfo;
type Conv2DInfo = tf.backend_util.Conv2DInfo;
type KernelArgs = Parameters<tf.KernelFunc>[0];

/** What the compiled addon exports; every compute call returns false when oneDNN cannot do it. */
export interface NativeAddon {
  conv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, params: Int32Array, relu: boolean): boolean;
  conv2dBackwardData(dy: Float32Array, w: Float32Array, dx: Float32Array, params: Int32Array): boolean;
  conv2dBackwardFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, params: Int32Array, dbias?: Float32Array | null): boolean;
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, params: Int32Array, bias: Float32Array | null, relu: boolean): boolean;
  maxPool(x: Float32Array, y: Float32Array, params: Int32Array): boolean;
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, params: Int32Array): boolean;
  binary(op: number, a: Float32Array, aPeriod: number, b: Float32Array, bPeriod: number, out: Float32Array): boolean;
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number): boolean;
  sum(x: Float32Array, out: Float32Array, outer: number, reduce: number, inner: number): boolean;
  info(): { onednn: string; threads: number };
  setThreads(n: number): boolean;
  keepFreedMemory(): boolean;
  reluGrad(dy: Float32Array, x: Float32Array, out: Float32Array): boolean;
  dropoutMask(out: Float32Array, rate: number, seed: number): boolean;
  adam(w: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array, outW: Float32Array, outM: Float32Array, outV: Float32Array, hyper: Float32Array): boolean;
}

export const NATIVE_BACKEND = 'native';
/** Where node-gyp leaves the addon, relative to this file in src/engine or dist/engine. */
export const ADDON_PATH = fileURLToPath(new URL('../../native/build/Release/visemo_dnnl.node', import.meta.url));

/** Kernels this backend computes natively (the rest are the CPU backend's). */
export const NATIVE_KERNELS = [
  'Conv2D',
  'FusedConv2D',
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
  'BatchMatMul',
  '_FusedMatMul',
  'MaxPool',
  'MaxPoolGrad',
  'Sum',
  'Mean',
  'Tile',
] as const;

/** Element-wise kernels and their operation codes in the addon. */
const BINARY_OPS = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5 } as const;
const UNARY_OPS = { Relu: 0, Step: 1, Floor: 2, Sqrt: 3, Square: 4, Neg: 5, Exp: 6, Log: 7, Abs: 8 } as const;

let addon: NativeAddon | null = null;
let registration: Promise<string | null> | null = null;

/** Loads the addon, or says in a few words why it cannot be used. */
export function loadAddon(): NativeAddon | string {
  if (addon) return addon;
  if (process.env.VISEMO_NATIVE === '0') return 'native backend disabled by VISEMO_NATIVE=0';
  if (process.platform !== 'linux' && process.platform !== 'darwin') return `native backend not supported on ${process.platform}`;
  if (!existsSync(ADDON_PATH)) return 'native addon not built (install libdnnl-dev, then run `npm run build:native`)';
  // OpenMP threads that spin between kernels steal the core another process (or the JavaScript
  // between two kernels) needs; on a busy 2-core machine a spinning team was 2x slower than
  // sleeping ones. libgomp reads this when the addon loads it; an explicit setting wins.
  if (!process.env.OMP_WAIT_POLICY && !process.env.GOMP_SPINCOUNT) process.env.OMP_WAIT_POLICY = 'passive';
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
  } catch (err) {
    return `native addon failed to load (${(err as Error).message.split('\n')[0]})`;
  }
  const threads = Number(process.env.VISEMO_THREADS) || availableParallelism();
  addon.setThreads(Math.max(1, Math.floor(threads)));
  if (process.env.VISEMO_MALLOC !== 'default') addon.keepFreedMemory();
  return addon;
}

/** The CPU backend under another name; its kernels are re-registered for it below. */
export class NativeBackend extends MathBackendCPU {
  constructor() {
    super();
    // The CPU backend would greet Node users with advice to install tfjs-node.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  f32(t: TensorInfo): Float32Array | null {
    if (t.dtype !== 'float32') return null;
    const values = this.data.get(t.dataId).values;
    return values instanceof Float32Array ? values : null;
  }
}

/** Registers the 'native' backend; null when ready, else a short reason it is unavailable. */
export function registerNativeBackend(): Promise<string | null> {
  registration ??= (async () => {
    const loaded = loadAddon();
    if (typeof loaded === 'string') return loaded;
    if (tf.findBackendFactory(NATIVE_BACKEND) === null) {
      tf.registerBackend(NATIVE_BACKEND, () => new NativeBackend(), 1);
      registerKernels(loaded);
      registerFusedTraining(loaded);
    }
    return null;
  })();
  return registration;
}

type NativeKernel = (args: KernelArgs, b: NativeBackend) => TensorInfo | null;

function registerKernels(native: NativeAddon): void {
  const kernels: Record<string, NativeKernel> = {
    Conv2D: (args, b) => conv2d(native, b, args, false),
    FusedConv2D: (args, b) => conv2d(native, b, args, true),
    Conv2DBackpropInput: (args, b) => conv2dBackpropInput(native, b, args),
    Conv2DBackpropFilter: (args, b) => conv2dBackpropFilter(native, b, args),
    BatchMatMul: (args, b) => matMul(native, b, args, false),
    _FusedMatMul: (args, b) => matMul(native, b, args, true),
    MaxPool: (args, b) => maxPool(native, b, args),
    MaxPoolGrad: (args, b) => maxPoolGrad(native, b, args),
    Sum: (args, b) => sum(native, b, args),
    // Batch normalisation (the visemo architecture) spends most of its step in these two as JS.
    Mean: (args, b) => mean(native, b, args),
    Tile: (args, b) => tile(b, args),
  };
  for (const [name, code] of Object.entries(BINARY_OPS)) kernels[name] = (args, b) => binary(native, b, args, code);
  for (const [name, code] of Object.entries(UNARY_OPS)) kernels[name] = (args, b) => unary(native, b, args, code);

  for (const config of tf.getKernelsForBackend('cpu')) {
    if (!(config.kernelName in kernels)) tf.registerKernel({ ...config, backendName: NATIVE_BACKEND });
  }
  for (const [name, compute] of Object.entries(kernels)) {
    const fallback = tf.getKernel(name, 'cpu')?.kernelFunc;
    if (!fallback) continue;
    tf.registerKernel({
      kernelName: name,
      backendName: NATIVE_BACKEND,
      // Shapes, dtypes or options the addon is not asked to handle go to the CPU backend's kernel.
      kernelFunc: (args) => compute(args, args.backend as NativeBackend) ?? noteFallback(name, args, fallback),
    });
  }
}

/** Names of all kernels computed natively (for tests and the benchmark's profile). */
export const ALL_NATIVE_KERNELS: readonly string[] = [...NATIVE_KERNELS, ...Object.keys(BINARY_OPS), ...Object.keys(UNARY_OPS)];

/**
 * An output buffer the native kernel overwrites completely. `new Float32Array` would zero it
 * first, an extra pass over memory as costly as a whole element-wise op.
 */
function uninitialized(n: number): Float32Array {
  if (n < 4096) return new Float32Array(n);
  return new Float32Array(Buffer.allocUnsafeSlow(n * 4).buffer, 0, n);
}

const reportedFallbacks = new Set<string>();
const fallbacks = new Map<string, number>();

/** How often each natively registered kernel handed a call to the CPU kernel (tests check it is 0). */
export function fallbackCounts(): ReadonlyMap<string, number> {
  return fallbacks;
}

function noteFallback(name: string, args: KernelArgs, fallback: tf.KernelFunc): TensorInfo {
  fallbacks.set(name, (fallbacks.get(name) ?? 0) + 1);
  if (process.env.VISEMO_DEBUG) {
    const shapes = Object.values(args.inputs).map((t) => `${t?.dtype}[${t?.shape.join(',')}]`).join(' ');
    const key = `${name} ${shapes} ${JSON.stringify(args.attrs)}`;
    if (!reportedFallbacks.has(key)) process.stderr.write(`visemo native: ${key} runs on the CPU kernel\n`);
    reportedFallbacks.add(key);
  }
  return fallback(args) as TensorInfo;
}

// ---------------------------------------------------------------------------------------------

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];

function convParams(c: Conv2DInfo): Int32Array {
  const p = c.padInfo;
  return Int32Array.from([
    c.batchSize, c.inHeight, c.inWidth, c.inChannels,
    c.filterHeight, c.filterWidth, c.outChannels,
    c.outHeight, c.outWidth,
    c.strideHeight, c.strideWidth, c.dilationHeight, c.dilationWidth,
    p.top, p.left, p.bottom, p.right,
  ]);
}

function poolParams(c: Conv2DInfo): Int32Array {
  const p = c.padInfo;
  return Int32Array.from([
    c.batchSize, c.inHeight, c.inWidth, c.inChannels,
    c.outHeight, c.outWidth, c.filterHeight, c.filterWidth,
    c.strideHeight, c.strideWidth, p.top, p.left, p.bottom, p.right,
  ]);
}

function channelsLast(dataFormat: unknown): boolean {
  return dataFormat === undefined || dataFormat === 'NHWC' || dataFormat === 'channelsLast';
}

function conv2d(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs, fused: boolean): TensorInfo | null {
  const { x, filter, bias, preluActivationWeights } = inputs as Record<string, TensorInfo | undefined>;
  const a = attrs as { strides: number | [number, number]; pad: Pad; dataFormat: string; dilations: number | [number, number]; dimRoundingMode?: 'floor' | 'round' | 'ceil'; activation?: string };
  if (!x || !filter || !channelsLast(a.dataFormat) || preluActivationWeights) return null;
  const activation = fused ? (a.activation ?? 'linear') : 'linear';
  if (activation !== 'linear' && activation !== 'relu') return null;
  const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, a.strides, a.dilations, a.pad, a.dimRoundingMode, false, 'channelsLast');
  const xv = b.f32(x);
  const wv = b.f32(filter);
  const bv = bias ? b.f32(bias) : null;
  if (!xv || !wv || (bias && (!bv || bv.length !== info.outChannels))) return null;
  const out = uninitialized(tf.util.sizeFromShape(info.outShape));
  if (!native.conv2d(xv, wv, bv, out, convParams(info), activation === 'relu')) return null;
  return b.makeTensorInfo(info.outShape, 'float32', out);
}

function conv2dBackpropInput(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo | null {
  const { dy, filter } = inputs as Record<string, TensorInfo>;
  const a = attrs as { inputShape: Shape4; strides: number | [number, number]; pad: Pad; dataFormat: string; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  if (!channelsLast(a.dataFormat)) return null;
  const info = tf.backend_util.computeConv2DInfo(a.inputShape, filter.shape as Shape4, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
  const dyv = b.f32(dy);
  const wv = b.f32(filter);
  if (!dyv || !wv) return null;
  const dx = uninitialized(tf.util.sizeFromShape(a.inputShape));
  if (!native.conv2dBackwardData(dyv, wv, dx, convParams(info))) return null;
  return b.makeTensorInfo([...a.inputShape], 'float32', dx);
}

function conv2dBackpropFilter(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo | null {
  const { x, dy } = inputs as Record<string, TensorInfo>;
  const a = attrs as { filterShape: Shape4; strides: number | [number, number]; pad: Pad; dataFormat: string; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  if (!channelsLast(a.dataFormat)) return null;
  const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
  const xv = b.f32(x);
  const dyv = b.f32(dy);
  if (!xv || !dyv) return null;
  const dw = uninitialized(tf.util.sizeFromShape(a.filterShape));
  if (!native.conv2dBackwardFilter(xv, dyv, dw, convParams(info), null)) return null;
  return b.makeTensorInfo([...a.filterShape], 'float32', dw);
}

function matMul(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs, fused: boolean): TensorInfo | null {
  const { a: A, b: B, bias, preluActivationWeights } = inputs as Record<string, TensorInfo | undefined>;
  const { transposeA = false, transposeB = false, activation = 'linear' } = attrs as { transposeA?: boolean; transposeB?: boolean; activation?: string };
  if (!A || !B || preluActivationWeights) return null;
  if (fused ? activation !== 'linear' && activation !== 'relu' : false) return null;
  const rank = A.shape.length;
  if (rank < 2 || B.shape.length !== rank) return null;
  const batchA = A.shape.slice(0, -2);
  const batchB = B.shape.slice(0, -2);
  const ba = tf.util.sizeFromShape(batchA);
  const bb = tf.util.sizeFromShape(batchB);
  // Equal batch dimensions, or one side without a batch (broadcast); other broadcasts fall back.
  if (!(tf.util.arraysEqual(batchA, batchB) || ba === 1 || bb === 1)) return null;
  const [a0, a1] = A.shape.slice(-2);
  const [b0, b1] = B.shape.slice(-2);
  const [m, k] = transposeA ? [a1, a0] : [a0, a1];
  const [k2, n] = transposeB ? [b1, b0] : [b0, b1];
  if (k !== k2) return null;
  const av = b.f32(A);
  const bv = b.f32(B);
  const biasv = bias ? b.f32(bias) : null;
  if (!av || !bv || (bias && (!biasv || biasv.length !== n))) return null;
  const batch = Math.max(ba, bb);
  const outShape = [...(ba >= bb ? batchA : batchB), m, n];
  const out = uninitialized(batch * m * n);
  const params = Int32Array.from([ba, bb, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0]);
  if (!native.matmul(av, bv, out, params, biasv, fused && activation === 'relu')) return null;
  return b.makeTensorInfo(outShape, 'float32', out);
}

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function maxPool(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo | null {
  const { x } = inputs as Record<string, TensorInfo>;
  const a = attrs as unknown as PoolAttrs;
  if (x.shape.length !== 4) return null;
  const info = tf.backend_util.computePool2DInfo(x.shape as Shape4, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const xv = b.f32(x);
  if (!xv) return null;
  const out = uninitialized(tf.util.sizeFromShape(info.outShape));
  if (!native.maxPool(xv, out, poolParams(info))) return null;
  return b.makeTensorInfo(info.outShape, 'float32', out);
}

function maxPoolGrad(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo | null {
  const { dy, input } = inputs as Record<string, TensorInfo>;
  const a = attrs as unknown as PoolAttrs;
  const info = tf.backend_util.computePool2DInfo(input.shape as Shape4, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const dyv = b.f32(dy);
  const xv = b.f32(input);
  if (!dyv || !xv) return null;
  const dx = uninitialized(xv.length);
  if (!native.maxPoolGrad(dyv, xv, dx, poolParams(info))) return null;
  return b.makeTensorInfo([...input.shape], 'float32', dx);
}

/** How an operand of a broadcasting binary op repeats: 0 full size, 1 scalar, n a trailing block of n. */
function periodOf(shape: number[], outShape: number[]): number | null {
  const size = tf.util.sizeFromShape(shape);
  const outSize = tf.util.sizeFromShape(outShape);
  if (size === outSize) return 0;
  if (size === 1) return 1;
  const padded = [...new Array<number>(outShape.length - shape.length).fill(1), ...shape];
  const first = padded.findIndex((d) => d !== 1);
  for (let i = first; i < outShape.length; i++) if (padded[i] !== outShape[i]) return null;
  return size;
}

function binary(native: NativeAddon, b: NativeBackend, { inputs }: KernelArgs, op: number): TensorInfo | null {
  const { a: A, b: B } = inputs as Record<string, TensorInfo>;
  const av = b.f32(A);
  const bv = b.f32(B);
  if (!av || !bv) return null;
  const outShape = tf.backend_util.assertAndGetBroadcastShape(A.shape, B.shape);
  const pa = periodOf(A.shape, outShape);
  const pb = periodOf(B.shape, outShape);
  if (pa === null || pb === null) return null;
  const out = uninitialized(tf.util.sizeFromShape(outShape));
  if (!native.binary(op, av, pa, bv, pb, out)) return null;
  return b.makeTensorInfo(outShape, 'float32', out);
}

function unary(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs, op: number): TensorInfo | null {
  const { x } = inputs as Record<string, TensorInfo>;
  const xv = b.f32(x);
  if (!xv) return null;
  const out = uninitialized(xv.length);
  const alpha = (attrs as { alpha?: number } | undefined)?.alpha ?? 0;
  if (!native.unary(op, xv, out, alpha)) return null;
  return b.makeTensorInfo([...x.shape], 'float32', out);
}

/** Sum over a contiguous run of axes, the case of bias gradients and per-row losses. */
function sum(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo | null {
  const { x } = inputs as Record<string, TensorInfo>;
  const { axis, keepDims = false } = attrs as { axis: number | number[]; keepDims?: boolean };
  const xv = b.f32(x);
  if (!xv) return null;
  const axes = [...tf.util.parseAxisParam(axis, x.shape)].sort((p, q) => p - q);
  if (axes.length === 0 || axes.some((ax, i) => i > 0 && ax !== axes[i - 1] + 1)) return null;
  const first = axes[0];
  const last = axes[axes.length - 1];
  const outer = tf.util.sizeFromShape(x.shape.slice(0, first));
  const reduce = tf.util.sizeFromShape(x.shape.slice(first, last + 1));
  const inner = tf.util.sizeFromShape(x.shape.slice(last + 1));
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  const out = uninitialized(outer * inner);
  if (!native.sum(xv, out, outer, reduce, inner)) return null;
  return b.makeTensorInfo(outShape, 'float32', out);
}

/** The native Sum divided by the count, in place on its fresh output. */
function mean(native: NativeAddon, b: NativeBackend, args: KernelArgs): TensorInfo | null {
  const { x } = args.inputs as Record<string, TensorInfo>;
  const axes = tf.util.parseAxisParam((args.attrs as { axis: number | number[] }).axis, x.shape);
  const out = sum(native, b, { ...args, attrs: { ...args.attrs, axis: axes } });
  if (!out) return null;
  const n = axes.reduce((p, a) => p * x.shape[a]!, 1);
  const values = b.f32(out)!;
  for (let i = 0; i < values.length; i++) values[i]! /= n;
  return out;
}

/**
 * Tile where every dimension before the last repeated one has size 1 ([1,1,1,C] → [N,H,W,C], as
 * batch-norm gradients ask): the output is the input repeated whole, filled by doubling copies.
 */
function tile(b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo | null {
  const { x } = inputs as Record<string, TensorInfo>;
  const reps = (attrs as { reps: number[] }).reps;
  const src = b.f32(x);
  const lastRepeated = reps.reduce((k, r, i) => (r > 1 ? i : k), -1);
  if (!src || !x.shape.slice(0, Math.max(0, lastRepeated)).every((d) => d === 1)) return null;
  const out = uninitialized(src.length * reps.reduce((p, r) => p * r, 1));
  out.set(src);
  for (let filled = src.length; filled < out.length; filled *= 2) out.copyWithin(filled, 0, Math.min(filled, out.length - filled));
  return b.makeTensorInfo(x.shape.map((d, i) => d * reps[i]!), 'float32', out);
}

// ---------------------------------------------------------------------------------------------
// Fused training steps. tfjs expresses the relu gradient and the Adam update as chains of
// element-wise ops (2 and 14 passes over the data); on this backend each is one native pass.
// Other backends keep tfjs' own code: the hooks below hand over unless 'native' is active.

export const RELU_GRAD_KERNEL = 'VisemoReluGrad';
export const ADAM_KERNEL = 'VisemoAdam';
export const DROPOUT_MASK_KERNEL = 'VisemoDropoutMask';

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

function registerFusedTraining(native: NativeAddon): void {
  tf.registerKernel({
    kernelName: RELU_GRAD_KERNEL,
    backendName: NATIVE_BACKEND,
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as NativeBackend;
      const { dy, x } = inputs as Record<string, TensorInfo>;
      const dyv = b.f32(dy);
      const xv = b.f32(x);
      const out = uninitialized(dyv?.length ?? 0);
      if (!dyv || !xv || !native.reluGrad(dyv, xv, out)) throw new Error(`${RELU_GRAD_KERNEL}: unsupported inputs ${dy.dtype}[${dy.shape}] ${x.dtype}[${x.shape}]`);
      return b.makeTensorInfo([...dy.shape], 'float32', out);
    },
  });
  tf.registerKernel({
    kernelName: ADAM_KERNEL,
    backendName: NATIVE_BACKEND,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const b = backend as NativeBackend;
      const { w, m, v, g } = inputs as Record<string, TensorInfo>;
      const { hyper } = attrs as unknown as { hyper: number[] };
      const [wv, mv, vv, gv] = [w, m, v, g].map((t) => b.f32(t));
      const n = wv?.length ?? 0;
      const outs = [uninitialized(n), uninitialized(n), uninitialized(n)];
      if (!wv || !mv || !vv || !gv || !native.adam(wv, mv, vv, gv, outs[0], outs[1], outs[2], Float32Array.from(hyper))) {
        throw new Error(`${ADAM_KERNEL}: unsupported inputs for ${w.dtype}[${w.shape}]`);
      }
      return outs.map((o) => b.makeTensorInfo([...w.shape], 'float32', o));
    },
  });

  tf.registerKernel({
    kernelName: DROPOUT_MASK_KERNEL,
    backendName: NATIVE_BACKEND,
    kernelFunc: ({ backend, attrs }) => {
      const { shape, rate, seed } = attrs as unknown as { shape: number[]; rate: number; seed: number };
      const out = uninitialized(tf.util.sizeFromShape(shape));
      if (!native.dropoutMask(out, rate, seed)) throw new Error(`${DROPOUT_MASK_KERNEL}: bad rate ${rate}`);
      return (backend as NativeBackend).makeTensorInfo([...shape], 'float32', out);
    },
  });
  patchDropout();
  patchFusedConv2d();

  const reluGrad = tf.getGradient('Relu');
  if (reluGrad) {
    tf.registerGradient({
      ...reluGrad,
      gradFunc: (dy, saved, attrs) => {
        const [x] = saved;
        if (tf.getBackend() !== NATIVE_BACKEND || x.dtype !== 'float32' || (dy as tf.Tensor).dtype !== 'float32') return reluGrad.gradFunc(dy, saved, attrs);
        return { x: () => tf.engine().runKernel(RELU_GRAD_KERNEL, { dy: dy as tf.Tensor, x }) as tf.Tensor };
      },
    });
  }

  const proto = tf.AdamOptimizer.prototype;
  const original = proto.applyGradients;
  proto.applyGradients = function applyGradients(this: tf.AdamOptimizer, variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (tf.getBackend() !== NATIVE_BACKEND) return original.call(this, variableGradients);
    const self = this as unknown as AdamInternals;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    // The same float32 bias corrections tfjs computes with sub(1, accBeta).
    const c1 = Math.fround(1 - self.accBeta1.dataSync()[0]);
    const c2 = Math.fround(1 - self.accBeta2.dataSync()[0]);
    const hyper = [self.beta1, self.beta2, self.epsilon, self.learningRate, c1, c2];
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name];
        self.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        self.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
        if (gradient == null) return;
        const m = self.accumulatedFirstMoment[i].variable;
        const v = self.accumulatedSecondMoment[i].variable;
        const [w2, m2, v2] = tf.engine().runKernel(ADAM_KERNEL, { w: value, m, v, g: gradient }, { hyper } as unknown as tf.NamedAttrMap) as tf.Tensor[];
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
 * at a time and applies it in four more passes. On the native backend the mask comes from one
 * native kernel (no inputs, so it stays off the gradient path) and only the multiply remains.
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
    return tf.tidy(() => {
      const attrs = { shape: x.shape, rate, seed: dropoutSeed(seed) } as unknown as tf.NamedAttrMap;
      const mask = tf.engine().runKernel(DROPOUT_MASK_KERNEL, {}, attrs) as tf.Tensor;
      return tf.mul(x, mask);
    });
  };
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
      const [x, filter, y] = saved;
      const { strides, pad, dimRoundingMode, activation } = attrs as unknown as { strides: [number, number]; pad: Pad; dimRoundingMode?: string; activation: string };
      if (activation !== 'relu' && activation !== 'linear') throw new Error(`no native gradient for FusedConv2D with ${activation}`);
      const conv = { strides, pad, dataFormat: 'NHWC', dimRoundingMode } as unknown as tf.NamedAttrMap;
      // relu'(pre-activation) is step(y): y > 0 exactly where the pre-activation is > 0. Made
      // here, not in the closures: the engine runs each closure in its own scope.
      const g = activation === 'relu' ? (tf.engine().runKernel(RELU_GRAD_KERNEL, { dy: dy as tf.Tensor, x: y }) as tf.Tensor) : (dy as tf.Tensor);
      return {
        // Evaluated only when x needs a gradient: not for the first layer, whose x is the data.
        x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: g, filter }, { ...conv, inputShape: x.shape }) as tf.Tensor,
        filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: g }, { ...conv, filterShape: filter.shape }) as tf.Tensor,
        bias: () => tf.sum(g, [0, 1, 2]),
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
      x instanceof tf.Tensor && x.rank === 4 && x.dtype === 'float32' &&
      filter instanceof tf.Tensor && filter.rank === 4 && filter.dtype === 'float32' &&
      bias instanceof tf.Tensor && bias.rank === 1 && bias.size === filter.shape[3] && bias.dtype === 'float32';
    if (!eligible) return original(args);
    const attrs = { strides, pad, dataFormat: 'NHWC', dilations: 1, dimRoundingMode, activation: 'relu' } as unknown as tf.NamedAttrMap;
    return tf.engine().runKernel('FusedConv2D', { x, filter, bias }, attrs) as tf.Tensor;
  };
}
