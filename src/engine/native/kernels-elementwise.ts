/**
 * Element-wise kernels as OpenMP loops in the addon: the broadcasting binary ops (bias adds,
 * Adam's and batch normalisation's arithmetic) and the unary ones, each named by its code.
 */
import { tf } from '../tf.js';
import type { NativeAddon } from './addon.js';
import { required, uninitialized, type KernelArgs, type NativeBackend, type TensorInfo } from './native-backend.js';
import { BinaryOp, UnaryOp } from './params.generated.js';

/** Element-wise kernels by their tfjs names, and their operation codes in the addon. */
export const BINARY_OPS: Readonly<Record<string, BinaryOp>> = BinaryOp;
const { Clip, ...oneOperand } = UnaryOp;
export const UNARY_OPS: Readonly<Record<string, UnaryOp>> = oneOperand;
/** ClipByValue's code: a unary op with two bounds (relu6 in the MobileNet of face-api.js's SSD). */
export const CLIP_OP = Clip;

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

export function binary(native: NativeAddon, b: NativeBackend, { inputs }: KernelArgs, op: BinaryOp): TensorInfo | null {
  const { a: A, b: B } = required(inputs, 'a', 'b');
  const av = b.f32(A);
  const bv = b.f32(B);
  if (!av || !bv) return null;
  const outShape = tf.backend_util.assertAndGetBroadcastShape(A.shape, B.shape);
  const pa = periodOf(A.shape, outShape);
  const pb = periodOf(B.shape, outShape);
  const out = uninitialized(tf.util.sizeFromShape(outShape));
  const ok =
    pa !== null && pb !== null && !(pa > 1 && pb > 1 && pa !== pb)
      ? native.binary(op, av, pa, bv, pb, out)
      : outShape.length <= 8 &&
        native.binaryBroadcast(op, av, broadcastStrides(A.shape, outShape), bv, broadcastStrides(B.shape, outShape), out, Int32Array.from(outShape));
  return ok ? b.makeTensorInfo(outShape, 'float32', out) : null;
}

/** An operand's element strides over the output's dimensions: 0 where it is broadcast (size 1 or absent). */
function broadcastStrides(shape: number[], outShape: number[]): Int32Array {
  const padded = [...new Array<number>(outShape.length - shape.length).fill(1), ...shape];
  const strides = new Int32Array(outShape.length);
  let step = 1;
  for (let d = outShape.length - 1; d >= 0; d--) {
    strides[d] = padded[d] === 1 ? 0 : step;
    step *= padded[d]!;
  }
  return strides;
}

export function unary(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs, op: UnaryOp): TensorInfo | null {
  const { x } = required(inputs, 'x');
  const xv = b.f32(x);
  if (!xv) return null;
  const out = uninitialized(xv.length);
  const a = attrs as { alpha?: number; clipValueMin?: number; clipValueMax?: number } | undefined;
  const ok = op === CLIP_OP ? native.unary(op, xv, out, a?.clipValueMin ?? -Infinity, a?.clipValueMax ?? Infinity) : native.unary(op, xv, out, a?.alpha ?? 0);
  if (!ok) return null;
  return b.makeTensorInfo([...x.shape], 'float32', out);
}
