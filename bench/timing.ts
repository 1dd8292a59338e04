/**
 * `npm run bench -- train | predict`: every configuration (architecture, size, backend and native
 * layout, thread count) timed in turns (`--rounds`), each turn of native followed by PyTorch's on
 * the same configurations, then one table, the train mode's convolution floors, and the JSON.
 */
import os, { cpus } from 'node:os';
import type { Arch } from '../src/config/recipe.js';
import { prepareForTraining, useBackend, type BackendName } from '../src/engine/backend.js';
import { cpuFeatures, type CpuFeatures } from '../src/engine/cpu-features.js';
import { addonPrecisions, loadAddon } from '../src/engine/native/addon.js';
import type { Precision } from '../src/engine/precision.js';
import { formatTrainAugment } from '../src/training/augment.js';
import { writeJsonAtomic } from '../src/util/atomic.js';
import { benchHead, bf16Plan, median, trainResult, type TrainResult, type TrainTimes } from './train-rows.js';
import { benchPredict, benchPredictOnnx, predictLine, predictResult, printPredictTable, type PredictResult, type PredictTimes } from './predict.js';
import { runPytorch, USER_ENV } from './pytorch-ref.js';
import { predictModelLine } from './predict-model.js';
import {
  benchTrain,
  CONV_KERNELS,
  convRateFloorMs,
  forwardFlopsPerImage,
  onednnConvRate,
  printTrainTable,
  PROFILE_STEPS,
  type ConvFloor,
  type ConvRates,
  type KernelShare,
} from './train-step.js';
import { DEFAULT_SIZES, fmt, keyOf, layoutLabel, setNativeLayout, setNativeThreads, TRAIN_IMAGES, type NativeLayout, type Options } from './timing-setup.js';

export type TimingMode = 'train' | 'predict';

/** One configuration's times over all turns. */
interface BenchEntry<T extends TrainTimes | PredictTimes> {
  arch: Arch;
  size: number;
  threads: number | null;
  backend: string;
  precision: Precision;
  times: T;
}

/** What a timing run gathers as it goes, for the table and the JSON. */
interface TimingRun {
  mode: TimingMode;
  opts: Options;
  /** The tfjs backends that started as themselves. */
  available: BackendName[];
  store: Map<string, BenchEntry<TrainTimes | PredictTimes>>;
  profiles: Record<string, KernelShare[]>;
  convFloors: ConvFloor[];
  /** What was not timed, and why. */
  skipped: Record<string, string>;
  /** oneDNN's own rates per thread count (train, native only). */
  convRates: Record<string, ConvRates | null>;
  bf16: ReturnType<typeof bf16Plan>;
  torchPrecisions: Precision[];
  torchVersion?: string;
  /** No PyTorch turns (--no-pytorch, or the fp32 reference failed). */
  torchOff: boolean;
}

const sizesOf = (run: TimingRun, arch: Arch) => run.opts.sizes ?? DEFAULT_SIZES[arch];
const turnTag = (run: TimingRun, round: number) => `round ${round + 1}/${run.opts.rounds}`;
const threadsTag = (threads: number) => `${threads} thread${threads > 1 ? 's' : ''}`;

/** Appends one turn's times to a configuration's. */
function collect<T extends TrainTimes | PredictTimes>(
  store: Map<string, BenchEntry<T>>,
  arch: Arch,
  size: number,
  threads: number | null,
  backend: string,
  times: T,
  precision: Precision = 'fp32',
): void {
  const key = `${backend}/${precision}:${arch}@${size}/${threads}`;
  const e = store.get(key);
  if (!e) {
    store.set(key, { arch, size, threads, backend, precision, times });
    return;
  }
  for (const k of Object.keys(times) as (keyof T)[]) (e.times[k] as number[]).push(...(times[k] as number[]));
}

