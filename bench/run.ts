/**
 * `npm run bench -- train | predict | video` (video: bench/video.ts): step time of the paper's CNN on each available backend
 * and on the PyTorch reference (bench/pytorch_ref.py, same model), in one run, as a table and
 * as JSON. Batches come from a uint8 image cache through training's own code (batchInput,
 * mixTargets and, with --augment, augmentBatch, called as trainEpoch calls them), and that time
 * is reported as the share of the step spent outside the model.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os, { availableParallelism, cpus } from 'node:os';
import { Command, Option } from 'commander';
import { batchInput, pixelStats, type DecodedSet } from '../src/data/decoded-set.js';
import { useBackend, type BackendName } from '../src/engine/backend.js';
import { tf } from '../src/engine/tf.js';
import { buildPaperCnn } from '../src/model/paper-cnn.js';
import { augmentBatch, formatTrainAugment, isIdentity, parseTrainAugment, type TrainAugment } from '../src/training/augment.js';
import { mixTargets } from '../src/training/teacher.js';
import type { Normalisation } from '../src/data/decoded-set.js';
import { writeJsonAtomic } from '../src/util/atomic.js';
import { createRng } from '../src/util/random.js';
import { TRACKING_DEFAULTS } from '../src/config/tracking.js';
import { benchVideo } from './video.js';

const TRAIN_IMAGES = 11475; // the paper's training set
const CACHE_IMAGES = 256;
const CLASSES = 6;
const CHANNELS = 3; // the paper's monochrome replicated to three channels
const PYTHON = '/usr/bin/python3';
const PROFILE_STEPS = 3;
// PyTorch starts from the environment the user started the bench with: the native backend sets
// OMP_WAIT_POLICY=passive for itself, and that must not decide how the reference runs.
const USER_ENV = { ...process.env };

interface Options {
  sizes: number[];
  backends: BackendName[];
  steps: number;
  warmup: number;
  batch: number;
  augment: TrainAugment;
  pytorch: boolean;
  profile: boolean;
  threads: number;
  out: string;
}

interface TrainResult {
  size: number;
  backend: string;
  stepMs: number;
  dataMs: number;
  modelMs: number;
  imagesPerSecond: number;
  secondsPerEpoch: number;
  gflopPerSecond?: number;
}

interface PredictResult {
  size: number;
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

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Multiply-adds of one forward pass per image, times 2 (FLOP); a training step is about 3 passes. */
export function forwardFlopsPerImage(size: number, classes = CLASSES): number {
  const convs: [number, number, number][] = [
    [size, 3, 32],
    [size >> 1, 32, 64],
    [size >> 1, 64, 128],
  ];
  let flops = convs.reduce((s, [hw, ic, oc]) => s + 2 * hw * hw * 9 * ic * oc, 0);
  const flat = (size >> 3) ** 2 * 128;
  flops += 2 * flat * 256 + 2 * 256 * classes;
  return flops;
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
function trainingBatch(set: DecodedSet, idx: number[], norm: Normalisation, augment: TrainAugment | null, rng: () => number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const x = augment ? batchInput(augmentBatch(set, idx, augment, rng), idx.map((_, k) => k), norm, CHANNELS) : batchInput(set, idx, norm, CHANNELS);
  const y = tf.tensor2d(mixTargets(set.labels, CLASSES, 0, null, idx), [idx.length, CLASSES]);
  return { x, y };
}

async function benchTrain(size: number, backend: string, opts: Options): Promise<{ result: TrainResult; profile?: KernelShare[] }> {
  const set = makeCache(size, size);
  const norm = pixelStats(set, CHANNELS);
  const rng = createRng(1);
  const augment = isIdentity(opts.augment) ? null : opts.augment;
  const augRng = createRng(2);
  const pick = () => Array.from({ length: opts.batch }, () => Math.floor(rng() * CACHE_IMAGES));
  const model = buildPaperCnn({ size, numClasses: CLASSES, seed: 1 });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const dataMs: number[] = [];
  const modelMs: number[] = [];
  for (let step = 0; step < opts.warmup + opts.steps; step++) {
    const idx = pick();
    const t0 = performance.now();
    const { x, y } = trainingBatch(set, idx, norm, augment, augRng);
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
  if (opts.profile) {
    // Kernel times over a few steps (a single step would charge one kernel with a whole GC).
    const byKernel = new Map<string, { ms: number; calls: number }>();
    let total = 0;
    for (let i = 0; i < PROFILE_STEPS; i++) {
      const { x, y } = trainingBatch(set, pick(), norm, augment, augRng);
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
  const steps = dataMs.map((d, i) => d + modelMs[i]);
  const stepMs = median(steps);
  return {
    result: {
      size,
      backend,
      stepMs,
      dataMs: median(dataMs),
      modelMs: median(modelMs),
      imagesPerSecond: (opts.batch * 1000) / stepMs,
      secondsPerEpoch: (Math.ceil(TRAIN_IMAGES / opts.batch) * stepMs) / 1000,
      gflopPerSecond: (3 * forwardFlopsPerImage(size) * opts.batch) / stepMs / 1e6,
    },
    profile,
  };
}

async function benchPredict(size: number, backend: string, opts: Options): Promise<PredictResult> {
  const set = makeCache(size, size);
  const norm = pixelStats(set, CHANNELS);
  const rng = createRng(2);
  const model = buildPaperCnn({ size, numClasses: CLASSES, seed: 1 });
  const result: Partial<PredictResult> = { size, backend };
  for (const batch of [1, 64] as const) {
    const times: number[] = [];
    for (let step = 0; step < opts.warmup + opts.steps; step++) {
      const idx = Array.from({ length: batch }, () => Math.floor(rng() * CACHE_IMAGES));
      const t0 = performance.now();
      // As predictSet (src/model/predict-set.ts) builds its batches.
      const x = batchInput(set, idx, norm, CHANNELS);
      const y = model.predict(x) as tf.Tensor;
      await y.data();
      const t1 = performance.now();
      tf.dispose([x, y]);
      if (step >= opts.warmup) times.push(t1 - t0);
    }
    const ms = median(times);
    result[`batch${batch}`] = { ms, imagesPerSecond: (batch * 1000) / ms };
  }
  model.dispose();
  return result as PredictResult;
}

function runPytorch(mode: 'train' | 'predict', opts: Options): { torch: string; results: (TrainResult | PredictResult)[] } | string {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  // OpenMP's default busy-waiting makes PyTorch many times slower as soon as anything else uses
  // a core, and passive waiting costs it a little on an idle machine: unless the user chose a
  // policy, time both and keep the faster per size, so the reference is PyTorch at its best.
  const envs = USER_ENV.OMP_WAIT_POLICY ? [USER_ENV] : [USER_ENV, { ...USER_ENV, OMP_WAIT_POLICY: 'passive' }];
  const runs: { torch: string; results: (TrainResult | PredictResult)[] }[] = [];
  for (const env of envs) {
    const r = runPytorchOnce(mode, opts, env);
    if (typeof r === 'string') return r;
    runs.push(r);
  }
  const cost = (x: TrainResult | PredictResult) => ('stepMs' in x ? x.stepMs : x.batch1.ms + x.batch64.ms / 64);
  const results = runs[0]!.results.map((first, i) => runs.map((r) => r.results[i]!).reduce((a, b) => (cost(b) < cost(a) ? b : a), first));
  return { torch: runs[0]!.torch, results };
}

function runPytorchOnce(mode: 'train' | 'predict', opts: Options, env: NodeJS.ProcessEnv): { torch: string; results: (TrainResult | PredictResult)[] } | string {
  const script = new URL('./pytorch_ref.py', import.meta.url).pathname;
  const args = [script, mode, '--sizes', opts.sizes.join(','), '--steps', String(opts.steps), '--warmup', String(opts.warmup), '--batch', String(opts.batch), '--threads', String(opts.threads)];
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 24, env });
  if (r.status !== 0) {
    const last = (r.stderr || '').trim().split('\n').pop() ?? '';
    return /No module named 'torch'/.test(r.stderr) ? 'python3-torch is not installed' : `the PyTorch reference failed: ${last}`;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
}

const fmt = (v: number | undefined, digits = 1) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));

function printTrainTable(rows: TrainResult[]): void {
  const torch = new Map(rows.filter((r) => r.backend === 'pytorch').map((r) => [r.size, r.stepMs]));
  console.log('\nsize  backend   ms/step  outside-model  images/s  s/epoch(11,475)  GFLOP/s  vs PyTorch');
  for (const r of rows) {
    const ref = torch.get(r.size);
    console.log(
      `${String(r.size).padStart(4)}  ${r.backend.padEnd(8)} ${fmt(r.stepMs).padStart(8)}  ${`${fmt((100 * r.dataMs) / r.stepMs)}%`.padStart(13)}  ${fmt(r.imagesPerSecond, 0).padStart(8)}  ${fmt(r.secondsPerEpoch).padStart(15)}  ${fmt(r.gflopPerSecond, 0).padStart(7)}  ${ref && r.backend !== 'pytorch' ? `${(r.stepMs / ref).toFixed(2)}x` : ''}`,
    );
  }
}

function printPredictTable(rows: PredictResult[]): void {
  const torch = new Map(rows.filter((r) => r.backend === 'pytorch').map((r) => [r.size, r]));
  console.log('\nsize  backend   batch1 ms  images/s   batch64 ms  images/s   vs PyTorch (batch 1 / 64)');
  for (const r of rows) {
    const ref = torch.get(r.size);
    const ratio = ref && r.backend !== 'pytorch' ? `${(r.batch1.ms / ref.batch1.ms).toFixed(2)}x / ${(r.batch64.ms / ref.batch64.ms).toFixed(2)}x` : '';
    console.log(
      `${String(r.size).padStart(4)}  ${r.backend.padEnd(8)} ${fmt(r.batch1.ms, 2).padStart(9)}  ${fmt(r.batch1.imagesPerSecond, 0).padStart(8)}   ${fmt(r.batch64.ms).padStart(10)}  ${fmt(r.batch64.imagesPerSecond, 0).padStart(8)}   ${ratio}`,
    );
  }
}

async function main(mode: 'train' | 'predict', opts: Options): Promise<void> {
  // Read by the native backend when it loads its addon; PyTorch gets the same count as --threads.
  process.env.VISEMO_THREADS = String(opts.threads);
  const loadAtStart = os.loadavg();
  const rows: (TrainResult | PredictResult)[] = [];
  const profiles: Record<string, KernelShare[]> = {};
  const skipped: Record<string, string> = {};
  for (const backend of opts.backends) {
    const got = await useBackend(backend, { quiet: true });
    if (got !== backend) {
      skipped[backend] = `not available (fell back to ${got})`;
      console.log(`${backend}: not available, skipped`);
      continue;
    }
    for (const size of opts.sizes) {
      if (mode === 'train') {
        const { result, profile } = await benchTrain(size, backend, { ...opts, profile: opts.profile && backend === 'native' });
        rows.push(result);
        if (profile) profiles[`${backend}@${size}`] = profile;
        console.log(`${backend} ${size}x${size}: ${fmt(result.stepMs)} ms per step`);
      } else {
        const result = await benchPredict(size, backend, opts);
        rows.push(result);
        console.log(`${backend} ${size}x${size}: batch 1 ${fmt(result.batch1.ms, 2)} ms, batch 64 ${fmt(result.batch64.ms)} ms`);
      }
    }
  }
  let torchVersion: string | undefined;
  if (opts.pytorch) {
    const ref = runPytorch(mode, opts);
    if (typeof ref === 'string') {
      skipped.pytorch = ref;
      console.log(`pytorch: ${ref}, skipped`);
    } else {
      torchVersion = ref.torch;
      console.log(`pytorch ${ref.torch}: ${USER_ENV.OMP_WAIT_POLICY ? `OMP_WAIT_POLICY=${USER_ENV.OMP_WAIT_POLICY}` : 'the faster of OpenMP\'s default and passive waiting, per size'}`);
      for (const r of ref.results) {
        if (mode === 'train') (r as TrainResult).gflopPerSecond = (3 * forwardFlopsPerImage(r.size) * opts.batch) / (r as TrainResult).stepMs / 1e6;
        rows.push(r);
      }
    }
  }
  rows.sort((a, b) => a.size - b.size);
  if (mode === 'train') printTrainTable(rows as TrainResult[]);
  else printPredictTable(rows as PredictResult[]);
  for (const [key, profile] of Object.entries(profiles)) {
    console.log(`\nprofile of a ${key} training step, mean of ${PROFILE_STEPS} (share of step time):`);
    for (const k of [...profile.slice(0, 12), ...profile.slice(-1)]) console.log(`  ${k.kernel.padEnd(24)} ${fmt(k.ms).padStart(7)} ms ${`${fmt(100 * k.share)}%`.padStart(6)}${k.calls ? `  ${k.calls} calls` : ''}`);
  }
  await writeJsonAtomic(opts.out, {
    mode,
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, torch: torchVersion, ompWaitPolicy: process.env.OMP_WAIT_POLICY ?? null, loadAverage: { start: loadAtStart, end: os.loadavg() } },
    config: { sizes: opts.sizes, batch: opts.batch, augment: formatTrainAugment(opts.augment), steps: opts.steps, warmup: opts.warmup, threads: opts.threads, trainImages: TRAIN_IMAGES },
    results: rows,
    profiles,
    skipped,
  });
  console.log(`\nwritten ${opts.out}`);
}

