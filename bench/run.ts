/**
 * `npm run bench -- train | predict`: step time of the paper's CNN and of the visemo net
 * (`--arch`) on each available backend and on the PyTorch reference (bench/pytorch_ref.py, the
 * same models), at each thread count of `--threads`, in one run, as a table and as JSON.
 * Batches come from a uint8 image cache through training's own code (batchInput, mixTargets
 * and, with --augment, augmentBatch, called as trainEpoch calls them), and that time is reported
 * as the share of the step spent outside the model. Native and PyTorch are timed in turns
 * (`--rounds`), so a load that comes and goes on a shared machine falls on both; each figure is
 * the median of every timed step of every round. The train mode also times oneDNN's own 3×3
 * convolution through the addon, the rate the whole step is measured against. Each train row has
 * its precision (bench/train-rows.ts): where the CPU has avx512_bf16 or AMX, PyTorch is also timed
 * in bf16 autocast with channels-last; native bf16 and oneDNN's bf16 rate need an addon with bf16
 * kernels, which this version lacks; one line says which bf16 rows are skipped and why. `predict` also
 * times the same models exported to ONNX on onnxruntime-node (backend 'onnx').
 * `serve` (bench/serve.ts): the web app's server under load; `queue` (bench/queue.ts):
 * `visemo worker` with 1 and 2 processes on the same videos; `video` (bench/video.ts): frames per
 * second of tracked video analysis beside face-api.js's own pipeline; `web` (bench/web.ts): the
 * web page's frames per second on a fake webcam in headless Chromium, per face detector.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os, { availableParallelism, cpus } from 'node:os';
import { Command, Option } from 'commander';
import { batchArray, batchInput, pixelStats, type DecodedSet } from '../src/data/decoded-set.js';
import { TIGHT_CROPS } from '../src/data/face-cut.js';
import { ARCHITECTURES, type Arch } from '../src/config/recipe.js';
import { activeBackend, prepareForTraining, useBackend, type BackendName } from '../src/engine/backend.js';
import { openOnnxSession } from '../src/engine/onnx.js';
import { modelToOnnx } from '../src/export/onnx-model.js';
import type { RunMetadata } from '../src/model/run-folder.js';
import { loadAddon } from '../src/engine/native/addon.js';
import { tf } from '../src/engine/tf.js';
import { buildModel } from '../src/model/architectures.js';
import { VISEMO_NET_FILTERS } from '../src/model/visemo-net.js';
import { augmentBatch, formatTrainAugment, isIdentity, parseTrainAugment, type TrainAugment } from '../src/training/augment.js';
import { mixTargets } from '../src/training/teacher.js';
import type { Normalisation } from '../src/data/decoded-set.js';
import { writeJsonAtomic } from '../src/util/atomic.js';
import { addServeBench } from './serve.js';
import { benchHead, bf16Plan, median, trainResult, type TrainResult, type TrainTimes } from './train-rows.js';
import { cpuFeatures } from '../src/engine/cpu-features.js';
import { addonPrecisions } from '../src/engine/native/addon.js';
import type { Precision } from '../src/engine/precision.js';
import { createRng } from '../src/util/random.js';
import { TRACKING_DEFAULTS } from '../src/config/tracking.js';
import { benchVideo } from './video.js';

const TRAIN_IMAGES = 11475; // the paper's training set
const CACHE_IMAGES = 256;
const CLASSES = 6;
/** The paper's monochrome is replicated to three channels; the visemo net takes one. */
const CHANNELS: Record<Arch, 1 | 3> = { paper: 3, visemo: 1 };
const DEFAULT_SIZES: Record<Arch, number[]> = { paper: [20, 50, 100], visemo: [48] };
const PYTHON = '/usr/bin/python3';
const PROFILE_STEPS = 3;
// PyTorch starts from the environment the user started the bench with: the native backend sets
// OMP_WAIT_POLICY=passive for itself, and that must not decide how the reference runs.
const USER_ENV = { ...process.env };

/** A tfjs backend, or onnxruntime-node on the exported graph (inference only). */
type BenchBackend = BackendName | 'onnx';

interface Options {
  arch: Arch[];
  sizes?: number[];
  backends: BenchBackend[];
  steps: number;
  warmup: number;
  batch: number;
  augment: TrainAugment;
  pytorch: boolean;
  profile: boolean;
  threads: number[];
  /** Activation layouts of the native convolutions: 'nhwc' (tfjs') and/or 'blocked' (oneDNN's). */
  layouts: NativeLayout[];
  rounds: number;
  out: string;
}

