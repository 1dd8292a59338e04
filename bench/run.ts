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
 * times the same models exported to ONNX on onnxruntime-node (backend 'onnx'), at batch 1, 16 (per
 * face) and 64: untrained nets of --arch (with --width and --size; latency does not depend on the
 * weights) or a trained --model (bench/predict-model.ts).
 * `serve` (bench/serve.ts): the web app's server under load; `queue` (bench/queue.ts):
 * `visemo worker` with 1 and 2 processes on the same videos; `video` (bench/video.ts): frames per
 * second of tracked video analysis beside face-api.js's own pipeline; `web` (bench/web.ts): the
 * web page's frames per second on a fake webcam in headless Chromium, per face detector.
 */
import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import { ARCHITECTURES, type Arch } from '../src/config/recipe.js';
import { parseTrainAugment } from '../src/training/augment.js';
import { TRACKING_DEFAULTS } from '../src/config/tracking.js';
import { VisemoError } from '../src/util/errors.js';
import { serveBench } from './serve.js';
import { benchVideo } from './video.js';
import { benchTimings, type TimingMode } from './timing.js';
import type { NativeLayout, Options } from './timing-setup.js';
import { parseWidth, resolvePredictModel, type PredictModelFlags } from './predict-model.js';

const list = (v: string) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
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
  .addOption(
    new Option('--backends <list>', "tfjs backends to time, and 'onnx' (onnxruntime-node; predict only) (default: native,wasm; predict adds onnx)").argParser(
      list,
    ),
  )
  .option('--steps <n>', 'timed steps per size, backend and turn', positive('--steps'), 10)
  .option('--warmup <n>', 'untimed steps first', (v) => Number(v), 3)
  .option('--batch <n>', 'training batch size', positive('--batch'), 32)
  .addOption(
    new Option('--augment <spec>', "train's --augment for the tfjs backends' batches (PyTorch's are never augmented)")
      .default(parseTrainAugment('none'), 'none')
      .argParser(parseTrainAugment),
  )
  .addOption(
    new Option('--threads <list>', 'CPU thread counts for the native backend and PyTorch, e.g. 1,2 (default: all cores)')
      .default([availableParallelism()])
      .argParser((v) => list(v).map(positive('a thread count'))),
  )
  .addOption(
    new Option(
      '--layouts <list>',
      "the native convolutions' activation layouts: 'nhwc' (tfjs' own; inference's, the predict default) and/or 'blocked' (oneDNN's preferred, reordered around each convolution, row 'native-blk'; training's, the train default)",
    ).argParser((v) => {
      const layouts = list(v);
      const bad = layouts.find((l) => l !== 'nhwc' && l !== 'blocked');
      if (bad) throw new Error(`unknown layout '${bad}' (use nhwc, blocked)`);
      return layouts as NativeLayout[];
    }),
  )
  .option('--rounds <n>', 'turns of native then PyTorch per configuration; figures are medians over all of them', positive('--rounds'), 1)
  .option('--no-pytorch', 'skip the PyTorch reference')
  .option('--no-profile', 'skip the per-kernel profile of the native backend')
  .option('--out <file>', 'JSON results file (default runs/bench/<mode>.json)');

/** One kind of benchmark: its subcommand, the options of its own, and what runs it (`out`: the JSON file). */
interface Benchmark {
  name: string;
  description: string;
  options?: (cmd: Command) => Command;
  // biome-ignore lint/suspicious/noExplicitAny: each kind's options are its own; commander hands them over untyped.
  run(o: any, out: string): Promise<void>;
}

