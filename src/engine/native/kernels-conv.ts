/**
 * Convolutions and their two gradients, matrix products and max pooling: the kernels that carry
 * a training step's cost, each one oneDNN primitive (a fused op's bias and relu inside it). Also
 * what the face detectors need at inference besides convolutions: depthwise convolution (a oneDNN
 * primitive), bilinear resizing and constant padding (OpenMP loops).
 */
import { tf } from '../tf.js';
import type { NativeAddon } from './addon.js';
import { required, uninitialized, type KernelArgs, type NativeBackend, type Pad, type TensorInfo } from './native-backend.js';
import { packConvParams, packMatMulParams, packPoolParams, packResizeParams, type Packed } from './params.generated.js';

type Conv2DInfo = tf.backend_util.Conv2DInfo;
type Shape4 = [number, number, number, number];

function convParams(c: Conv2DInfo): Packed<'ConvParams'> {
  const p = c.padInfo;
  return packConvParams({
    batch: c.batchSize,
    inHeight: c.inHeight,
    inWidth: c.inWidth,
    inChannels: c.inChannels,
    filterHeight: c.filterHeight,
    filterWidth: c.filterWidth,
    outChannels: c.outChannels,
    outHeight: c.outHeight,
    outWidth: c.outWidth,
    strideHeight: c.strideHeight,
    strideWidth: c.strideWidth,
    dilationHeight: c.dilationHeight,
    dilationWidth: c.dilationWidth,
    padTop: p.top,
    padLeft: p.left,
    padBottom: p.bottom,
    padRight: p.right,
  });
}

function poolParams(c: Conv2DInfo): Packed<'PoolParams'> {
  const p = c.padInfo;
  return packPoolParams({
    batch: c.batchSize,
    inHeight: c.inHeight,
    inWidth: c.inWidth,
    channels: c.inChannels,
    outHeight: c.outHeight,
    outWidth: c.outWidth,
    filterHeight: c.filterHeight,
    filterWidth: c.filterWidth,
    strideHeight: c.strideHeight,
    strideWidth: c.strideWidth,
    padTop: p.top,
    padLeft: p.left,
    padBottom: p.bottom,
    padRight: p.right,
  });
}

function channelsLast(dataFormat: unknown): boolean {
  return dataFormat === undefined || dataFormat === 'NHWC' || dataFormat === 'channelsLast';
}

export function conv2d(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs, fused: boolean): TensorInfo | null {
  const { x, filter, bias, preluActivationWeights } = inputs as Record<string, TensorInfo | undefined>;
  const a = attrs as {
    strides: number | [number, number];
    pad: Pad;
    dataFormat: string;
    dilations: number | [number, number];
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    activation?: string;
  };
  if (!x || !filter || !channelsLast(a.dataFormat) || preluActivationWeights) return null;
  const activation = fused ? (a.activation ?? 'linear') : 'linear';
  if (activation !== 'linear' && activation !== 'relu') return null;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filter.shape as Shape4,
    a.strides,
    a.dilations,
    a.pad,
    a.dimRoundingMode,
    false,
    'channelsLast',
  );
  const xv = b.f32(x);
  const wv = b.f32(filter);
  const bv = bias ? b.f32(bias) : null;
  if (!xv || !wv || (bias && (!bv || bv.length !== info.outChannels))) return null;
  const out = uninitialized(tf.util.sizeFromShape(info.outShape));
  if (!native.conv2d(xv, wv, bv, out, convParams(info), activation === 'relu')) return null;
  return b.makeTensorInfo(info.outShape, 'float32', out);
}

/** tfjs' DepthwiseConv2dNative: filter [KH, KW, C, multiplier], NHWC, no bias or activation. */
export function depthwiseConv2d(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo | null {
  const { x, filter } = required(inputs, 'x', 'filter');
  const a = attrs as {
    strides: number | [number, number];
    pad: Pad;
    dataFormat?: string;
    dilations: number | [number, number];
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
  };
  if (x.shape.length !== 4 || !channelsLast(a.dataFormat)) return null;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filter.shape as Shape4,
    a.strides,
    a.dilations,
    a.pad,
    a.dimRoundingMode,
    true,
    'channelsLast',
  );
  const xv = b.f32(x);
  const wv = b.f32(filter);
  if (!xv || !wv) return null;
  const out = uninitialized(tf.util.sizeFromShape(info.outShape));
  if (!native.depthwiseConv2d(xv, wv, out, convParams(info))) return null;
  return b.makeTensorInfo(info.outShape, 'float32', out);
}

