/**
 * Fast Conv2D gradient kernels for the tfjs wasm backend.
 *
 * tfjs-backend-wasm 4.22 ships no Conv2DBackpropFilter kernel (so a conv net cannot train on it)
 * and its Conv2DBackpropInput is a naive C++ loop. Both gradients are themselves convolutions,
 * so we rewrite them as calls to the backend's own XNNPACK-backed Conv2D kernel:
 *
 *  - dW[kh,kw,ci,co] = Σ_{n,p,q} x[n, p·s+kh−pad, q·s+kw−pad, ci] · dy[n,p,q,co]
 *    is a stride-1 convolution, dilated by the forward stride, of x viewed as [ci,H,W,N]
 *    (channels as batch, batch as channels) with dy viewed as a filter [Ho,Wo,N,co].
 *  - dx is a stride-1 convolution of dy (with s−1 zeros between its pixels when strided)
 *    with the spatially flipped filter whose in/out channels are swapped.
 *
 * Cases the rewrite does not cover (NCHW, paddings it cannot express, non-float32) run the CPU
 * backend's reference kernels instead: slow, but never wrong.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { Backend } from '../backend-interface.js';
import { tf } from '../tf.js';

type TensorInfo = tf.TensorInfo;
type ConvInfo = tf.backend_util.Conv2DInfo;
type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];

const BACKEND = 'wasm';

/** How many gradient calls took the XNNPACK rewrite and how many the CPU reference (for tests and diagnostics). */
export const conv2DGradientCalls = { xnnpack: 0, cpuFallback: 0 };

/** Runs another kernel registered for the wasm backend (Conv2D, Transpose). */
function runWasmKernel(name: string, backend: BackendWasm, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): TensorInfo {
  const kernel = tf.getKernel(name, BACKEND);
  if (!kernel) throw new Error(`the wasm backend has no ${name} kernel`);
  return kernel.kernelFunc({ inputs, backend, attrs }) as TensorInfo;
}

/** Float32 view of a tensor on the wasm heap. Take views only after the last allocation: malloc can grow (and detach) the heap. */
function heapF32(backend: BackendWasm, info: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** The forward convolution's geometry, as the reference kernels compute it. */
function convGeometry(
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  attrs: tf.Conv2DBackpropFilterAttrs | tf.Conv2DBackpropInputAttrs,
): ConvInfo {
  const { strides, pad, dataFormat, dimRoundingMode } = attrs;
  return tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad, dimRoundingMode, false, tf.backend_util.convertConv2DDataFormat(dataFormat));
}

