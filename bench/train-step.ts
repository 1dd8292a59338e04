/**
 * `npm run bench -- train`'s measurements: one configuration's training steps (batches made as
 * trainEpoch makes them, the time outside the model counted apart), the per-kernel profile of a
 * step, oneDNN's own convolution rate through the addon, the FLOP the rates are counted against,
 * and the train table.
 */
import { batchInput, pixelStats, type DecodedSet, type Normalisation } from '../src/data/decoded-set.js';
import type { Arch } from '../src/config/recipe.js';
import { loadAddon } from '../src/engine/native/addon.js';
import { packConvParams } from '../src/engine/native/params.generated.js';
import { tf } from '../src/engine/tf.js';
import { buildModel } from '../src/model/architectures.js';
import { VISEMO_NET_FILTERS } from '../src/model/visemo-net.js';
import { augmentBatch, isIdentity, type TrainAugment } from '../src/training/augment.js';
import { mixTargets } from '../src/training/teacher.js';
import type { Precision } from '../src/engine/precision.js';
import { createRng } from '../src/util/random.js';
import { median, type TrainResult, type TrainTimes } from './train-rows.js';
import { CACHE_IMAGES, CHANNELS, CLASSES, fmt, keyOf, makeCache, threadsCell, type Options } from './timing-setup.js';

export const PROFILE_STEPS = 3;

export interface KernelShare {
  kernel: string;
  ms: number;
  calls: number;
  share: number;
}

/** The kernels of a training step that are oneDNN convolutions (forward and both gradients). */
export const CONV_KERNELS = new Set(['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']);

/** A profiled step's convolution time: what no fusion around oneDNN's convolutions can go below. */
export interface ConvFloor {
  profile: string;
  arch: Arch;
  size: number;
  threads: number;
  convMs: number;
}

/** oneDNN's GFLOP/s on the reference shape, per pass. */
export interface ConvRates {
  forward: number;
  backwardData: number;
  backwardWeights: number;
}

/** FLOP (multiply-adds times 2) of each 3×3 convolution of one forward pass per image, first layer first. */
function convFlopsPerImage(arch: Arch, size: number): number[] {
  const conv = (hw: number, ic: number, oc: number) => 2 * hw * hw * 9 * ic * oc;
  if (arch === 'visemo') {
    const flops: number[] = [];
    let [hw, ic] = [size, CHANNELS.visemo as number];
    for (const f of VISEMO_NET_FILTERS) {
      flops.push(conv(hw, ic, f), conv(hw, f, f));
      [hw, ic] = [Math.floor(hw / 2), f];
    }
    return flops;
  }
  return [conv(size, 3, 32), conv(size >> 1, 32, 64), conv(size >> 1, 64, 128)];
}

/** FLOP of one forward pass per image; a training step is about 3 passes. */
export function forwardFlopsPerImage(arch: Arch, size: number, classes = CLASSES): number {
  const conv = convFlopsPerImage(arch, size).reduce((a, b) => a + b, 0);
  if (arch === 'visemo') return conv + 2 * VISEMO_NET_FILTERS.at(-1)! * classes;
  const flat = (size >> 3) ** 2 * 128;
  return conv + 2 * flat * 256 + 2 * 256 * classes;
}

/**
 * A step's convolutions alone, each pass (forward, data and weights gradients; the first layer
 * needs no data gradient) at oneDNN's own rate on the reference shape measured in this run: what
 * direct fp32 convolutions cannot go below here unless a layer runs faster than that shape.
 */
export function convRateFloorMs(arch: Arch, size: number, batch: number, r: ConvRates): number {
  const flops = convFlopsPerImage(arch, size).map((f) => f * batch);
  const all = flops.reduce((a, b) => a + b, 0);
  return (all / r.forward + (all - flops[0]!) / r.backwardData + all / r.backwardWeights) / 1e6;
}

/** A training batch made as trainEpoch (src/training/train.ts) makes it, with hard targets. */
function trainingBatch(
  set: DecodedSet,
  idx: number[],
  norm: Normalisation,
  channels: 1 | 3,
  augment: TrainAugment | null,
  rng: () => number,
): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const x = augment
    ? batchInput(
        augmentBatch(set, idx, augment, rng),
        idx.map((_, k) => k),
        norm,
        channels,
      )
    : batchInput(set, idx, norm, channels);
  const y = tf.tensor2d(mixTargets(set.labels, CLASSES, 0, null, idx), [idx.length, CLASSES]);
  return { x, y };
}

/** Kernel times of a few training steps, each kernel's share, and the time outside kernels. */
async function profileSteps(model: tf.LayersModel, batch: () => { x: tf.Tensor4D; y: tf.Tensor2D }): Promise<KernelShare[]> {
  // Kernel times over a few steps (a single step would charge one kernel with a whole GC).
  const byKernel = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (let i = 0; i < PROFILE_STEPS; i++) {
    const { x, y } = batch();
    const t0 = performance.now();
    const info = await tf.profile(async () => {
      await model.trainOnBatch(x, y);
    });
    total += performance.now() - t0;
    tf.dispose([x, y]);
    for (const k of info.kernels) {
      const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
      e.ms += Number(k.kernelTimeMs);
      e.calls++;
      byKernel.set(k.name, e);
    }
  }
  // Op wrappers such as fusedMatMul__op contain their kernel: count the kernel once.
  for (const name of [...byKernel.keys()]) if (name.endsWith('__op')) byKernel.delete(name);
  const inKernels = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
  const per = (ms: number) => ms / PROFILE_STEPS;
  const profile = [...byKernel]
    .map(([kernel, e]) => ({ kernel, ms: per(e.ms), calls: e.calls / PROFILE_STEPS, share: e.ms / total }))
    .sort((a, b) => b.ms - a.ms);
  profile.push({ kernel: '(outside kernels: tfjs-layers, tape, GC)', ms: per(total - inKernels), calls: 0, share: (total - inKernels) / total });
  return profile;
}

