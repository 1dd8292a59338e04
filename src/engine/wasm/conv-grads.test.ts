import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { useBackend } from '../backend.js';
import { tf } from '../tf.js';
import { buildPaperCnn } from '../../model/paper-cnn.js';
import {
  conv2DGradientCalls,
  originalWasmConv2DBackpropInput,
  registerWasmConvGradients,
  wasmConv2DBackpropFilterConfig,
  wasmConv2DBackpropInputConfig,
} from './conv-grads.js';
import { createRng } from '../../util/random.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

interface GradCase {
  x: Shape4; // NHWC, or NCHW when dataFormat is NCHW
  filter: Shape4;
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

interface Grads {
  dW: Float32Array;
  dx: Float32Array;
}

before(async () => {
  await useBackend('wasm', { quiet: true });
});

function randomValues(size: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: size }, () => rng() * 2 - 1);
}

function outputShape(c: GradCase): Shape4 {
  const info = tf.backend_util.computeConv2DInfo(
    c.x,
    c.filter,
    c.strides,
    1,
    c.pad,
    c.dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(c.dataFormat ?? 'NHWC'),
  );
  return info.outShape;
}

/** Both gradients of one convolution, computed by the kernels of the backend that is active. */
function gradients(c: GradCase, x: Float32Array, filter: Float32Array, dy: Float32Array): Grads {
  return tf.tidy(() => {
    const attrs = {
      strides: c.strides,
      pad: c.pad,
      dataFormat: c.dataFormat ?? 'NHWC',
      ...(c.dimRoundingMode ? { dimRoundingMode: c.dimRoundingMode } : {}),
    };
    const xT = tf.tensor4d(x, c.x);
    const fT = tf.tensor4d(filter, c.filter);
    const dyT = tf.tensor4d(dy, outputShape(c));
    const dW = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: xT, dy: dyT }, { ...attrs, filterShape: c.filter }) as tf.Tensor;
    const dx = tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dyT, filter: fT }, { ...attrs, inputShape: c.x }) as tf.Tensor;
    return { dW: dW.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
  });
}

/** max |got − want| / max |want|. */
function relativeError(got: Float32Array, want: Float32Array): number {
  assert.equal(got.length, want.length);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < want.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(got[i]! - want[i]!));
    maxRef = Math.max(maxRef, Math.abs(want[i]!));
  }
  assert.ok(maxRef > 0, 'reference gradient is all zeros: the case tests nothing');
  return maxDiff / maxRef;
}

/** Gradients on wasm (ours) and on the CPU backend (reference) for the same random inputs. */
async function compareWithCpu(c: GradCase, seed: number): Promise<{ dW: number; dx: number }> {
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const x = randomValues(size(c.x), seed);
  const filter = randomValues(size(c.filter), seed + 1);
  const dy = randomValues(size(outputShape(c)), seed + 2);
  await useBackend('cpu', { quiet: true });
  const want = gradients(c, x, filter, dy);
  await useBackend('wasm', { quiet: true });
  const got = gradients(c, x, filter, dy);
  return { dW: relativeError(got.dW, want.dW), dx: relativeError(got.dx, want.dx) };
}