/** The tfjs backends of --backends that start as themselves; the others are skipped with a line each. */
async function availableBackends(mode: TimingMode, opts: Options, skipped: Record<string, string>): Promise<BackendName[]> {
  const available: BackendName[] = [];
  if (opts.backends.includes('onnx') && mode === 'train') {
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
  return available;
}

/**
 * bf16 rows where this machine can time them: PyTorch's bf16 autocast needs a CPU with bf16,
 * native bf16 and oneDNN's bf16 rate also an addon with bf16 kernels (this version has none).
 */
function planBf16(
  mode: TimingMode,
  opts: Options,
  cpu: CpuFeatures,
  skipped: Record<string, string>,
): { bf16: ReturnType<typeof bf16Plan>; torchPrecisions: Precision[] } {
  const addon = loadAddon();
  const bf16 = bf16Plan(cpu, typeof addon === 'string' ? [] : addonPrecisions(addon));
  if (mode === 'train') {
    if (bf16.native) skipped['native bf16'] = bf16.native;
    if (bf16.pytorch && opts.pytorch) skipped['pytorch bf16'] = bf16.pytorch;
    if (bf16.pytorch)
      console.log(`bf16 rows skipped (native bf16, oneDNN's bf16 convolution rate${opts.pytorch ? ', PyTorch bf16 autocast' : ''}): ${bf16.pytorch}`);
    else if (bf16.native)
      console.log(`native bf16 rows and oneDNN's bf16 convolution rate skipped: ${bf16.native}${opts.pytorch ? '; PyTorch bf16 autocast is timed' : ''}`);
  }
  return { bf16, torchPrecisions: mode === 'train' && !bf16.pytorch ? ['fp32', 'bf16'] : ['fp32'] };
}

/** One configuration's training steps, its profile kept where asked for. */
async function trainTurn(
  run: TimingRun,
  arch: Arch,
  size: number,
  threads: number,
  rowThreads: number | null,
  label: string,
  profileIt: boolean,
): Promise<string> {
  const { times, profile } = await benchTrain(arch, size, run.opts, profileIt);
  collect(run.store, arch, size, rowThreads, label, times);
  if (profile) {
    const key = `${label} ${arch}@${size}, ${threads} threads`;
    run.profiles[key] = profile;
    run.convFloors.push({ profile: key, arch, size, threads, convMs: profile.filter((k) => CONV_KERNELS.has(k.kernel)).reduce((a, k) => a + k.ms, 0) });
  }
  return `${fmt(median(times.modelMs.map((m, i) => m + times.dataMs[i]!)))} ms per step`;
}

/** The tfjs backends' turn at one thread count: the native backend once per activation layout, as its own row. */
async function tfjsTurn(run: TimingRun, arch: Arch, threads: number, round: number): Promise<void> {
  const { mode, opts } = run;
  const variants = run.available.flatMap((b): { backend: BackendName; layout: NativeLayout | null; label: string }[] =>
    b === 'native' ? opts.layouts.map((l) => ({ backend: b, layout: l, label: layoutLabel(l) })) : [{ backend: b, layout: null, label: b }],
  );
  for (const { backend, layout, label } of variants) {
    // wasm's thread count is fixed when it starts: timed once, at the first count.
    if (backend !== 'native' && threads !== opts.threads[0]) continue;
    await useBackend(backend, { quiet: true });
    // As `visemo train` runs (the native buffer pool sized for training steps).
    if (mode === 'train') await prepareForTraining();
    if (layout) setNativeLayout(layout);
    const rowThreads = backend === 'native' ? threads : null;
    for (const size of sizesOf(run, arch)) {
      const tag = `${label} ${arch} ${size}x${size}${rowThreads ? `, ${threadsTag(threads)}` : ''}, ${turnTag(run, round)}`;
      if (mode === 'train') {
        const profileIt = opts.profile && backend === 'native' && round === 0 && threads === opts.threads[opts.threads.length - 1]!;
        console.log(`${tag}: ${await trainTurn(run, arch, size, threads, rowThreads, label, profileIt)}`);
      } else {
        const times = await benchPredict(arch, size, opts);
        collect(run.store, arch, size, rowThreads, label, times);
        console.log(`${tag}: ${predictLine(times)}`);
      }
    }
  }
}

/** onnxruntime-node's turn (predict only), once per round. */
async function onnxTurn(run: TimingRun, arch: Arch, round: number): Promise<void> {
  for (const size of sizesOf(run, arch)) {
    const times = await benchPredictOnnx(arch, size, run.opts);
    collect(run.store, arch, size, null, 'onnx', times);
    console.log(`onnx ${arch} ${size}x${size}, ${turnTag(run, round)}: ${predictLine(times)}`);
  }
}

/** PyTorch's turn right after native's on the same configurations, in each precision. */
function pytorchTurn(run: TimingRun, arch: Arch, threads: number, round: number): void {
  for (const precision of run.torchPrecisions) {
    if (run.torchOff) break;
    const label = `pytorch${precision === 'fp32' ? '' : ` ${precision}`}`;
    if (run.skipped[label]) continue;
    const ref = runPytorch(run.mode, arch, sizesOf(run, arch), threads, run.opts, precision);
    if (typeof ref === 'string') {
      run.skipped[label] = ref;
      // Without fp32 PyTorch there is no reference at all; a failed bf16 autocast leaves fp32's.
      if (precision === 'fp32') run.torchOff = true;
      console.log(`${label}: ${ref}, skipped`);
      continue;
    }
    run.torchVersion = ref.torch;
    for (const r of ref.results) {
      const { size, ...times } = r;
      collect(run.store, arch, size, threads, 'pytorch', times as TrainTimes | PredictTimes, precision);
      const t = times as TrainTimes & PredictTimes;
      console.log(
        `${label} ${arch} ${size}x${size}, ${threadsTag(threads)}, ${turnTag(run, round)}: ${run.mode === 'train' ? `${fmt(median(t.modelMs.map((m, i) => m + t.dataMs[i]!)))} ms per step` : predictLine(t)}`,
      );
    }
  }
}

/** Every turn: per round, per thread count, per architecture, the backends then PyTorch. */
async function runTurns(run: TimingRun): Promise<void> {
  const { mode, opts } = run;
  const onnx = opts.backends.includes('onnx');
  for (let round = 0; round < opts.rounds; round++) {
    for (const threads of opts.threads) {
      setNativeThreads(threads);
      if (mode === 'train' && round === 0 && run.available.includes('native')) run.convRates[threads] = onednnConvRate(opts.steps);
      for (const arch of opts.arch) {
        await tfjsTurn(run, arch, threads, round);
        if (mode === 'predict' && onnx && threads === opts.threads[0]) await onnxTurn(run, arch, round);
        pytorchTurn(run, arch, threads, round);
      }
    }
  }
}

/** The rows, by architecture, size, thread count, precision and backend (--backends' order, PyTorch last). */
function sortedRows(run: TimingRun): (TrainResult | PredictResult)[] {
  const { mode, opts } = run;
  const backendOrder = [...opts.backends.flatMap((b) => (b === 'native' ? opts.layouts.map(layoutLabel) : [b])), 'pytorch'];
  return [...run.store.values()]
    .map((e) =>
      mode === 'train'
        ? trainResult({ arch: e.arch, size: e.size, threads: e.threads, backend: e.backend, precision: e.precision }, e.times as TrainTimes, {
            batch: opts.batch,
            trainImages: TRAIN_IMAGES,
            forwardFlopsPerImage: forwardFlopsPerImage(e.arch, e.size),
          })
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
}

interface RateFloor {
  arch: Arch;
  size: number;
  threads: number | null;
  floorMs: number;
  vsPytorch: number;
}

/** After the train table: oneDNN's rates, the kernel profiles, and how far fusing around the convolutions could go. */
function printConvFloors(run: TimingRun, rows: (TrainResult | PredictResult)[]): RateFloor[] {
  const { convRates, bf16 } = run;
  for (const [threads, r] of Object.entries(convRates)) {
    if (r)
      console.log(
        `\noneDNN's own fp32 3x3 convolution (64->128 channels, 25x25, batch 32, ${threads} thread${threads === '1' ? '' : 's'}): forward ${fmt(r.forward, 0)}, backward data ${fmt(r.backwardData, 0)}, backward weights ${fmt(r.backwardWeights, 0)} GFLOP/s`,
      );
  }
  // oneDNN's bf16 rate is timed only through an addon with bf16 kernels (this version has none);
  // on a CPU without bf16 the line at the start said so already.
  if (Object.values(convRates).some(Boolean) && bf16.native && !bf16.pytorch) console.log(`oneDNN's own bf16 3x3 convolution: not timed, ${bf16.native}`);
  for (const [key, profile] of Object.entries(run.profiles)) {
    console.log(`\nprofile of a ${key} training step, mean of ${PROFILE_STEPS} (share of step time):`);
    for (const k of [...profile.slice(0, 12), ...profile.slice(-1)])
      console.log(`  ${k.kernel.padEnd(24)} ${fmt(k.ms).padStart(7)} ms ${`${fmt(100 * k.share)}%`.padStart(6)}${k.calls ? `  ${k.calls} calls` : ''}`);
  }
  // How far fusing everything around the convolutions could go: their time alone against PyTorch's
  // whole step (Debian's PyTorch runs its convolutions on the same oneDNN).
  // fp32 convolutions, against PyTorch in fp32.
  const isTorchFp32 = (r: TrainResult | PredictResult) => r.backend === 'pytorch' && (r as TrainResult).precision === 'fp32';
  const torchStep = new Map(rows.filter(isTorchFp32).map((r) => [keyOf(r), (r as TrainResult).stepMs]));
  for (const f of run.convFloors) {
    const ref = torchStep.get(keyOf(f));
    if (ref)
      console.log(
        `${f.profile}: convolution kernels alone ${fmt(f.convMs)} ms per step = ${(f.convMs / ref).toFixed(2)}x PyTorch's whole step (${fmt(ref)} ms)`,
      );
  }
  const floors = (rows as TrainResult[]).flatMap((r) => {
    const rates = isTorchFp32(r) && r.threads !== null ? convRates[r.threads] : null;
    if (!rates) return [];
    const ms = convRateFloorMs(r.arch, r.size, run.opts.batch, rates);
    return [{ arch: r.arch, size: r.size, threads: r.threads, floorMs: ms, vsPytorch: ms / r.stepMs }];
  });
  if (floors.length) console.log("\nconvolutions alone at oneDNN's own rates of this run (the reference shape's, per pass), against PyTorch's whole step:");
  for (const f of floors)
    console.log(`  ${f.arch}@${f.size}, ${f.threads} thread${f.threads === 1 ? '' : 's'}: ${fmt(f.floorMs)} ms = ${f.vsPytorch.toFixed(2)}x`);
  return floors;
}

/** predict's model in the JSON's config: the untrained nets' width, or the trained model's name and folder. */
function predictConfig(mode: TimingMode, opts: Options): Record<string, unknown> {
  if (mode !== 'predict') return {};
  return opts.model
    ? { model: { name: opts.model.name, dir: opts.model.dir, bundled: opts.model.bundled, width: opts.model.width, weights: 'trained' } }
    : { width: opts.width, weights: 'untrained (seed 1)' };
}

/** Times every configuration of `mode`, prints the table and what follows it, and writes the JSON. */
export async function benchTimings(mode: TimingMode, opts: Options): Promise<void> {
  // Read by the native backend when it loads its addon (and by wasm when it starts); later thread
  // counts of --threads are set on the addon between turns.
  process.env.VISEMO_THREADS = String(opts.threads[0]);
  const loadAtStart = os.loadavg();
  if (mode === 'predict') console.log(predictModelLine(opts));
  const skipped: Record<string, string> = {};
  const available = await availableBackends(mode, opts, skipped);
  const cpu = cpuFeatures();
  const run: TimingRun = {
    mode,
    opts,
    available,
    store: new Map(),
    profiles: {},
    convFloors: [],
    skipped,
    convRates: {},
    ...planBf16(mode, opts, cpu, skipped),
    torchOff: !opts.pytorch,
  };
  await runTurns(run);
  if (run.torchVersion)
    console.log(
      `pytorch ${run.torchVersion}: ${USER_ENV.OMP_WAIT_POLICY ? `OMP_WAIT_POLICY=${USER_ENV.OMP_WAIT_POLICY}` : "the faster of OpenMP's default and passive waiting, per size and turn"}`,
    );
  const rows = sortedRows(run);
  if (mode === 'train') printTrainTable(rows as TrainResult[]);
  else printPredictTable(rows as PredictResult[]);
  const floors = printConvFloors(run, rows);
  const loadAtEnd = os.loadavg();
  console.log(
    `\nload average ${loadAtStart.map((l) => l.toFixed(1)).join(' ')} at the start, ${loadAtEnd.map((l) => l.toFixed(1)).join(' ')} at the end (${cpus().length} cores)`,
  );
  await writeJsonAtomic(opts.out, {
    mode,
    // The date and the CPU (name and the flags that decide bf16) at the top; each row has its precision.
    ...benchHead(cpu, new Date()),
    machine: {
      cores: cpus().length,
      node: process.version,
      torch: run.torchVersion,
      ompWaitPolicy: process.env.OMP_WAIT_POLICY ?? null,
      loadAverage: { start: loadAtStart, end: loadAtEnd },
    },
    config: {
      arch: opts.arch,
      sizes: Object.fromEntries(opts.arch.map((a) => [a, sizesOf(run, a)])),
      batch: opts.batch,
      augment: formatTrainAugment(opts.augment),
      steps: opts.steps,
      warmup: opts.warmup,
      threads: opts.threads,
      layouts: opts.layouts,
      rounds: opts.rounds,
      trainImages: TRAIN_IMAGES,
      ...predictConfig(mode, opts),
    },
    results: rows,
    onednnConv: run.convRates,
    profiles: run.profiles,
    convFloors: run.convFloors,
    rateFloors: floors,
    skipped,
  });
  console.log(`\nwritten ${opts.out}`);
}
