/**
 * The `native` tfjs backend itself: the CPU backend under another name, so tensors keep living
 * as TypedArrays in `backend.data` and the addon works on those buffers in place. Also what
 * every kernel file shares: the kernel signature and the output allocation.
 */
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { tf } from '../tf.js';
import type { NativeAddon } from './addon.js';
import { escapeBuffer, releaseBuffer, retainBuffer } from './buffer-pool.js';

export { uninitialized } from './buffer-pool.js';

export type TensorInfo = tf.TensorInfo;
export type KernelArgs = Parameters<tf.KernelFunc>[0];
/** tfjs' convolution and pooling padding attribute. */
export type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

/**
 * A natively computed kernel: its outputs, or null for shapes, dtypes or options the addon is
 * not asked to handle (the CPU backend's kernel runs those, see register.ts).
 */
export type NativeKernel = (native: NativeAddon, b: NativeBackend, args: KernelArgs) => TensorInfo | TensorInfo[] | null;

/**
 * A kernel's named inputs, each checked present. tfjs hands a kernel every input its op declares,
 * so a missing one is a bug in the caller (a visemo kernel run with the wrong names, say).
 */
export function required<K extends string>(inputs: KernelArgs['inputs'], ...names: K[]): Record<K, TensorInfo> {
  const out = {} as Record<K, TensorInfo>;
  for (const name of names) {
    const t = inputs[name];
    if (!t) throw new Error(`native kernel: no input '${name}' among ${Object.keys(inputs).join(', ') || 'none'}`);
    out[name] = t;
  }
  return out;
}

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

  // Every way tensor data enters, leaves or is read from the storage, for the buffer pool (buffer-pool.ts).
  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): object {
    retainBuffer(values);
    return super.write(values, shape, dtype);
  }

  override move(dataId: object, values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType, refCount: number): void {
    retainBuffer(values);
    super.move(dataId, values, shape, dtype, refCount);
  }

  override readSync(dataId: object): tf.backend_util.BackendValues {
    escapeBuffer(this.data.get(dataId)?.values);
    return super.readSync(dataId);
  }

  override disposeData(dataId: object, force = false): boolean {
    // has() first: get() of an id another backend holds would move its data here.
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const done = super.disposeData(dataId, force);
    if (values !== undefined && !this.data.has(dataId)) releaseBuffer(values);
    return done;
  }
}
