/**
 * Kernels tfjs does not have, one native pass each where tfjs chains element-wise ops: the relu
 * gradient (2 passes; with a fused conv's bias gradient, 3), the Adam update (14) and dropout
 * (a mask drawn one number at a time in JavaScript, kept for the gradient, and a multiply). Only
 * training-patches.ts runs them, and only while 'native' is the backend; with no CPU kernel to
 * hand over to, they throw on inputs they cannot take.
 */
import type { NativeAddon } from './addon.js';
import { required, uninitialized, type KernelArgs, type NativeBackend, type TensorInfo } from './native-backend.js';

export const RELU_GRAD_KERNEL = 'VisemoReluGrad';
export const ADAM_KERNEL = 'VisemoAdam';
export const DROPOUT_KERNEL = 'VisemoDropout';
export const RELU_GRAD_BIAS_KERNEL = 'VisemoReluGradBias';

/** dy * step(x). */
export function reluGrad(native: NativeAddon, b: NativeBackend, { inputs }: KernelArgs): TensorInfo {
  const { dy, x } = required(inputs, 'dy', 'x');
  const dyv = b.f32(dy);
  const xv = b.f32(x);
  const out = uninitialized(dyv?.length ?? 0);
  if (!dyv || !xv || !native.reluGrad(dyv, xv, out)) throw new Error(`${RELU_GRAD_KERNEL}: unsupported inputs ${dy.dtype}[${dy.shape}] ${x.dtype}[${x.shape}]`);
  return b.makeTensorInfo([...dy.shape], 'float32', out);
}

/** [dy * step(y), its sum per channel (last axis)]: a fused conv's relu and bias gradients in one pass. */
export function reluGradBias(native: NativeAddon, b: NativeBackend, { inputs }: KernelArgs): TensorInfo[] {
  const { dy, y } = required(inputs, 'dy', 'y');
  const dyv = b.f32(dy);
  const yv = b.f32(y);
  const C = y.shape[y.shape.length - 1] ?? 1;
  const g = uninitialized(yv?.length ?? 0);
  const dbias = new Float32Array(C);
  if (!dyv || !yv || !native.reluGradBias(dyv, yv, g, dbias, C))
    throw new Error(`${RELU_GRAD_BIAS_KERNEL}: unsupported inputs ${dy.dtype}[${dy.shape}] ${y.dtype}[${y.shape}]`);
  return [b.makeTensorInfo([...y.shape], 'float32', g), b.makeTensorInfo([C], 'float32', dbias)];
}

/** One Adam step of a variable: new weights, first and second moments. */
export function adam(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo[] {
  const { w, m, v, g } = required(inputs, 'w', 'm', 'v', 'g');
  const { hyper } = attrs as unknown as { hyper: number[] };
  const [wv, mv, vv, gv] = [w, m, v, g].map((t) => b.f32(t));
  const n = wv?.length ?? 0;
  const outs = [uninitialized(n), uninitialized(n), uninitialized(n)] as const;
  if (!wv || !mv || !vv || !gv || !native.adam(wv, mv, vv, gv, ...outs, Float32Array.from(hyper))) {
    throw new Error(`${ADAM_KERNEL}: unsupported inputs for ${w.dtype}[${w.shape}]`);
  }
  return outs.map((o) => b.makeTensorInfo([...w.shape], 'float32', o));
}

/** x times a dropout mask (0, or 1/(1-rate)) drawn from `seed`; the same kernel on dy is its gradient. */
export function dropout(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo {
  const { x } = required(inputs, 'x');
  const { rate, seed } = attrs as unknown as { rate: number; seed: number };
  const xv = b.f32(x);
  const out = uninitialized(xv?.length ?? 0);
  if (!xv || !native.dropout(xv, out, rate, seed)) throw new Error(`${DROPOUT_KERNEL}: unsupported input ${x.dtype}[${x.shape}] or rate ${rate}`);
  return b.makeTensorInfo([...x.shape], 'float32', out);
}