type NativeLayout = 'nhwc' | 'blocked';
/** The row label of a native layout: 'native' keeps its name, blocked activations are 'native-blk'. */
const layoutLabel = (l: NativeLayout) => (l === 'nhwc' ? 'native' : 'native-blk');

interface PredictResult {
  arch: Arch;
  size: number;
  threads: number | null;
  backend: string;
  batch1: { ms: number; imagesPerSecond: number };
  batch64: { ms: number; imagesPerSecond: number };
}

interface KernelShare {
  kernel: string;
  ms: number;
  calls: number;
  share: number;
}

/** The kernels of a training step that are oneDNN convolutions (forward and both gradients). */
const CONV_KERNELS = new Set(['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']);

/** A profiled step's convolution time: what no fusion around oneDNN's convolutions can go below. */
interface ConvFloor {
  profile: string;
  arch: Arch;
  size: number;
  threads: number;
  convMs: number;
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
function convRateFloorMs(arch: Arch, size: number, batch: number, r: { forward: number; backwardData: number; backwardWeights: number }): number {
  const flops = convFlopsPerImage(arch, size).map((f) => f * batch);
  const all = flops.reduce((a, b) => a + b, 0);
  return (all / r.forward + (all - flops[0]!) / r.backwardData + all / r.backwardWeights) / 1e6;
}

/** A decoded uint8 gray image cache, as training keeps in memory (src/data/decoded-set.ts). */
function makeCache(size: number, seed: number): DecodedSet {
  const rng = createRng(seed);
  const pixels = Uint8Array.from({ length: CACHE_IMAGES * size * size }, () => Math.floor(rng() * 256));
  const labels = Int32Array.from({ length: CACHE_IMAGES }, () => Math.floor(rng() * CLASSES));
  const rels = Array.from({ length: CACHE_IMAGES }, (_, i) => `bench/${i}.png`);
  return { size, pixels, labels, rels };
}

/** A training batch made as trainEpoch (src/training/train.ts) makes it, with hard targets. */
function trainingBatch(set: DecodedSet, idx: number[], norm: Normalisation, channels: 1 | 3, augment: TrainAugment | null, rng: () => number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const x = augment ? batchInput(augmentBatch(set, idx, augment, rng), idx.map((_, k) => k), norm, channels) : batchInput(set, idx, norm, channels);
  const y = tf.tensor2d(mixTargets(set.labels, CLASSES, 0, null, idx), [idx.length, CLASSES]);
  return { x, y };
}

async function benchTrain(arch: Arch, size: number, opts: Options, profileIt: boolean): Promise<{ times: TrainTimes; profile?: KernelShare[] }> {
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
  let profile: KernelShare[] | undefined;
  if (profileIt) {
    // Kernel times over a few steps (a single step would charge one kernel with a whole GC).
    const byKernel = new Map<string, { ms: number; calls: number }>();
    let total = 0;
    for (let i = 0; i < PROFILE_STEPS; i++) {
      const { x, y } = trainingBatch(set, pick(), norm, channels, augment, augRng);
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
    profile = [...byKernel]
      .map(([kernel, e]) => ({ kernel, ms: per(e.ms), calls: e.calls / PROFILE_STEPS, share: e.ms / total }))
      .sort((a, b) => b.ms - a.ms);
    profile.push({ kernel: '(outside kernels: tfjs-layers, tape, GC)', ms: per(total - inKernels), calls: 0, share: (total - inKernels) / total });
  }
  model.dispose();
  return { times: { dataMs, modelMs }, profile };
}

interface PredictTimes {
  batch1: number[];
  batch64: number[];
}

async function benchPredict(arch: Arch, size: number, opts: Options): Promise<PredictTimes> {
  const channels = CHANNELS[arch];
  const set = makeCache(size, size);
  const norm = pixelStats(set, channels);
  const rng = createRng(2);
  const model = buildModel({ arch, size, numClasses: CLASSES, channels, seed: 1 });
  const result: PredictTimes = { batch1: [], batch64: [] };
  for (const batch of [1, 64] as const) {
    for (let step = 0; step < opts.warmup + opts.steps; step++) {
      const idx = Array.from({ length: batch }, () => Math.floor(rng() * CACHE_IMAGES));
      const t0 = performance.now();
      // As predictSet (src/model/predict-set.ts) builds its batches.
      const x = batchInput(set, idx, norm, channels);
      const y = model.predict(x) as tf.Tensor;
      await y.data();
      const t1 = performance.now();
      tf.dispose([x, y]);
      if (step >= opts.warmup) result[`batch${batch}`].push(t1 - t0);
    }
  }
  model.dispose();
  return result;
}

/** benchPredict's model and batches on onnxruntime-node: the graph `visemo export` writes, fed as predictSetOnnx feeds it. */
async function benchPredictOnnx(arch: Arch, size: number, opts: Options): Promise<PredictTimes> {
  const channels = CHANNELS[arch];
  const set = makeCache(size, size);
  const norm = pixelStats(set, channels);
  const rng = createRng(2);
  if (!activeBackend()) await useBackend('cpu', { quiet: true }); // tfjs only builds the model to export
  const model = buildModel({ arch, size, numClasses: CLASSES, channels, seed: 1 });
  const meta = { arch, classes: Array.from({ length: CLASSES }, (_, i) => `class${i}`), inputSize: size, channels, normalisation: norm, faceCut: TIGHT_CROPS } as RunMetadata;
  const session = await openOnnxSession(modelToOnnx(model, 'bench', meta));
  model.dispose();
  const result: PredictTimes = { batch1: [], batch64: [] };
  for (const batch of [1, 64] as const) {
    for (let step = 0; step < opts.warmup + opts.steps; step++) {
      const idx = Array.from({ length: batch }, () => Math.floor(rng() * CACHE_IMAGES));
      const t0 = performance.now();
      await session.run(batchArray(set, idx, norm, channels, 'nchw'), [batch, channels, size, size]);
      const t1 = performance.now();
      if (step >= opts.warmup) result[`batch${batch}`].push(t1 - t0);
    }
  }
  await session.release();
  return result;
}

function predictResult(arch: Arch, size: number, threads: number | null, backend: string, t: PredictTimes): PredictResult {
  const entry = (times: number[], batch: number) => {
    const ms = median(times);
    return { ms, imagesPerSecond: (batch * 1000) / ms };
  };
  return { arch, size, threads, backend, batch1: entry(t.batch1, 1), batch64: entry(t.batch64, 64) };
}

/**
 * oneDNN's own rate on the issue's reference shape (3×3, 64→128 channels, 25×25, batch 32)
 * through the addon directly: no tfjs around it. GFLOP/s of the forward pass and both gradients.
 */
function onednnConvRate(steps: number): { forward: number; backwardData: number; backwardWeights: number } | null {
  const native = loadAddon();
  if (typeof native === 'string') return null;
  const [N, H, C, OC] = [32, 25, 64, 128];
  const params = Int32Array.from([N, H, H, C, 3, 3, OC, H, H, 1, 1, 1, 1, 1, 1, 1, 1]);
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

function setNativeThreads(threads: number): void {
  const native = loadAddon();
  if (typeof native !== 'string') native.setThreads(threads);
}

function setNativeLayout(layout: NativeLayout): void {
  const native = loadAddon();
  if (typeof native !== 'string') native.setBlockedActivations(layout === 'blocked');
}

/** PyTorch's raw step times per size for one architecture and thread count. */
interface TorchRun {
  torch: string;
  results: ({ size: number } & (TrainTimes | PredictTimes))[];
}

/** PyTorch in `precision`: fp32, or bf16 autocast with channels-last (bench/pytorch_ref.py), as PyTorch is run for bf16 on CPUs. */
function runPytorch(mode: 'train' | 'predict', arch: Arch, sizes: number[], threads: number, opts: Options, precision: Precision): TorchRun | string {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  // OpenMP's default busy-waiting makes PyTorch many times slower as soon as anything else uses
  // a core, and passive waiting costs it a little on an idle machine: unless the user chose a
  // policy, time both and keep the faster per size, so the reference is PyTorch at its best.
  const envs = USER_ENV.OMP_WAIT_POLICY ? [USER_ENV] : [USER_ENV, { ...USER_ENV, OMP_WAIT_POLICY: 'passive' }];
  const runs: TorchRun[] = [];
  for (const env of envs) {
    const r = runPytorchOnce(mode, arch, sizes, threads, opts, env, precision);
    if (typeof r === 'string') return r;
    runs.push(r);
  }
  const cost = (x: TrainTimes | PredictTimes) =>
    'modelMs' in x ? median(x.modelMs.map((m, i) => m + x.dataMs[i]!)) : median(x.batch1) + median(x.batch64) / 64;
  const results = runs[0]!.results.map((first, i) => runs.map((r) => r.results[i]!).reduce((a, b) => (cost(b) < cost(a) ? b : a), first));
  return { torch: runs[0]!.torch, results };
}

function runPytorchOnce(mode: 'train' | 'predict', arch: Arch, sizes: number[], threads: number, opts: Options, env: NodeJS.ProcessEnv, precision: Precision): TorchRun | string {
  const script = new URL('./pytorch_ref.py', import.meta.url).pathname;
  const args = [script, mode, '--precision', precision, '--arch', arch, '--channels', String(CHANNELS[arch]), '--sizes', sizes.join(','), '--steps', String(opts.steps), '--warmup', String(opts.warmup), '--batch', String(opts.batch), '--threads', String(threads)];
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 24, env });
  if (r.status !== 0) {
    const last = (r.stderr || '').trim().split('\n').pop() ?? '';
    // The script imports numpy before torch; python3-torch brings both.
    return /No module named '(torch|numpy)'/.test(r.stderr) ? 'python3-torch is not installed (bash scripts/setup.sh --bench installs it)' : `the PyTorch reference failed: ${last}`;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as TorchRun;
}

const fmt = (v: number | undefined, digits = 1) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));