/** One configuration's training steps: batch making and the model's step timed apart; with profileIt, a kernel profile after them. */
export async function benchTrain(arch: Arch, size: number, opts: Options, profileIt: boolean): Promise<{ times: TrainTimes; profile?: KernelShare[] }> {
  const channels = CHANNELS[arch];
  const set = makeCache(size, size);
  const norm = pixelStats(set, channels);
  const rng = createRng(1);
  const augment = isIdentity(opts.augment) ? null : opts.augment;
  const augRng = createRng(2);
  const pick = () => Array.from({ length: opts.batch }, () => Math.floor(rng() * CACHE_IMAGES));
  const model = buildModel({ arch, size, numClasses: CLASSES, channels, seed: 1 });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const dataMs: number[] = [];
  const modelMs: number[] = [];
  for (let step = 0; step < opts.warmup + opts.steps; step++) {
    const idx = pick();
    const t0 = performance.now();
    const { x, y } = trainingBatch(set, idx, norm, channels, augment, augRng);
    const t1 = performance.now();
    await model.trainOnBatch(x, y);
    const t2 = performance.now();
    tf.dispose([x, y]);
    if (step >= opts.warmup) {
      dataMs.push(t1 - t0);
      modelMs.push(t2 - t1);
    }
  }
  const profile = profileIt ? await profileSteps(model, () => trainingBatch(set, pick(), norm, channels, augment, augRng)) : undefined;
  model.dispose();
  return { times: { dataMs, modelMs }, profile };
}

/**
 * oneDNN's own rate on the issue's reference shape (3×3, 64→128 channels, 25×25, batch 32)
 * through the addon directly: no tfjs around it. GFLOP/s of the forward pass and both gradients.
 */
export function onednnConvRate(steps: number): ConvRates | null {
  const native = loadAddon();
  if (typeof native === 'string') return null;
  const [N, H, C, OC] = [32, 25, 64, 128];
  const params = packConvParams({
    batch: N,
    inHeight: H,
    inWidth: H,
    inChannels: C,
    filterHeight: 3,
    filterWidth: 3,
    outChannels: OC,
    outHeight: H,
    outWidth: H,
    strideHeight: 1,
    strideWidth: 1,
    dilationHeight: 1,
    dilationWidth: 1,
    padTop: 1,
    padLeft: 1,
    padBottom: 1,
    padRight: 1,
  });
  const rng = createRng(3);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rng() - 0.5);
  const x = fill(N * H * H * C);
  const w = fill(9 * C * OC);
  const y = fill(N * H * H * OC);
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(w.length);
  const flop = 2 * N * H * H * 9 * C * OC;
  const rate = (run: () => boolean) => {
    const times: number[] = [];
    for (let i = 0; i < steps + 3; i++) {
      const t0 = performance.now();
      if (!run()) throw new Error('oneDNN reference convolution failed');
      if (i >= 3) times.push(performance.now() - t0);
    }
    return flop / median(times) / 1e6;
  };
  return {
    forward: rate(() => native.conv2d(x, w, null, y, params, false)),
    backwardData: rate(() => native.conv2dBackwardData(y, w, dx, params)),
    backwardWeights: rate(() => native.conv2dBackwardFilter(x, y, dw, params)),
  };
}

/** A training row's key with its precision: each row is set against PyTorch in the same precision. */
const precisionKeyOf = (r: { arch: Arch; size: number; threads: number | null; precision: Precision }) => `${keyOf(r)}/${r.precision}`;

export function printTrainTable(rows: TrainResult[]): void {
  const torch = new Map(rows.filter((r) => r.backend === 'pytorch').map((r) => [precisionKeyOf(r), r.stepMs]));
  console.log('\narch    size  threads  backend     precision  ms/step  outside-model  images/s  s/epoch(11,475)  GFLOP/s  vs PyTorch');
  for (const r of rows) {
    const ref = torch.get(precisionKeyOf(r));
    console.log(
      `${r.arch.padEnd(6)}  ${String(r.size).padStart(4)}  ${threadsCell(r.threads)}  ${r.backend.padEnd(10)}  ${r.precision.padEnd(9)} ${fmt(r.stepMs).padStart(8)}  ${`${fmt((100 * r.dataMs) / r.stepMs)}%`.padStart(13)}  ${fmt(r.imagesPerSecond, 0).padStart(8)}  ${fmt(r.secondsPerEpoch).padStart(15)}  ${fmt(r.gflopPerSecond, 0).padStart(7)}  ${ref && r.backend !== 'pytorch' ? `${(r.stepMs / ref).toFixed(2)}x` : ''}`,
    );
  }
}