function explicitPad(top: number, bottom: number, left: number, right: number): ExplicitPadding {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/** Whether the XNNPACK rewrite applies; otherwise the reference CPU kernel runs. */
function fastPathApplies(info: ConvInfo, tensors: TensorInfo[]): boolean {
  return (
    info.dataFormat === 'channelsLast' &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.padInfo.top >= 0 &&
    info.padInfo.left >= 0 &&
    tensors.every((t) => t.dtype === 'float32')
  );
}

// ---------------------------------------------------------------- filter gradient

function conv2DBackpropFilterWasm(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.Conv2DBackpropFilterAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const info = convGeometry(x.shape as [number, number, number, number], attrs.filterShape, attrs);
  if (!fastPathApplies(info, [x, dy])) return runOnCpu(tf.Conv2DBackpropFilter, backend, { x, dy }, attrs);

  conv2DGradientCalls.xnnpack++;
  const { inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const { strideHeight, strideWidth } = info;
  const { top, left } = info.padInfo;
  // Pad x below/right just enough that every (tap, output pixel) pair is inside; rows of x no
  // output pixel reaches stay out of the sum because we keep only the first kh × kw results.
  const bottom = Math.max(0, (outHeight - 1) * strideHeight + filterHeight - inHeight - top);
  const right = Math.max(0, (outWidth - 1) * strideWidth + filterWidth - inWidth - left);

  const temps: TensorInfo[] = [];
  try {
    const xT = runWasmKernel(tf.Transpose, backend, { x }, { perm: [3, 1, 2, 0] }); // [ci, H, W, N]
    temps.push(xT);
    const dyT = runWasmKernel(tf.Transpose, backend, { x: dy }, { perm: [1, 2, 0, 3] }); // [Ho, Wo, N, co]
    temps.push(dyT);
    const conv = runWasmKernel(
      tf.Conv2D,
      backend,
      { x: xT, filter: dyT },
      {
        strides: 1,
        dilations: [strideHeight, strideWidth],
        pad: explicitPad(top, bottom, left, right),
        dataFormat: 'NHWC',
      },
    ); // [ci, oh ≥ kh, ow ≥ kw, co]
    temps.push(conv);
    const [, oh, ow] = conv.shape;
    if (oh === undefined || ow === undefined || oh < filterHeight || ow < filterWidth)
      throw new Error(`Conv2DBackpropFilter: internal shape ${conv.shape} smaller than the filter`);

    const out = backend.makeOutput(attrs.filterShape, 'float32');
    const src = heapF32(backend, conv);
    const dst = heapF32(backend, out);
    // dW[i, j, c, :] = conv[c, i, j, :]: a small copy of kh·kw·ci rows of co floats.
    let offset = 0;
    for (let i = 0; i < filterHeight; i++) {
      for (let j = 0; j < filterWidth; j++) {
        for (let c = 0; c < inChannels; c++) {
          const from = ((c * oh + i) * ow + j) * outChannels;
          dst.set(src.subarray(from, from + outChannels), offset);
          offset += outChannels;
        }
      }
    }
    return out;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

// ---------------------------------------------------------------- input gradient

function conv2DBackpropInputWasm(args: { inputs: tf.NamedTensorInfoMap; backend: BackendWasm; attrs: tf.Conv2DBackpropInputAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const info = convGeometry(attrs.inputShape, filter.shape as [number, number, number, number], attrs);
  const { inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth, batchSize } = info;
  const { strideHeight, strideWidth } = info;
  // Padding of the zero-stuffed dy so that a stride-1 'valid' convolution lands exactly on x's grid.
  const dilatedHeight = (outHeight - 1) * strideHeight + 1;
  const dilatedWidth = (outWidth - 1) * strideWidth + 1;
  const top = filterHeight - 1 - info.padInfo.top;
  const left = filterWidth - 1 - info.padInfo.left;
  const bottom = inHeight + filterHeight - 1 - dilatedHeight - top;
  const right = inWidth + filterWidth - 1 - dilatedWidth - left;
  if (!fastPathApplies(info, [dy, filter]) || Math.min(top, left, bottom, right) < 0) {
    return runOnCpu(tf.Conv2DBackpropInput, backend, { dy, filter }, attrs);
  }
  conv2DGradientCalls.xnnpack++;

  const temps: TensorInfo[] = [];
  try {
    let dyIn = dy;
    if (strideHeight > 1 || strideWidth > 1) {
      dyIn = backend.makeOutput([batchSize, dilatedHeight, dilatedWidth, outChannels], 'float32');
      temps.push(dyIn);
      stuffZeros(heapF32(backend, dy), heapF32(backend, dyIn), info, dilatedHeight, dilatedWidth);
    }
    const flipped = backend.makeOutput([filterHeight, filterWidth, outChannels, inChannels], 'float32');
    temps.push(flipped);
    flipAndSwapChannels(heapF32(backend, filter), heapF32(backend, flipped), info);

    const dx = runWasmKernel(
      tf.Conv2D,
      backend,
      { x: dyIn, filter: flipped },
      {
        strides: 1,
        dilations: 1,
        pad: explicitPad(top, bottom, left, right),
        dataFormat: 'NHWC',
      },
    );
    if (dx.shape.some((d, i) => d !== attrs.inputShape[i])) {
      backend.disposeData(dx.dataId);
      throw new Error(`Conv2DBackpropInput: internal shape ${dx.shape} differs from the input shape ${attrs.inputShape}`);
    }
    return dx;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** Copies dy [N,Ho,Wo,co] into [N,(Ho−1)s+1,(Wo−1)s+1,co] with s−1 zero pixels between neighbours. */
function stuffZeros(src: Float32Array, dst: Float32Array, info: ConvInfo, dilatedHeight: number, dilatedWidth: number): void {
  const { batchSize, outHeight, outWidth, outChannels, strideHeight, strideWidth } = info;
  dst.fill(0);
  let from = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let p = 0; p < outHeight; p++) {
      const rowStart = (n * dilatedHeight + p * strideHeight) * dilatedWidth;
      for (let q = 0; q < outWidth; q++) {
        dst.set(src.subarray(from, from + outChannels), (rowStart + q * strideWidth) * outChannels);
        from += outChannels;
      }
    }
  }
}

/** flipped[i,j,o,c] = filter[kh−1−i, kw−1−j, c, o]. */
function flipAndSwapChannels(src: Float32Array, dst: Float32Array, info: ConvInfo): void {
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = info;
  let to = 0;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const base = ((kh - 1 - i) * kw + (kw - 1 - j)) * ci * co;
      for (let o = 0; o < co; o++) {
        for (let c = 0; c < ci; c++) dst[to++] = src[base + c * co + o]!; // base + c·co + o < kh·kw·ci·co, src's length
      }
    }
  }
}

// ---------------------------------------------------------------- reference fallback

/** Runs the CPU backend's kernel on copies of the inputs and returns the result on the wasm heap. */
function runOnCpu(kernelName: string, backend: BackendWasm, inputs: Record<string, TensorInfo>, attrs: object): TensorInfo {
  conv2DGradientCalls.cpuFallback++;
  const cpu = tf.findBackend('cpu');
  const kernel = tf.getKernel(kernelName, 'cpu');
  if (!cpu || !kernel) throw new Error(`${kernelName}: this case needs the tfjs cpu backend as a fallback, and it is not registered`);
  // The CPU backend's first write advises installing tfjs-node; that advice does not apply here.
  (cpu as unknown as { firstUse: boolean }).firstUse = false;
  const cpuInputs: tf.NamedTensorInfoMap = {};
  for (const [name, t] of Object.entries(inputs)) {
    cpuInputs[name] = { dataId: cpu.write(backend.readSync(t.dataId) as tf.backend_util.BackendValues, t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
  }
  try {
    const result = kernel.kernelFunc({ inputs: cpuInputs, backend: cpu, attrs: attrs as tf.NamedAttrMap }) as TensorInfo;
    try {
      return backend.makeOutput(result.shape, result.dtype, undefined, cpu.readSync(result.dataId) as tf.backend_util.BackendValues);
    } finally {
      cpu.disposeData(result.dataId);
    }
  } finally {
    for (const t of Object.values(cpuInputs)) if (t) cpu.disposeData(t.dataId);
  }
}

// ---------------------------------------------------------------- registration

export const wasmConv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: BACKEND,
  kernelFunc: conv2DBackpropFilterWasm as unknown as tf.KernelFunc,
};

export const wasmConv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: BACKEND,
  kernelFunc: conv2DBackpropInputWasm as unknown as tf.KernelFunc,
};

let replacedInputKernel: tf.KernelConfig | undefined;

/** The wasm backend's own (naive) Conv2DBackpropInput that ours replaced, kept for benchmarks. */
export function originalWasmConv2DBackpropInput(): tf.KernelConfig | undefined {
  return replacedInputKernel;
}

/** Registers both kernels for 'wasm'. Safe to call any number of times, before or after the backend starts. */
export function registerWasmConvGradients(): void {
  for (const config of [wasmConv2DBackpropFilterConfig, wasmConv2DBackpropInputConfig]) {
    const existing = tf.getKernel(config.kernelName, BACKEND);
    if (existing?.kernelFunc === config.kernelFunc) continue;
    if (existing) {
      if (config === wasmConv2DBackpropInputConfig) replacedInputKernel = existing;
      tf.unregisterKernel(config.kernelName, BACKEND);
    }
    tf.registerKernel(config);
  }
}

/** The wasm backend for backend.ts: tfjs' own, with these two gradient kernels in place. */
export const wasmBackend: Backend = {
  async prepare() {
    registerWasmConvGradients();
    return null;
  },
};