const keyOf = (r: { arch: Arch; size: number; threads: number | null }) => `${r.arch}@${r.size}/${r.threads}`;
/** A training row's key with its precision: each row is set against PyTorch in the same precision. */
const precisionKeyOf = (r: { arch: Arch; size: number; threads: number | null; precision: Precision }) => `${keyOf(r)}/${r.precision}`;
const threadsCell = (t: number | null) => (t === null ? '-' : String(t)).padStart(7);

function printTrainTable(rows: TrainResult[]): void {
  const torch = new Map(rows.filter((r) => r.backend === 'pytorch').map((r) => [precisionKeyOf(r), r.stepMs]));
  console.log('\narch    size  threads  backend     precision  ms/step  outside-model  images/s  s/epoch(11,475)  GFLOP/s  vs PyTorch');
  for (const r of rows) {
    const ref = torch.get(precisionKeyOf(r));
    console.log(
      `${r.arch.padEnd(6)}  ${String(r.size).padStart(4)}  ${threadsCell(r.threads)}  ${r.backend.padEnd(10)}  ${r.precision.padEnd(9)} ${fmt(r.stepMs).padStart(8)}  ${`${fmt((100 * r.dataMs) / r.stepMs)}%`.padStart(13)}  ${fmt(r.imagesPerSecond, 0).padStart(8)}  ${fmt(r.secondsPerEpoch).padStart(15)}  ${fmt(r.gflopPerSecond, 0).padStart(7)}  ${ref && r.backend !== 'pytorch' ? `${(r.stepMs / ref).toFixed(2)}x` : ''}`,
    );
  }
}