/** tfjs' ResizeBilinear on NHWC float images, with its alignCorners and halfPixelCenters. */
export function resizeBilinear(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo | null {
  const { images } = required(inputs, 'images');
  const { alignCorners = false, halfPixelCenters = false, size } = attrs as { alignCorners?: boolean; halfPixelCenters?: boolean; size: [number, number] };
  if (images.shape.length !== 4) return null;
  const xv = b.f32(images);
  if (!xv) return null;
  const [n, h, w, c] = images.shape as Shape4;
  const outShape: Shape4 = [n, size[0], size[1], c];
  const out = uninitialized(tf.util.sizeFromShape(outShape));
  const params = packResizeParams({ batch: n, inHeight: h, inWidth: w, channels: c, outHeight: size[0], outWidth: size[1], alignCorners, halfPixelCenters });
  if (!native.resizeBilinear(xv, out, params)) return null;
  return b.makeTensorInfo(outShape, 'float32', out);
}

/** tfjs' PadV2 (constant padding) on float tensors of up to 8 dimensions. */
export function padV2(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo | null {
  const { x } = required(inputs, 'x');
  const { paddings, constantValue } = attrs as unknown as { paddings: [number, number][]; constantValue: number };
  if (x.shape.length < 1 || x.shape.length > 8 || paddings.length !== x.shape.length) return null;
  const xv = b.f32(x);
  if (!xv) return null;
  const outShape = x.shape.map((d, i) => paddings[i]![0] + d + paddings[i]![1]);
  const out = uninitialized(tf.util.sizeFromShape(outShape));
  const ok = native.padConstant(xv, out, Int32Array.from(x.shape), Int32Array.from(outShape), Int32Array.from(paddings.map((p) => p[0])), constantValue);
  return ok ? b.makeTensorInfo(outShape, 'float32', out) : null;
}

type ConvGradAttrs = { strides: number | [number, number]; pad: Pad; dataFormat: string; dimRoundingMode?: 'floor' | 'round' | 'ceil' };

/**
 * Both convolution gradients: the one of the input (from dy and the filter, shaped like the input)
 * and the one of the filter (from x and dy, shaped like the filter). Same geometry, other operands.
 */
function convGradient(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs, of: 'input' | 'filter'): TensorInfo | null {
  const t = inputs as Record<string, TensorInfo>;
  const a = attrs as ConvGradAttrs & { inputShape?: Shape4; filterShape?: Shape4 };
  if (!channelsLast(a.dataFormat)) return null;
  const [xShape, wShape] = of === 'input' ? [a.inputShape!, t.filter!.shape as Shape4] : [t.x!.shape as Shape4, a.filterShape!];
  const info = tf.backend_util.computeConv2DInfo(xShape, wShape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast');
  const [first, second] = of === 'input' ? [b.f32(t.dy!), b.f32(t.filter!)] : [b.f32(t.x!), b.f32(t.dy!)];
  if (!first || !second) return null;
  const outShape = of === 'input' ? xShape : wShape;
  const out = uninitialized(tf.util.sizeFromShape(outShape));
  const ok =
    of === 'input' ? native.conv2dBackwardData(first, second, out, convParams(info)) : native.conv2dBackwardFilter(first, second, out, convParams(info));
  return ok ? b.makeTensorInfo([...outShape], 'float32', out) : null;
}

export const conv2dBackpropInput = (native: NativeAddon, b: NativeBackend, args: KernelArgs) => convGradient(native, b, args, 'input');
export const conv2dBackpropFilter = (native: NativeAddon, b: NativeBackend, args: KernelArgs) => convGradient(native, b, args, 'filter');

export function matMul(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs, fused: boolean): TensorInfo | null {
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
  // rank >= 2 (checked above): the last two dimensions are there.
  const [a0, a1] = A.shape.slice(-2) as [number, number];
  const [b0, b1] = B.shape.slice(-2) as [number, number];
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
  const params = packMatMulParams({ batchA: ba, batchB: bb, m, n, k, transposeA, transposeB });
  if (!native.matmul(av, bv, out, params, biasv, fused && activation === 'relu')) return null;
  return b.makeTensorInfo(outShape, 'float32', out);
}

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function maxPool(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo | null {
  const { x } = required(inputs, 'x');
  const a = attrs as unknown as PoolAttrs;
  if (x.shape.length !== 4) return null;
  const info = tf.backend_util.computePool2DInfo(x.shape as Shape4, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const xv = b.f32(x);
  if (!xv) return null;
  const out = uninitialized(tf.util.sizeFromShape(info.outShape));
  if (!native.maxPool(xv, out, poolParams(info))) return null;
  return b.makeTensorInfo(info.outShape, 'float32', out);
}

export function maxPoolGrad(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo | null {
  const { dy, input } = required(inputs, 'dy', 'input');
  const a = attrs as unknown as PoolAttrs;
  const info = tf.backend_util.computePool2DInfo(input.shape as Shape4, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const dyv = b.f32(dy);
  const xv = b.f32(input);
  if (!dyv || !xv) return null;
  const dx = uninitialized(xv.length);
  if (!native.maxPoolGrad(dyv, xv, dx, poolParams(info))) return null;
  return b.makeTensorInfo([...input.shape], 'float32', dx);
}