const FAST_CASES: GradCase[] = [
  // batch 1..4, channels 1..8, kernels 1/3/5, same/valid, strides 1, 2 and 2×1, odd and even sizes
  { x: [1, 5, 5, 1], filter: [3, 3, 1, 1], strides: 1, pad: 'same' },
  { x: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { x: [3, 7, 6, 2], filter: [3, 3, 2, 5], strides: 1, pad: 'valid' },
  { x: [4, 9, 9, 8], filter: [5, 5, 8, 3], strides: 1, pad: 'same' },
  { x: [2, 10, 11, 4], filter: [5, 5, 4, 2], strides: 1, pad: 'valid' },
  { x: [1, 6, 6, 5], filter: [1, 1, 5, 7], strides: 1, pad: 'valid' },
  { x: [3, 8, 8, 2], filter: [3, 3, 2, 3], strides: 2, pad: 'same' },
  { x: [2, 9, 7, 3], filter: [3, 3, 3, 2], strides: 2, pad: 'same' },
  { x: [2, 9, 9, 4], filter: [3, 3, 4, 6], strides: 2, pad: 'valid' },
  { x: [1, 10, 10, 1], filter: [5, 5, 1, 8], strides: 2, pad: 'valid' },
  { x: [4, 5, 5, 6], filter: [1, 1, 6, 2], strides: 2, pad: 'same' },
  { x: [2, 7, 8, 3], filter: [1, 1, 3, 3], strides: 2, pad: 'valid' },
  { x: [3, 9, 8, 4], filter: [3, 3, 4, 5], strides: [2, 1], pad: 'same' },
  { x: [1, 8, 9, 2], filter: [5, 5, 2, 3], strides: [2, 1], pad: 'valid' },
  { x: [2, 11, 6, 7], filter: [3, 3, 7, 4], strides: [1, 2], pad: 'same' },
  // explicit and numeric paddings the rewrite can express
  {
    x: [2, 7, 7, 3],
    filter: [3, 3, 3, 2],
    strides: 1,
    pad: [
      [0, 0],
      [2, 0],
      [1, 2],
      [0, 0],
    ],
  },
  { x: [2, 8, 7, 2], filter: [3, 3, 2, 3], strides: 2, pad: 1 },
  { x: [2, 8, 8, 3], filter: [3, 3, 3, 2], strides: 2, pad: 1, dimRoundingMode: 'ceil' },
];

test('filter and input gradients match the CPU backend on varied shapes (relative error < 1e-4)', async () => {
  const before = conv2DGradientCalls.xnnpack;
  for (const [i, c] of FAST_CASES.entries()) {
    const err = await compareWithCpu(c, 100 + 10 * i);
    const label = `x ${c.x} filter ${c.filter} strides ${c.strides} pad ${JSON.stringify(c.pad)}`;
    assert.ok(err.dW < 1e-4, `dW ${label}: relative error ${err.dW}`);
    assert.ok(err.dx < 1e-4, `dx ${label}: relative error ${err.dx}`);
  }
  assert.equal(conv2DGradientCalls.xnnpack - before, 2 * FAST_CASES.length, 'every case should take the XNNPACK path');
});

test('cases outside the rewrite fall back to the CPU kernels and still agree', async () => {
  const cases: GradCase[] = [
    { x: [2, 3, 7, 6], filter: [3, 3, 3, 4], strides: 1, pad: 'same', dataFormat: 'NCHW' },
    { x: [2, 4, 8, 9], filter: [3, 3, 4, 2], strides: 2, pad: 'valid', dataFormat: 'NCHW' },
    // padding larger than the kernel: the input gradient would need negative padding
    {
      x: [1, 6, 6, 2],
      filter: [3, 3, 2, 3],
      strides: 1,
      pad: [
        [0, 0],
        [4, 1],
        [0, 3],
        [0, 0],
      ],
    },
  ];
  const before = conv2DGradientCalls.cpuFallback;
  for (const [i, c] of cases.entries()) {
    const err = await compareWithCpu(c, 500 + 10 * i);
    assert.ok(err.dW < 1e-4 && err.dx < 1e-4, `case ${i}: relative errors ${err.dW}, ${err.dx}`);
  }
  assert.ok(conv2DGradientCalls.cpuFallback - before >= 5, 'NCHW and over-padded cases should use the CPU fallback');
});

test('tf.grad of conv2d on wasm uses our kernels and matches the CPU backend', async () => {
  const x = randomValues(2 * 9 * 9 * 3, 7);
  const w = randomValues(3 * 3 * 3 * 4, 8);
  const run = () =>
    tf.tidy(() => {
      const f = (a: tf.Tensor4D, b: tf.Tensor4D) => tf.conv2d(a, b, 2, 'same').square().sum();
      const [dx, dw] = tf.grads(f as (...args: tf.Tensor[]) => tf.Tensor)([tf.tensor4d(x, [2, 9, 9, 3]), tf.tensor4d(w, [3, 3, 3, 4])]);
      return [dx!.dataSync() as Float32Array, dw!.dataSync() as Float32Array];
    });
  await useBackend('cpu', { quiet: true });
  const [wantDx, wantDw] = run();
  await useBackend('wasm', { quiet: true });
  const before = conv2DGradientCalls.xnnpack;
  const [gotDx, gotDw] = run();
  assert.equal(conv2DGradientCalls.xnnpack - before, 2);
  assert.ok(relativeError(gotDx!, wantDx!) < 1e-4);
  assert.ok(relativeError(gotDw!, wantDw!) < 1e-4);
});

test('registration is idempotent and keeps the replaced wasm kernel for benchmarks', () => {
  const warnings: unknown[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args);
  try {
    registerWasmConvGradients();
    registerWasmConvGradients();
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(warnings, []);
  assert.equal(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')?.kernelFunc, wasmConv2DBackpropFilterConfig.kernelFunc);
  assert.equal(tf.getKernel(tf.Conv2DBackpropInput, 'wasm')?.kernelFunc, wasmConv2DBackpropInputConfig.kernelFunc);
  const original = originalWasmConv2DBackpropInput();
  assert.ok(original && original.kernelFunc !== wasmConv2DBackpropInputConfig.kernelFunc);
});

test('the paper CNN trains on wasm: trainOnBatch loss decreases', async () => {
  await useBackend('wasm', { quiet: true });
  const size = 20;
  const batch = 8;
  const numClasses = 6;
  const model = buildPaperCnn({ size, numClasses, seed: 3 });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const xs = tf.tensor4d(
    randomValues(batch * size * size * 3, 11).map((v) => (v + 1) / 2),
    [batch, size, size, 3],
  );
  const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 0, 1], 'int32'), numClasses);
  const losses: number[] = [];
  for (let step = 0; step < 6; step++) losses.push((await model.trainOnBatch(xs, ys)) as number);
  tf.dispose([xs, ys]);
  model.dispose();
  assert.ok(losses.every(Number.isFinite), `losses ${losses}`);
  assert.ok(losses.at(-1)! < losses[0]! * 0.9, `loss should fall on a fixed batch: ${losses.map((l) => l.toFixed(3)).join(' → ')}`);
});

