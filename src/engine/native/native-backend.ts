/**
 * The `native` tfjs backend itself: the CPU backend under another name, so tensors keep living
 * as TypedArrays in `backend.data` and the addon works on those buffers in place. Also what
 * every kernel file shares: the kernel signature and the output allocation.
 */
import { Buffer } from 'node:buffer';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { tf } from '../tf.js';
import type { NativeAddon } from './addon.js';

export type TensorInfo = tf.TensorInfo;
export type KernelArgs = Parameters<tf.KernelFunc>[0];
/** tfjs' convolution and pooling padding attribute. */
export type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

/**
 * A natively computed kernel: its outputs, or null for shapes, dtypes or options the addon is
 * not asked to handle (the CPU backend's kernel runs those, see register.ts).
 */
export type NativeKernel = (native: NativeAddon, b: NativeBackend, args: KernelArgs) => TensorInfo | TensorInfo[] | null;

export const NATIVE_BACKEND = 'native';

export class NativeBackend extends MathBackendCPU {
  constructor() {
    super();
    // The CPU backend would greet Node users with advice to install tfjs-node.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /**
   * A float32 tensor's values, for reading. tfjs' cast from int32 shares the int32 buffer (an image
   * tensor cast to float32, say): such values are read as a float copy, a pass cheaper than handing
   * the kernel to JavaScript.
   */
  f32(t: TensorInfo): Float32Array | null {
    if (t.dtype !== 'float32') return null;
    const values = this.data.get(t.dataId).values;
    if (values instanceof Float32Array) return values;
    return values instanceof Int32Array || values instanceof Uint8Array ? Float32Array.from(values) : null;
  }
}

/**
 * An output buffer the native kernel overwrites completely. `new Float32Array` would zero it
 * first, an extra pass over memory as costly as a whole element-wise op.
 */
export function uninitialized(n: number): Float32Array {
  if (n < 4096) return new Float32Array(n);
  return new Float32Array(Buffer.allocUnsafeSlow(n * 4).buffer, 0, n);
}