function printPredictTable(rows: PredictResult[]): void {
  const torch = new Map(rows.filter((r) => r.backend === 'pytorch').map((r) => [keyOf(r), r]));
  console.log('\narch    size  threads  backend   batch1 ms  images/s   batch64 ms  images/s   vs PyTorch (batch 1 / 64)');
  for (const r of rows) {
    const ref = torch.get(keyOf(r));
    const ratio = ref && r.backend !== 'pytorch' ? `${(r.batch1.ms / ref.batch1.ms).toFixed(2)}x / ${(r.batch64.ms / ref.batch64.ms).toFixed(2)}x` : '';
    console.log(
      `${r.arch.padEnd(6)}  ${String(r.size).padStart(4)}  ${threadsCell(r.threads)}  ${r.backend.padEnd(8)} ${fmt(r.batch1.ms, 2).padStart(9)}  ${fmt(r.batch1.imagesPerSecond, 0).padStart(8)}   ${fmt(r.batch64.ms).padStart(10)}  ${fmt(r.batch64.imagesPerSecond, 0).padStart(8)}   ${ratio}`,
    );
  }
}

/** One configuration's times over all turns. */
interface BenchEntry<T extends TrainTimes | PredictTimes> {
  arch: Arch;
  size: number;
  threads: number | null;
  backend: string;
  precision: Precision;
  times: T;
}

/** Appends one turn's times to a configuration's. */
function collect<T extends TrainTimes | PredictTimes>(store: Map<string, BenchEntry<T>>, arch: Arch, size: number, threads: number | null, backend: string, times: T, precision: Precision = 'fp32'): void {
  const key = `${backend}/${precision}:${arch}@${size}/${threads}`;
  const e = store.get(key);
  if (!e) {
    store.set(key, { arch, size, threads, backend, precision, times });
    return;
  }
  for (const k of Object.keys(times) as (keyof T)[]) (e.times[k] as number[]).push(...(times[k] as number[]));
}