test('no tensors or heap memory leak across repeated gradient steps', async () => {
  await useBackend('wasm', { quiet: true });
  const backend = tf.backend() as unknown as { numDataIds(): number; wasm: { HEAPU8: Uint8Array } };
  const cpu = tf.findBackend('cpu') as unknown as { numDataIds(): number };
  const x = tf.tensor4d(randomValues(4 * 12 * 12 * 3, 21), [4, 12, 12, 3]);
  const w = tf.variable(tf.tensor4d(randomValues(5 * 5 * 3 * 8, 22), [5, 5, 3, 8]));
  const step = () =>
    tf.tidy(() => {
      const loss = () =>
        tf
          .conv2d(tf.conv2d(x, w, 2, 'same'), w.transpose([0, 1, 3, 2]), 1, 'valid')
          .square()
          .mean() as tf.Scalar;
      const { grads } = tf.variableGrads(loss);
      w.assign(w.sub(grads[w.name]!.mul(1e-3)));
      // the NCHW fallback path too
      tf.engine().runKernel(
        tf.Conv2DBackpropFilter,
        { x: x.transpose([0, 3, 1, 2]), dy: tf.ones([4, 8, 8, 8]) },
        {
          strides: 1,
          pad: 'valid',
          dataFormat: 'NCHW',
          filterShape: [5, 5, 3, 8],
        },
      );
    });
  for (let i = 0; i < 3; i++) step(); // warm-up: lazily created tensors, heap growth to the working size
  const start = { tensors: tf.memory().numTensors, dataIds: backend.numDataIds(), cpuIds: cpu.numDataIds(), heap: backend.wasm.HEAPU8.length };
  for (let i = 0; i < 40; i++) step();
  const end = { tensors: tf.memory().numTensors, dataIds: backend.numDataIds(), cpuIds: cpu.numDataIds(), heap: backend.wasm.HEAPU8.length };
  tf.dispose([x, w]);
  assert.deepEqual(end, start);
});