/** train and predict: the same timings with the options of `npm run bench` itself (and predict's own: which model). */
function timingBench(mode: TimingMode, description: string, options?: (cmd: Command) => Command): Benchmark {
  return {
    name: mode,
    description,
    options,
    run: async (own: PredictModelFlags, out) => {
      const o = program.opts();
      const backends = o.backends ?? (mode === 'predict' ? ['native', 'wasm', 'onnx'] : ['native', 'wasm']);
      // Each mode times the layout its command runs by default (engine/backend.ts prepareForTraining).
      const layouts = o.layouts ?? (mode === 'train' ? ['blocked'] : ['nhwc']);
      // A model that cannot be timed is a usage error: one line, as commander says a bad option.
      const model =
        mode === 'predict'
          ? await resolvePredictModel(own, { arch: o.arch as Arch[], sizes: o.sizes as number[] | undefined }).catch((err: unknown) =>
              program.error(`error: ${err instanceof VisemoError ? err.toLine() : String(err)}`),
            )
          : { width: 1 };
      await benchTimings(mode, { ...o, backends, layouts, out, ...model } as Options);
    },
  };
}

/** predict's own options: the model to time. */
const predictOptions = (cmd: Command) =>
  cmd
    .option('--model <name|dir>', 'time a trained model (a bundled name or a run folder) instead of untrained nets of --arch')
    .option('--width <factor>', "the untrained visemo net's filters per stage times this (with --arch visemo)", parseWidth)
    .option('--size <n>', 'one input size (as --sizes n)', positive('--size'));

const BENCHMARKS: Benchmark[] = [
  timingBench('train', 'ms per training step (Adam, batch 32), images/s, seconds per epoch'),
  timingBench(
    'predict',
    'inference latency at batch 1, per face at batch 16, and images/s at batch 64, of untrained nets of a shape (--arch, --width, --size) or a trained --model',
    predictOptions,
  ),
  serveBench,
  {
    name: 'queue',
    description: 'videos per minute through visemo worker with 1 and 2 worker processes (BullMQ on a local redis-server), in one run',
    options: (cmd) =>
      cmd
        .option('--videos <n>', 'clips to process per configuration', (v) => Number(v), 8)
        .option('--clip-seconds <s>', 'length of each clip', (v) => Number(v), 2)
        .option('--fps <n>', 'frames sampled per second (predict --fps)', (v) => Number(v), 5)
        .addOption(
          new Option('--workers <list>', 'worker process counts to time, the first is the reference').default([1, 2]).argParser((v) => list(v).map(Number)),
        )
        .option('--backend <name>', "the workers' --backend", 'wasm'),
    run: async (o: { videos: number; clipSeconds: number; fps: number; workers: number[]; backend: string }, out) => {
      const { runQueueBench } = await import('./queue.js');
      await runQueueBench({ ...o, out });
    },
  },
  {
    name: 'video',
    description:
      "frames per second end to end on 640x480 videos (1 and 3 faces): visemo with tracking beside face-api.js's own pipeline, and where visemo's time goes",
    options: (cmd) =>
      cmd
        .option('--seconds <n>', 'length of each made video (25 fps)', (v) => Number(v), 2)
        .option('--detect-every <n>', "visemo's full-frame detection interval, frames", (v) => Number(v), TRACKING_DEFAULTS.detectEvery)
        .option('--no-faceapi', "skip face-api.js's pipeline"),
    run: (o: { seconds: number; detectEvery: number; faceapi: boolean }, out) => benchVideo({ ...o, out }),
  },
  {
    name: 'web',
    description: 'frames per second of the web page on a fake 640x480 webcam in headless Chromium (wasm), per face detector, in one run',
    options: (cmd) =>
      cmd
        .option('--seconds <n>', 'seconds measured per detector, after a warm-up', (v) => Number(v), 10)
        .option('--detectors <list>', "the page's detector choices to time", (v) => list(v), ['auto', 'ssd']),
    run: async (o: { seconds: number; detectors: string[] }, out) => {
      const { benchWeb } = await import('./web.js');
      await benchWeb({ ...o, out });
    },
  },
];

for (const b of BENCHMARKS) {
  const cmd = program.command(b.name).description(b.description);
  (b.options?.(cmd) ?? cmd).action(async (o: unknown) => {
    await b.run(o, (program.opts().out as string | undefined) ?? `runs/bench/${b.name}.json`);
  });
}

await program.parseAsync(process.argv);