async function main(mode: 'train' | 'predict', opts: Options): Promise<void> {
  // Read by the native backend when it loads its addon (and by wasm when it starts); later thread
  // counts of --threads are set on the addon between turns.
  process.env.VISEMO_THREADS = String(opts.threads[0]);
  const loadAtStart = os.loadavg();
  const sizesOf = (arch: Arch) => opts.sizes ?? DEFAULT_SIZES[arch];
  const store = new Map<string, BenchEntry<TrainTimes | PredictTimes>>();
  const profiles: Record<string, KernelShare[]> = {};
  const convFloors: ConvFloor[] = [];
  const skipped: Record<string, string> = {};
  const available: BackendName[] = [];
  const onnx = opts.backends.includes('onnx');
  if (onnx && mode === 'train') {
    skipped.onnx = 'inference only';
    console.log('onnx: inference only, skipped');
  }
  for (const backend of opts.backends) {
    if (backend === 'onnx') continue;
    const got = await useBackend(backend, { quiet: true });
    if (got !== backend) {
      skipped[backend] = `not available (fell back to ${got})`;
      console.log(`${backend}: not available, skipped`);
    } else available.push(backend);
  }
  // bf16 rows where this machine can time them: PyTorch's bf16 autocast needs a CPU with bf16,
  // native bf16 and oneDNN's bf16 rate also an addon with bf16 kernels (this version has none).
  const cpu = cpuFeatures();
  const addon = loadAddon();
  const bf16 = bf16Plan(cpu, typeof addon === 'string' ? [] : addonPrecisions(addon));
  if (mode === 'train') {
    if (bf16.native) skipped['native bf16'] = bf16.native;
    if (bf16.pytorch && opts.pytorch) skipped['pytorch bf16'] = bf16.pytorch;
    if (bf16.pytorch) console.log(`bf16 rows skipped (native bf16, oneDNN's bf16 convolution rate${opts.pytorch ? ', PyTorch bf16 autocast' : ''}): ${bf16.pytorch}`);
    else if (bf16.native) console.log(`native bf16 rows and oneDNN's bf16 convolution rate skipped: ${bf16.native}${opts.pytorch ? '; PyTorch bf16 autocast is timed' : ''}`);
  }
  const torchPrecisions: Precision[] = mode === 'train' && !bf16.pytorch ? ['fp32', 'bf16'] : ['fp32'];
  let torchVersion: string | undefined;
  let torchOff = !opts.pytorch;
  const convRates: Record<string, ReturnType<typeof onednnConvRate>> = {};
  const profileThreads = opts.threads[opts.threads.length - 1]!;
  for (let round = 0; round < opts.rounds; round++) {
    for (const threads of opts.threads) {
      setNativeThreads(threads);
      if (mode === 'train' && round === 0 && available.includes('native')) convRates[threads] = onednnConvRate(opts.steps);
      for (const arch of opts.arch) {
        // The native backend once per activation layout, as its own row.
        const variants = available.flatMap((b): { backend: BackendName; layout: NativeLayout | null; label: string }[] => (b === 'native' ? opts.layouts.map((l) => ({ backend: b, layout: l, label: layoutLabel(l) })) : [{ backend: b, layout: null, label: b }]));
        for (const { backend, layout, label } of variants) {
          // wasm's thread count is fixed when it starts: timed once, at the first count.
          if (backend !== 'native' && threads !== opts.threads[0]) continue;
          await useBackend(backend, { quiet: true });
          // As `visemo train` runs (the native buffer pool sized for training steps).
          if (mode === 'train') await prepareForTraining();
          if (layout) setNativeLayout(layout);
          const rowThreads = backend === 'native' ? threads : null;
          for (const size of sizesOf(arch)) {
            const tag = `${label} ${arch} ${size}x${size}${rowThreads ? `, ${threads} thread${threads > 1 ? 's' : ''}` : ''}, round ${round + 1}/${opts.rounds}`;
            if (mode === 'train') {
              const profileIt = opts.profile && backend === 'native' && round === 0 && threads === profileThreads;
              const { times, profile } = await benchTrain(arch, size, opts, profileIt);
              collect(store, arch, size, rowThreads, label, times);
              if (profile) {
                const key = `${label} ${arch}@${size}, ${threads} threads`;
                profiles[key] = profile;
                convFloors.push({ profile: key, arch, size, threads, convMs: profile.filter((k) => CONV_KERNELS.has(k.kernel)).reduce((a, k) => a + k.ms, 0) });
              }
              console.log(`${tag}: ${fmt(median(times.modelMs.map((m, i) => m + times.dataMs[i]!)))} ms per step`);
            } else {
              const times = await benchPredict(arch, size, opts);
              collect(store, arch, size, rowThreads, label, times);
              console.log(`${tag}: batch 1 ${fmt(median(times.batch1), 2)} ms, batch 64 ${fmt(median(times.batch64))} ms`);
            }
          }
        }
        if (mode === 'predict' && onnx && threads === opts.threads[0]) {
          for (const size of sizesOf(arch)) {
            const times = await benchPredictOnnx(arch, size, opts);
            collect(store, arch, size, null, 'onnx', times);
            console.log(`onnx ${arch} ${size}x${size}, round ${round + 1}/${opts.rounds}: batch 1 ${fmt(median(times.batch1), 2)} ms, batch 64 ${fmt(median(times.batch64))} ms`);
          }
        }
        // PyTorch's turn right after native's on the same configurations, in each precision.
        for (const precision of torchPrecisions) {
          if (torchOff) break;
          const label = `pytorch${precision === 'fp32' ? '' : ` ${precision}`}`;
          if (skipped[label]) continue;
          const ref = runPytorch(mode, arch, sizesOf(arch), threads, opts, precision);
          if (typeof ref === 'string') {
            skipped[label] = ref;
            // Without fp32 PyTorch there is no reference at all; a failed bf16 autocast leaves fp32's.
            if (precision === 'fp32') torchOff = true;
            console.log(`${label}: ${ref}, skipped`);
            continue;
          }
          torchVersion = ref.torch;
          for (const r of ref.results) {
            const { size, ...times } = r;
            collect(store, arch, size, threads, 'pytorch', times as TrainTimes | PredictTimes, precision);
            const t = times as TrainTimes & PredictTimes;
            console.log(`${label} ${arch} ${size}x${size}, ${threads} thread${threads > 1 ? 's' : ''}, round ${round + 1}/${opts.rounds}: ${mode === 'train' ? `${fmt(median(t.modelMs.map((m, i) => m + t.dataMs[i]!)))} ms per step` : `batch 1 ${fmt(median(t.batch1), 2)} ms, batch 64 ${fmt(median(t.batch64))} ms`}`);
          }
        }
      }
    }
  }
  if (torchVersion) console.log(`pytorch ${torchVersion}: ${USER_ENV.OMP_WAIT_POLICY ? `OMP_WAIT_POLICY=${USER_ENV.OMP_WAIT_POLICY}` : "the faster of OpenMP's default and passive waiting, per size and turn"}`);
  const backendOrder = [...opts.backends.flatMap((b) => (b === 'native' ? opts.layouts.map(layoutLabel) : [b])), 'pytorch'];
  const rows = [...store.values()]
    .map((e) =>
      mode === 'train'
        ? trainResult({ arch: e.arch, size: e.size, threads: e.threads, backend: e.backend, precision: e.precision }, e.times as TrainTimes, { batch: opts.batch, trainImages: TRAIN_IMAGES, forwardFlopsPerImage: forwardFlopsPerImage(e.arch, e.size) })
        : predictResult(e.arch, e.size, e.threads, e.backend, e.times as PredictTimes),
    )
    .sort(
      (a, b) =>
        opts.arch.indexOf(a.arch) - opts.arch.indexOf(b.arch) ||
        a.size - b.size ||
        (a.threads ?? 0) - (b.threads ?? 0) ||
        ('precision' in a && 'precision' in b ? Number(a.precision !== 'fp32') - Number(b.precision !== 'fp32') : 0) ||
        backendOrder.indexOf(a.backend) - backendOrder.indexOf(b.backend),
    );
  if (mode === 'train') printTrainTable(rows as TrainResult[]);
  else printPredictTable(rows as PredictResult[]);
  for (const [threads, r] of Object.entries(convRates)) {
    if (r) console.log(`\noneDNN's own fp32 3x3 convolution (64->128 channels, 25x25, batch 32, ${threads} thread${threads === '1' ? '' : 's'}): forward ${fmt(r.forward, 0)}, backward data ${fmt(r.backwardData, 0)}, backward weights ${fmt(r.backwardWeights, 0)} GFLOP/s`);
  }
  // oneDNN's bf16 rate is timed only through an addon with bf16 kernels (this version has none);
  // on a CPU without bf16 the line at the start said so already.
  if (Object.values(convRates).some(Boolean) && bf16.native && !bf16.pytorch) console.log(`oneDNN's own bf16 3x3 convolution: not timed, ${bf16.native}`);
  for (const [key, profile] of Object.entries(profiles)) {
    console.log(`\nprofile of a ${key} training step, mean of ${PROFILE_STEPS} (share of step time):`);
    for (const k of [...profile.slice(0, 12), ...profile.slice(-1)]) console.log(`  ${k.kernel.padEnd(24)} ${fmt(k.ms).padStart(7)} ms ${`${fmt(100 * k.share)}%`.padStart(6)}${k.calls ? `  ${k.calls} calls` : ''}`);
  }
  // How far fusing everything around the convolutions could go: their time alone against PyTorch's
  // whole step (Debian's PyTorch runs its convolutions on the same oneDNN).
  // fp32 convolutions, against PyTorch in fp32.
  const isTorchFp32 = (r: TrainResult | PredictResult) => r.backend === 'pytorch' && (r as TrainResult).precision === 'fp32';
  const torchStep = new Map(rows.filter(isTorchFp32).map((r) => [keyOf(r), (r as TrainResult).stepMs]));
  for (const f of convFloors) {
    const ref = torchStep.get(keyOf(f));
    if (ref) console.log(`${f.profile}: convolution kernels alone ${fmt(f.convMs)} ms per step = ${(f.convMs / ref).toFixed(2)}x PyTorch's whole step (${fmt(ref)} ms)`);
  }
  const floors = (rows as TrainResult[]).flatMap((r) => {
    const rates = isTorchFp32(r) && r.threads !== null ? convRates[r.threads] : null;
    if (!rates) return [];
    const ms = convRateFloorMs(r.arch, r.size, opts.batch, rates);
    return [{ arch: r.arch, size: r.size, threads: r.threads, floorMs: ms, vsPytorch: ms / r.stepMs }];
  });
  if (floors.length) console.log("\nconvolutions alone at oneDNN's own rates of this run (the reference shape's, per pass), against PyTorch's whole step:");
  for (const f of floors) console.log(`  ${f.arch}@${f.size}, ${f.threads} thread${f.threads === 1 ? '' : 's'}: ${fmt(f.floorMs)} ms = ${f.vsPytorch.toFixed(2)}x`);
  const loadAtEnd = os.loadavg();
  console.log(`\nload average ${loadAtStart.map((l) => l.toFixed(1)).join(' ')} at the start, ${loadAtEnd.map((l) => l.toFixed(1)).join(' ')} at the end (${cpus().length} cores)`);
  await writeJsonAtomic(opts.out, {
    mode,
    // The date and the CPU (name and the flags that decide bf16) at the top; each row has its precision.
    ...benchHead(cpu, new Date()),
    machine: { cores: cpus().length, node: process.version, torch: torchVersion, ompWaitPolicy: process.env.OMP_WAIT_POLICY ?? null, loadAverage: { start: loadAtStart, end: loadAtEnd } },
    config: { arch: opts.arch, sizes: Object.fromEntries(opts.arch.map((a) => [a, sizesOf(a)])), batch: opts.batch, augment: formatTrainAugment(opts.augment), steps: opts.steps, warmup: opts.warmup, threads: opts.threads, layouts: opts.layouts, rounds: opts.rounds, trainImages: TRAIN_IMAGES },
    results: rows,
    onednnConv: convRates,
    profiles,
    convFloors,
    rateFloors: floors,
    skipped,
  });
  console.log(`\nwritten ${opts.out}`);
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
const positive = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a whole number of at least 1, got '${v}'`);
  return n;
};
const program = new Command('bench')
  .description('training and inference speed of the paper CNN and the visemo net per backend and thread count, with the PyTorch reference')
  .addOption(
    new Option('--arch <list>', `architectures to time (${ARCHITECTURES.join(', ')})`).default(['paper']).argParser((v) => {
      const archs = list(v);
      const bad = archs.find((a) => !(ARCHITECTURES as readonly string[]).includes(a));
      if (bad) throw new Error(`unknown architecture '${bad}' (use ${ARCHITECTURES.join(', ')})`);
      return archs as Arch[];
    }),
  )
  .addOption(new Option('--sizes <list>', 'input sizes (default: 20,50,100 for paper, 48 for visemo)').argParser((v) => list(v).map(positive('a size'))))
  .addOption(new Option('--backends <list>', "tfjs backends to time, and 'onnx' (onnxruntime-node; predict only) (default: native,wasm; predict adds onnx)").argParser(list))
  .option('--steps <n>', 'timed steps per size, backend and turn', positive('--steps'), 10)
  .option('--warmup <n>', 'untimed steps first', (v) => Number(v), 3)
  .option('--batch <n>', 'training batch size', positive('--batch'), 32)
  .addOption(new Option('--augment <spec>', "train's --augment for the tfjs backends' batches (PyTorch's are never augmented)").default(parseTrainAugment('none'), 'none').argParser(parseTrainAugment))
  .addOption(new Option('--threads <list>', 'CPU thread counts for the native backend and PyTorch, e.g. 1,2 (default: all cores)').default([availableParallelism()]).argParser((v) => list(v).map(positive('a thread count'))))
  .addOption(new Option('--layouts <list>', "the native convolutions' activation layouts: 'nhwc' (tfjs' own; inference's, the predict default) and/or 'blocked' (oneDNN's preferred, reordered around each convolution, row 'native-blk'; training's, the train default)").argParser((v) => {
    const layouts = list(v);
    const bad = layouts.find((l) => l !== 'nhwc' && l !== 'blocked');
    if (bad) throw new Error(`unknown layout '${bad}' (use nhwc, blocked)`);
    return layouts as NativeLayout[];
  }))
  .option('--rounds <n>', 'turns of native then PyTorch per configuration; figures are medians over all of them', positive('--rounds'), 1)
  .option('--no-pytorch', 'skip the PyTorch reference')
  .option('--no-profile', 'skip the per-kernel profile of the native backend')
  .option('--out <file>', 'JSON results file (default runs/bench/<mode>.json)');

const MODES = { train: 'ms per training step (Adam, batch 32), images/s, seconds per epoch', predict: 'inference images/s at batch 1 and 64' } as const;
for (const [mode, description] of Object.entries(MODES) as [keyof typeof MODES, string][]) {
  program
    .command(mode)
    .description(description)
    .action(async () => {
      const o = program.opts();
      const backends = o.backends ?? (mode === 'predict' ? ['native', 'wasm', 'onnx'] : ['native', 'wasm']);
      // Each mode times the layout its command runs by default (engine/backend.ts prepareForTraining).
      const layouts = o.layouts ?? (mode === 'train' ? ['blocked'] : ['nhwc']);
      await main(mode, { ...o, backends, layouts, out: o.out ?? `runs/bench/${mode}.json` } as Options);
    });
}
addServeBench(program);
program
  .command('queue')
  .description('videos per minute through visemo worker with 1 and 2 worker processes (BullMQ on a local redis-server), in one run')
  .option('--videos <n>', 'clips to process per configuration', (v) => Number(v), 8)
  .option('--clip-seconds <s>', 'length of each clip', (v) => Number(v), 2)
  .option('--fps <n>', 'frames sampled per second (predict --fps)', (v) => Number(v), 5)
  .addOption(new Option('--workers <list>', 'worker process counts to time, the first is the reference').default([1, 2]).argParser((v) => list(v).map(Number)))
  .option('--backend <name>', "the workers' --backend", 'wasm')
  .action(async (o: { videos: number; clipSeconds: number; fps: number; workers: number[]; backend: string }) => {
    const { runQueueBench } = await import('./queue.js');
    await runQueueBench({ ...o, out: (program.opts().out as string | undefined) ?? 'runs/bench/queue.json' });
  });


program
  .command('video')
  .description('frames per second end to end on 640x480 videos (1 and 3 faces): visemo with tracking beside face-api.js\'s own pipeline, and where visemo\'s time goes')
  .option('--seconds <n>', 'length of each made video (25 fps)', (v) => Number(v), 2)
  .option('--detect-every <n>', "visemo's full-frame detection interval, frames", (v) => Number(v), TRACKING_DEFAULTS.detectEvery)
  .option('--no-faceapi', "skip face-api.js's pipeline")
  .action(async (o: { seconds: number; detectEvery: number; faceapi: boolean }) => {
    await benchVideo({ ...o, out: program.opts().out ?? 'runs/bench/video.json' });
  });

program
  .command('web')
  .description('frames per second of the web page on a fake 640x480 webcam in headless Chromium (wasm), per face detector, in one run')
  .option('--seconds <n>', 'seconds measured per detector, after a warm-up', (v) => Number(v), 10)
  .option('--detectors <list>', "the page's detector choices to time", (v) => list(v), ['auto', 'ssd'])
  .action(async (o: { seconds: number; detectors: string[] }) => {
    const { benchWeb } = await import('./web.js');
    await benchWeb({ ...o, out: (program.opts().out as string | undefined) ?? 'runs/bench/web.json' });
  });

await program.parseAsync(process.argv);
