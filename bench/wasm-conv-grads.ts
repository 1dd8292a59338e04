/**
 * Timing of the wasm Conv2D gradient kernels (src/engine/wasm/conv-grads.ts).
 * Run: npx tsx bench/wasm-conv-grads.ts
 *
 * Prints ms per training step of the paper CNN (batch 32) at 20×20 and 50×50 with our kernels,
 * the 50×50 step again with the wasm backend's own naive Conv2DBackpropInput in place of ours,
 * and that naive kernel next to ours on the 50×50 model's shapes. Timings on a shared machine
 * vary by ±20 %; compare figures from one run.
 */
import { useBackend } from '../src/engine/backend.js';
import { tf } from '../src/engine/tf.js';
import { buildPaperCnn } from '../src/model/paper-cnn.js';
import { originalWasmConv2DBackpropInput, registerWasmConvGradients, wasmConv2DBackpropInputConfig } from '../src/engine/wasm/conv-grads.js';

const BATCH = 32;
const NUM_CLASSES = 6;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function msPerTrainingStep(size: number, steps: number): Promise<number> {
  const model = buildPaperCnn({ size, numClasses: NUM_CLASSES, seed: 1 });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const xs = tf.randomUniform([BATCH, size, size, 3], 0, 1, 'float32', 7);
  const ys = tf.oneHot(tf.randomUniform([BATCH], 0, NUM_CLASSES, 'int32', 8), NUM_CLASSES);
  await model.trainOnBatch(xs, ys); // warm-up: kernel setup and XNNPACK code paths
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const start = performance.now();
    await model.trainOnBatch(xs, ys);
    times.push(performance.now() - start);
  }
  tf.dispose([xs, ys]);
  model.dispose();
  return median(times);
}

function msPerKernel(kernel: tf.KernelConfig, dy: tf.Tensor4D, filter: tf.Tensor4D, inputShape: number[], repeats: number): number {
  const backend = tf.backend();
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape };
  const times: number[] = [];
  for (let i = 0; i <= repeats; i++) {
    const start = performance.now();
    const out = kernel.kernelFunc({ inputs: { dy, filter }, backend, attrs }) as tf.TensorInfo;
    if (i > 0) times.push(performance.now() - start); // the first run is warm-up
    backend.disposeData(out.dataId);
  }
  return median(times);
}

async function main(): Promise<void> {
  await useBackend('wasm');
  console.log(`tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}, batch ${BATCH}`);

  const naive = originalWasmConv2DBackpropInput();
  if (!naive) throw new Error("the wasm backend's own Conv2DBackpropInput was not found");
  // It was unregistered before the backend started, so its one-time setup (binding the C++ function) never ran.
  naive.setupFunc?.(tf.backend());

  console.log('\nPaper CNN training step (trainOnBatch, Adam, categorical cross-entropy), median:');
  for (const size of [20, 50]) {
    console.log(`  ${size}×${size}, our kernels:              ${(await msPerTrainingStep(size, size === 20 ? 10 : 5)).toFixed(0).padStart(5)} ms/step`);
  }
  tf.unregisterKernel(tf.Conv2DBackpropInput, 'wasm');
  tf.registerKernel(naive);
  console.log(`  50×50, naive Conv2DBackpropInput: ${(await msPerTrainingStep(50, 3)).toFixed(0).padStart(5)} ms/step`);
  registerWasmConvGradients(); // puts ours back

  console.log("\nConv2DBackpropInput on the 50×50 model's shapes (3×3, same, stride 1), median:");
  console.log('  layer     x shape          filter          naive     ours   speed-up');
  for (const [name, inputShape, filterShape] of [
    ['conv2d_1', [BATCH, 25, 25, 32], [3, 3, 32, 64]],
    ['conv2d_2', [BATCH, 25, 25, 64], [3, 3, 64, 128]],
  ] as const) {
    const dy = tf.randomNormal([BATCH, inputShape[1], inputShape[2], filterShape[3]], 0, 1, 'float32', 3) as tf.Tensor4D;
    const filter = tf.randomNormal([...filterShape], 0, 1, 'float32', 4) as tf.Tensor4D;
    const naiveMs = msPerKernel(naive, dy, filter, [...inputShape], 3);
    const oursMs = msPerKernel(wasmConv2DBackpropInputConfig, dy, filter, [...inputShape], 3);
    console.log(
      `  ${name.padEnd(9)} ${JSON.stringify(inputShape).padEnd(16)} ${JSON.stringify(filterShape).padEnd(15)} ` +
        `${naiveMs.toFixed(1).padStart(6)} ms ${oursMs.toFixed(1).padStart(6)} ms ${(naiveMs / oursMs).toFixed(1).padStart(6)}×`,
    );
    tf.dispose([dy, filter]);
  }
}

await main();