const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
const program = new Command('bench')
  .description('training and inference speed of the paper CNN per backend, with the PyTorch reference')
  .addOption(new Option('--sizes <list>', 'input sizes').default([20, 50, 100]).argParser((v) => list(v).map(Number)))
  .addOption(new Option('--backends <list>', 'tfjs backends to time').default(['native', 'wasm']).argParser(list))
  .option('--steps <n>', 'timed steps per size and backend', (v) => Number(v), 10)
  .option('--warmup <n>', 'untimed steps first', (v) => Number(v), 3)
  .option('--batch <n>', 'training batch size', (v) => Number(v), 32)
  .addOption(new Option('--augment <spec>', "train's --augment for the tfjs backends' batches (PyTorch's are never augmented)").default(parseTrainAugment('none'), 'none').argParser(parseTrainAugment))
  .option('--threads <n>', 'CPU threads for the native backend and PyTorch (default: all cores)', (v) => Number(v), availableParallelism())
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
      await main(mode, { ...o, out: o.out ?? `runs/bench/${mode}.json` } as Options);
    });
}

program
  .command('video')
  .description('frames per second end to end on 640x480 videos (1 and 3 faces): visemo with tracking beside face-api.js\'s own pipeline, and where visemo\'s time goes')
  .option('--seconds <n>', 'length of each made video (25 fps)', (v) => Number(v), 2)
  .option('--detect-every <n>', "visemo's full-frame detection interval, frames", (v) => Number(v), TRACKING_DEFAULTS.detectEvery)
  .option('--no-faceapi', "skip face-api.js's pipeline")
  .action(async (o: { seconds: number; detectEvery: number; faceapi: boolean }) => {
    await benchVideo({ ...o, out: program.opts().out ?? 'runs/bench/video.json' });
  });

await program.parseAsync(process.argv);
