/** Sum and Mean over contiguous axes, Tile of a broadcast block and strided Slice: OpenMP loops or plain copies. */
import { tf } from '../tf.js';
import type { NativeAddon } from './addon.js';
import { required, uninitialized, type KernelArgs, type NativeBackend, type TensorInfo } from './native-backend.js';

/** Sum over a contiguous run of axes, the case of bias gradients and per-row losses. */
export function sum(native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo | null {
  const { x } = required(inputs, 'x');
  const { axis, keepDims = false } = attrs as { axis: number | number[]; keepDims?: boolean };
  const xv = b.f32(x);
  if (!xv) return null;
  const axes = [...tf.util.parseAxisParam(axis, x.shape)].sort((p, q) => p - q);
  const first = axes[0];
  const last = axes[axes.length - 1];
  if (first === undefined || last === undefined || axes.some((ax, i) => i > 0 && ax !== axes[i - 1]! + 1)) return null;
  const outer = tf.util.sizeFromShape(x.shape.slice(0, first));
  const reduce = tf.util.sizeFromShape(x.shape.slice(first, last + 1));
  const inner = tf.util.sizeFromShape(x.shape.slice(last + 1));
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  const out = uninitialized(outer * inner);
  if (!native.sum(xv, out, outer, reduce, inner)) return null;
  return b.makeTensorInfo(outShape, 'float32', out);
}

/** The native Sum divided by the count, in place on its fresh output. */
export function mean(native: NativeAddon, b: NativeBackend, args: KernelArgs): TensorInfo | null {
  const { x } = required(args.inputs, 'x');
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
export function tile(_native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo | null {
  const { x } = required(inputs, 'x');
  const reps = (attrs as { reps: number[] }).reps;
  const src = b.f32(x);
  const lastRepeated = reps.reduce((k, r, i) => (r > 1 ? i : k), -1);
  if (!src || !x.shape.slice(0, Math.max(0, lastRepeated)).every((d) => d === 1)) return null;
  const out = uninitialized(src.length * reps.reduce((p, r) => p * r, 1));
  out.set(src);
  for (let filled = src.length; filled < out.length; filled *= 2) out.copyWithin(filled, 0, Math.min(filled, out.length - filled));
  return b.makeTensorInfo(
    x.shape.map((d, i) => d * reps[i]!),
    'float32',
    out,
  );
}

/**
 * Slice. One contiguous run is a view of the input's buffer, no copy (as the CPU backend does it;
 * the buffer pool counts the view as a holder). Any other slice copies the rows of its last
 * dimension one by one: the CPU backend computes each element's index through arrays, about 1 µs
 * an element, 17 ms of every SSD detection on its [1,5118,3] box scores.
 */
export function slice(_native: NativeAddon, b: NativeBackend, { inputs, attrs }: KernelArgs): TensorInfo | null {
  const { x } = required(inputs, 'x');
  const xv = b.f32(x);
  if (!xv || x.shape.length === 0) return null;
  const { begin: b0, size: s0 } = attrs as { begin: number | number[]; size: number | number[] };
  const [begin, size] = tf.slice_util.parseSliceParams(x, b0, s0) as [number[], number[]];
  const strides = tf.util.computeStrides(x.shape);
  const n = tf.util.sizeFromShape(size);
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    const offset = tf.slice_util.computeFlatOffset(begin, strides);
    return b.makeTensorInfo([...size], 'float32', xv.subarray(offset, offset + n));
  }
  const rank = x.shape.length;
  const out = uninitialized(n);
  const row = size[rank - 1]!;
  const index = new Array<number>(rank - 1).fill(0); // the output row's position in the leading dimensions
  for (let o = 0; o < n; o += row) {
    let src = begin[rank - 1]!;
    for (let d = 0; d < rank - 1; d++) src += (begin[d]! + index[d]!) * strides[d]!;
    for (let k = 0; k < row; k++) out[o + k] = xv[src + k]!;
    for (let d = rank - 2; d >= 0 && ++index[d]! === size[d]; d--) index[d] = 0;
  }
  return b.makeTensorInfo([...size], 'float32', out);
}
