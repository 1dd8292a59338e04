/**
 * The native kernels' output buffers, recycled. A detector pass or a training step allocates
 * hundreds of megabytes of activations, the same sizes every time; as fresh ArrayBuffers they
 * cost page faults on first touch and, as external memory, a full garbage collection every few
 * dozen megabytes (about two per SSD detection, a third of the server's CPU time). A buffer
 * comes back here when the last tensor holding it is disposed and goes out again to the next
 * kernel output of the same length.
 *
 * A buffer is recycled only while nothing outside the backend can see it: reading a tensor's
 * values (dataSync, data, arraySync) hands out the backend's own array, so a buffer that was
 * read is let go to the garbage collector instead. Views of a buffer (a contiguous Slice is a
 * subarray of its input) count as holders, so the buffer waits for all of them.
 * Each thread (worker) has its own pool, as it has its own tfjs engine.
 */
import { Buffer } from 'node:buffer';
import { totalmem } from 'node:os';

/** Smaller outputs are ordinary zeroed arrays: recycling them would save nothing measurable. */
export const POOLED_MIN_LENGTH = 4096;
const MB = 1024 * 1024;
/** VISEMO_BUFFER_POOL_MB fixes the limit on the free lists: setPoolLimit then leaves it alone. */
const fixedLimit = Number(process.env.VISEMO_BUFFER_POOL_MB) * MB || null;
/**
 * At most this many bytes wait in the free lists by default; a buffer released beyond it goes to
 * the garbage collector. 256 MB holds a detector pass: what a server with inputs of every size
 * should keep per worker thread.
 */
export const POOL_MAX_BYTES = 256 * MB;
/**
 * Training repeats the same sizes every step, and a step at 100x100 frees over a gigabyte of
 * activations and gradients; what does not fit comes back as fresh pages (page faults) the next
 * step, which made the memory-bound kernels around the convolutions three times slower.
 */
export const TRAINING_POOL_MAX_BYTES = Math.min(4096 * MB, Math.floor(totalmem() / 4));
let maxBytes = fixedLimit ?? POOL_MAX_BYTES;

interface Owned {
  array: Float32Array;
  /** Live tensor data (the array itself or views of it) in the backend's storage. */
  holders: number;
}

const owned = new WeakMap<ArrayBufferLike, Owned>();
const free = new Map<number, Float32Array[]>();
let freeBytes = 0;
// VISEMO_BUFFER_POOL=0 turns recycling off (every output a fresh buffer), to rule it out when a result looks wrong.
const enabled = process.env.VISEMO_BUFFER_POOL !== '0';

/**
 * An output buffer of `n` floats that the kernel overwrites completely: recycled, or new and not
 * zeroed (`new Float32Array` would zero it first, an extra pass over memory as costly as a whole
 * element-wise op).
 */
export function uninitialized(n: number): Float32Array {
  if (n < POOLED_MIN_LENGTH) return new Float32Array(n);
  const reused = free.get(n)?.pop();
  if (reused) {
    freeBytes -= reused.byteLength;
    return reused;
  }
  const array = new Float32Array(Buffer.allocUnsafeSlow(n * 4).buffer, 0, n);
  if (enabled) owned.set(array.buffer, { array, holders: 0 });
  return array;
}

const ownerOf = (values: unknown): Owned | undefined => (ArrayBuffer.isView(values) ? owned.get(values.buffer) : undefined);

/** `values` now backs one more tensor's data. */
export function retainBuffer(values: unknown): void {
  const o = ownerOf(values);
  if (o) o.holders++;
}

/** One tensor's data backed by `values` is gone: the buffer is free again when it was the last. */
export function releaseBuffer(values: unknown): void {
  const o = ownerOf(values);
  if (!o || --o.holders > 0) return;
  if (freeBytes + o.array.byteLength > maxBytes) {
    owned.delete(o.array.buffer);
    return;
  }
  let list = free.get(o.array.length);
  if (!list) free.set(o.array.length, (list = []));
  list.push(o.array);
  freeBytes += o.array.byteLength;
}

/** `values` was handed out of the backend (a tensor was read): it is never recycled. */
export function escapeBuffer(values: unknown): void {
  if (ArrayBuffer.isView(values)) owned.delete(values.buffer);
}

/**
 * Lets up to `bytes` wait in the free lists (unless VISEMO_BUFFER_POOL_MB fixed the limit); a lower
 * limit lets go of free buffers until they fit.
 */
export function setPoolLimit(bytes: number): void {
  if (fixedLimit !== null) return;
  maxBytes = bytes;
  for (const [length, list] of free) {
    while (freeBytes > maxBytes && list.length) {
      owned.delete(list.pop()!.buffer);
      freeBytes -= length * 4;
    }
    if (!list.length) free.delete(length);
  }
}

/** The limit in force. */
export function poolLimit(): number {
  return maxBytes;
}

/** Bytes waiting in the free lists (tests, benches). */
export function pooledBytes(): number {
  return freeBytes;
}
