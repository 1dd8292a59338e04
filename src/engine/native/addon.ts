/**
 * The compiled N-API addon behind the native backend (native/src/*.cc, built by
 * scripts/build-native.mjs): its typed interface and how it is found and loaded. Its parameter
 * arrays and operation codes are params.generated.ts's, written from native/ops.json as the
 * addon's own native/generated/params.h is.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { firstLine } from '../../util/errors.js';
import { PARAMS_LAYOUT, type BinaryOp, type Packed, type UnaryOp } from './params.generated.js';

/** What the compiled addon exports; every compute call returns false when oneDNN cannot do it. */
export interface NativeAddon {
  conv2d(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, params: Packed<'ConvParams'>, relu: boolean): boolean;
  conv2dBackwardData(dy: Float32Array, w: Float32Array, dx: Float32Array, params: Packed<'ConvParams'>): boolean;
  conv2dBackwardFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, params: Packed<'ConvParams'>): boolean;
  depthwiseConv2d(x: Float32Array, w: Float32Array, y: Float32Array, params: Packed<'ConvParams'>): boolean;
  resizeBilinear(x: Float32Array, y: Float32Array, params: Packed<'ResizeParams'>): boolean;
  padConstant(x: Float32Array, y: Float32Array, inShape: Int32Array, outShape: Int32Array, before: Int32Array, value: number): boolean;
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, params: Packed<'MatMulParams'>, bias: Float32Array | null, relu: boolean): boolean;
  maxPool(x: Float32Array, y: Float32Array, params: Packed<'PoolParams'>): boolean;
  maxPoolGrad(dy: Float32Array, x: Float32Array, dx: Float32Array, params: Packed<'PoolParams'>): boolean;
  binary(op: BinaryOp, a: Float32Array, aPeriod: number, b: Float32Array, bPeriod: number, out: Float32Array): boolean;
  binaryBroadcast(op: BinaryOp, a: Float32Array, aStrides: Int32Array, b: Float32Array, bStrides: Int32Array, out: Float32Array, outShape: Int32Array): boolean;
  unary(op: UnaryOp, x: Float32Array, out: Float32Array, alpha: number, beta?: number): boolean;
  sum(x: Float32Array, out: Float32Array, outer: number, reduce: number, inner: number): boolean;
  /** primitives: how many oneDNN primitives this thread has built and cached. */
  info(): { onednn: string; threads: number; primitives: number };
  setThreads(n: number): boolean;
  /** Convolutions in oneDNN's preferred (blocked) activation layouts, reordered around each primitive. */
  setBlockedActivations(on: boolean): boolean;
  keepFreedMemory(): boolean;
  /** native/generated/params.h as the addon was compiled: its checksum, each struct's size and field offsets (bytes), each enum's values. */
  layout(): AddonLayout;
  reluGrad(dy: Float32Array, x: Float32Array, out: Float32Array): boolean;
  /** x times a dropout mask drawn from `seed` (never stored: the same call on dy is the gradient). */
  dropout(x: Float32Array, out: Float32Array, rate: number, seed: number): boolean;
  reluGradBias(dy: Float32Array, y: Float32Array, g: Float32Array, dbias: Float32Array, channels: number): boolean;
  batchNormTrain(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    channels: number,
    epsilon: number,
  ): boolean;
  batchNormApply(
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    gamma: Float32Array | null,
    beta: Float32Array | null,
    y: Float32Array,
    channels: number,
    epsilon: number,
  ): boolean;
  batchNormGrad(
    dy: Float32Array,
    x: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    gamma: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    channels: number,
    epsilon: number,
  ): boolean;
  adam(
    w: Float32Array,
    m: Float32Array,
    v: Float32Array,
    g: Float32Array,
    outW: Float32Array,
    outM: Float32Array,
    outV: Float32Array,
    hyper: Float32Array,
  ): boolean;
  /**
   * The compute precisions the addon has kernels for. Absent from this version, which computes in
   * fp32 only: an addon built with bf16 kernels exports it and lists 'bf16' (see addonPrecisions).
   */
  precisions?(): string[];
}

export interface AddonLayout {
  checksum: number;
  structs: Record<string, { size: number; fields: Record<string, number> }>;
  enums: Record<string, Record<string, number>>;
}

/**
 * The precisions an addon computes in. This version's addon has no bf16 kernels (they await a CPU
 * with AMX to be built and tested on), so it exports no precisions() and this reads ['fp32'].
 */
export function addonPrecisions(native: NativeAddon): string[] {
  return typeof native.precisions === 'function' ? native.precisions() : ['fp32'];
}

/** Where node-gyp leaves the addon, relative to this file in src/engine/native or dist/engine/native. */
export const ADDON_PATH = fileURLToPath(new URL('../../../native/build/Release/visemo_dnnl.node', import.meta.url));

/** How to build the addon: a clone has its sources and scripts; an installed package reruns its install script. */
export const NATIVE_BUILD_COMMAND = existsSync(fileURLToPath(new URL('../../../src', import.meta.url))) ? 'npm run build:native' : 'npm rebuild visemo';

let addon: NativeAddon | null = null;

/**
 * Why an addon cannot be used with this TypeScript, or null: one built before the last change to
 * native/ops.json would read its parameters in another order (or not have layout() at all).
 */
export function staleLayout(native: Partial<Pick<NativeAddon, 'layout'>>): string | null {
  const built = typeof native.layout === 'function' ? native.layout().checksum : null;
  if (built === PARAMS_LAYOUT) return null;
  const found = built === null ? 'none' : `0x${built.toString(16)}`;
  return `native addon is out of date (parameter layout ${found}, expected 0x${PARAMS_LAYOUT.toString(16)}): run \`${NATIVE_BUILD_COMMAND}\``;
}

/** Loads the addon, or says in a few words why it cannot be used. */
export function loadAddon(): NativeAddon | string {
  if (addon) return addon;
  if (process.env.VISEMO_NATIVE === '0') return 'native backend disabled by VISEMO_NATIVE=0';
  if (process.platform !== 'linux' && process.platform !== 'darwin') return `native backend not supported on ${process.platform}`;
  if (!existsSync(ADDON_PATH)) return `native addon not built (install libdnnl-dev and a C++ compiler, then run \`${NATIVE_BUILD_COMMAND}\`)`;
  // OpenMP threads that spin between kernels steal the core another process (or the JavaScript
  // between two kernels) needs; on a busy 2-core machine a spinning team was 2x slower than
  // sleeping ones. libgomp reads this when the addon loads it; an explicit setting wins.
  if (!process.env.OMP_WAIT_POLICY && !process.env.GOMP_SPINCOUNT) process.env.OMP_WAIT_POLICY = 'passive';
  try {
    const loaded = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
    const stale = staleLayout(loaded);
    if (stale) return stale;
    addon = loaded;
  } catch (err) {
    return `native addon failed to load (${firstLine(err)})`;
  }
  const threads = Number(process.env.VISEMO_THREADS) || availableParallelism();
  addon.setThreads(Math.max(1, Math.floor(threads)));
  if (process.env.VISEMO_MALLOC !== 'default') addon.keepFreedMemory();
  // Training turns blocked layouts on by itself (engine/backend.ts prepareForTraining).
  if (process.env.VISEMO_LAYOUT === 'blocked') addon.setBlockedActivations(true);
  return addon;
}
