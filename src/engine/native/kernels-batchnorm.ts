/**
 * Batch normalisation over the last axis as addon loops: tfjs' FusedBatchNorm (normalising with
 * given statistics: inference, or tfjs' own batchNorm op), and two kernels of visemo's own for a
 * training step, used by training-patches.ts: VisemoBatchNormTrain (the batch's moments and the
 * normalised output in two passes, where tfjs' moments + batchNorm take about five) and
 * VisemoBatchNormGrad (the whole gradient, through the batch statistics too, in two passes where
 * tfjs' gradients of moments and batchNorm take about ten, plus Tile and ones()).
 */
import type { NativeAddon } from './addon.js';
import { required, uninitialized, type KernelArgs, type NativeBackend, type TensorInfo } from './native-backend.js';

export const BATCH_NORM_TRAIN_KERNEL = 'VisemoBatchNormTrain';
export const BATCH_NORM_GRAD_KERNEL = 'VisemoBatchNormGrad';

const lastDim = (t: TensorInfo): number => t.shape[t.shape.length - 1] ?? 1;

/** A per-channel parameter as C values: its own when it has C, repeated when it is a scalar. */
function perChannel(b: NativeBackend, t: TensorInfo | undefined, channels: number): Float32Array | null | undefined {
  if (!t) return undefined;
  const v = b.f32(t);
  if (!v) return null;
  if (v.length === channels) return v;
  return v.length === 1 ? new Float32Array(channels).fill(v[0]!) : null;
}

/** tfjs' FusedBatchNorm: (x - mean) / sqrt(variance + epsilon) * scale + offset, per channel. */
export function fusedBatchNorm(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo | null {
  const { x, mean, variance, offset, scale } = inputs as Record<string, TensorInfo | undefined>;
  if (!x || !mean || !variance) return null;
  const epsilon = (attrs as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001;
  const C = lastDim(x);
  const xv = b.f32(x);
  const [m, v, o, s] = [mean, variance, offset, scale].map((t) => perChannel(b, t, C));
  if (!xv || !m || !v || o === null || s === null) return null;
  const y = uninitialized(xv.length);
  if (!native.batchNormApply(xv, m, v, s ?? null, o ?? null, y, C, epsilon)) return null;
  return b.makeTensorInfo([...x.shape], 'float32', y);
}

/** [y, mean, variance] of training-mode batch norm over every axis but the last. */
export function batchNormTrain(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo[] {
  const { x, gamma, beta } = required(inputs, 'x', 'gamma', 'beta');
  const { epsilon } = attrs as unknown as { epsilon: number };
  const C = lastDim(x);
  const [xv, gv, bv] = [x, gamma, beta].map((t) => b.f32(t));
  const y = uninitialized(xv?.length ?? 0);
  const mean = new Float32Array(C);
  const variance = new Float32Array(C);
  if (!xv || !gv || !bv || !native.batchNormTrain(xv, gv, bv, y, mean, variance, C, epsilon)) {
    throw new Error(`${BATCH_NORM_TRAIN_KERNEL}: unsupported inputs ${x.dtype}[${x.shape}] ${gamma.dtype}[${gamma.shape}] ${beta.dtype}[${beta.shape}]`);
  }
  return [b.makeTensorInfo([...x.shape], 'float32', y), b.makeTensorInfo([C], 'float32', mean), b.makeTensorInfo([C], 'float32', variance)];
}

/** [dx, dgamma, dbeta] of VisemoBatchNormTrain's y. */
export function batchNormGrad(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo[] {
  const { dy, x, mean, variance, gamma } = required(inputs, 'dy', 'x', 'mean', 'variance', 'gamma');
  const { epsilon } = attrs as unknown as { epsilon: number };
  const C = lastDim(x);
  const [dyv, xv, mv, vv, gv] = [dy, x, mean, variance, gamma].map((t) => b.f32(t));
  const dx = uninitialized(xv?.length ?? 0);
  const dgamma = new Float32Array(C);
  const dbeta = new Float32Array(C);
  if (!dyv || !xv || !mv || !vv || !gv || !native.batchNormGrad(dyv, xv, mv, vv, gv, dx, dgamma, dbeta, C, epsilon)) {
    throw new Error(`${BATCH_NORM_GRAD_KERNEL}: unsupported inputs ${x.dtype}[${x.shape}] ${dy.dtype}[${dy.shape}]`);
  }
  return [b.makeTensorInfo([...x.shape], 'float32', dx), b.makeTensorInfo([C], 'float32', dgamma), b.makeTensorInfo([C], 'float32', dbeta)];
}
