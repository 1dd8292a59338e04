/**
 * `npm run bench -- predict`'s measurements: a model's inference time per batch (1, 16 and 64) on
 * a tfjs backend and, exported to ONNX, on onnxruntime-node, with batches built as predictSet and
 * predictSetOnnx build them; each configuration's row (batch 16 also per face) and the table.
 */
import { batchArray, batchInput, pixelStats, type DecodedSet, type Normalisation } from '../src/data/decoded-set.js';
import { TIGHT_CROPS } from '../src/data/face-cut.js';
import type { Arch } from '../src/config/recipe.js';
import { activeBackend, useBackend } from '../src/engine/backend.js';
import { openOnnxSession } from '../src/engine/onnx.js';
import { modelToOnnx } from '../src/export/onnx-model.js';
import type { RunMetadata } from '../src/model/run-folder.js';
import { tf } from '../src/engine/tf.js';
import { createRng } from '../src/util/random.js';
import { median } from './train-rows.js';
import { CACHE_IMAGES, fmt, keyOf, makeCache, threadsCell, type Options } from './timing-setup.js';
import { channelsOf, classesOf, modelToTime } from './predict-model.js';

/** Every timed call's milliseconds, per batch size. */
export interface PredictTimes {
  batch1: number[];
  batch16: number[];
  batch64: number[];
}

interface BatchFigures {
  /** The median call. */
  ms: number;
  imagesPerSecond: number;
}

export interface PredictResult {
  arch: Arch;
  size: number;
  threads: number | null;
  backend: string;
  batch1: BatchFigures;
  /** Faces arriving together (a crowd, a video's tracks): the cost per face of one call on 16. */
  batch16: BatchFigures & { msPerFace: number };
  batch64: BatchFigures;
}

/** The batch sizes timed, in order. */
const BATCHES = [1, 16, 64] as const;

/**
 * Times `call` on batches of random cache images, `opts.warmup` untimed calls then `opts.steps`
 * timed ones per batch size; what `call` returns to dispose is disposed after the clock stops.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: a call may return its outputs (disposed here) or nothing.
async function timeBatches(opts: Pick<Options, 'warmup' | 'steps'>, call: (idx: number[]) => Promise<tf.Tensor[] | void>): Promise<PredictTimes> {
  const rng = createRng(2);
  const result: PredictTimes = { batch1: [], batch16: [], batch64: [] };
  for (const batch of BATCHES) {
    for (let step = 0; step < opts.warmup + opts.steps; step++) {
      const idx = Array.from({ length: batch }, () => Math.floor(rng() * CACHE_IMAGES));
      const t0 = performance.now();
      const made = await call(idx);
      const t1 = performance.now();
      if (made) tf.dispose(made);
      if (step >= opts.warmup) result[`batch${batch}`].push(t1 - t0);
    }
  }
  return result;
}

/** The bench's input: a random image cache at the model's size and its normalisation. */
function benchInput(arch: Arch, size: number, opts: Pick<Options, 'model'>): { set: DecodedSet; norm: Normalisation; channels: 1 | 3 } {
  const channels = channelsOf(arch, opts);
  const set = makeCache(size, size);
  return { set, norm: pixelStats(set, channels), channels };
}

export type PredictBenchOptions = Pick<Options, 'warmup' | 'steps' | 'width' | 'model'>;

/** One configuration on the active tfjs backend. */
export async function benchPredict(arch: Arch, size: number, opts: PredictBenchOptions): Promise<PredictTimes> {
  const { set, norm, channels } = benchInput(arch, size, opts);
  const model = await modelToTime(arch, size, opts);
  const result = await timeBatches(opts, async (idx) => {
    // As predictSet (src/model/predict-set.ts) builds its batches.
    const x = batchInput(set, idx, norm, channels);
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    return [x, y];
  });
  model.dispose();
  return result;
}

/** benchPredict's model and batches on onnxruntime-node: the graph `visemo export` writes, fed as predictSetOnnx feeds it. */
export async function benchPredictOnnx(arch: Arch, size: number, opts: PredictBenchOptions): Promise<PredictTimes> {
  const { set, norm, channels } = benchInput(arch, size, opts);
  if (!activeBackend()) await useBackend('cpu', { quiet: true }); // tfjs only builds the model to export
  const model = await modelToTime(arch, size, opts);
  const meta =
    opts.model?.meta ??
    ({
      arch,
      classes: Array.from({ length: classesOf(opts) }, (_, i) => `class${i}`),
      inputSize: size,
      channels,
      normalisation: norm,
      faceCut: TIGHT_CROPS,
    } as RunMetadata);
  const session = await openOnnxSession(modelToOnnx(model, 'bench', meta));
  model.dispose();
  const result = await timeBatches(opts, async (idx) => {
    await session.run(batchArray(set, idx, norm, channels, 'nchw'), [idx.length, channels, size, size]);
  });
  await session.release();
  return result;
}

export function predictResult(arch: Arch, size: number, threads: number | null, backend: string, t: PredictTimes): PredictResult {
  const entry = (times: number[], batch: number) => {
    const ms = median(times);
    return { ms, imagesPerSecond: (batch * 1000) / ms };
  };
  const batch16 = entry(t.batch16, 16);
  return { arch, size, threads, backend, batch1: entry(t.batch1, 1), batch16: { ...batch16, msPerFace: batch16.ms / 16 }, batch64: entry(t.batch64, 64) };
}

/** One turn's progress line. */
export const predictLine = (t: PredictTimes) =>
  `batch 1 ${fmt(median(t.batch1), 2)} ms, batch 16 ${fmt(median(t.batch16) / 16, 2)} ms per face, batch 64 ${fmt(median(t.batch64))} ms`;

/** The predict table's lines, a header first; each row beside PyTorch's of the same configuration. */
export function predictTableLines(rows: PredictResult[]): string[] {
  const torch = new Map(rows.filter((r) => r.backend === 'pytorch').map((r) => [keyOf(r), r]));
  const lines = ['arch    size  threads  backend   batch1 ms  images/s   batch16 ms/face  images/s   batch64 ms  images/s   vs PyTorch (batch 1 / 16 / 64)'];
  for (const r of rows) {
    const ref = torch.get(keyOf(r));
    const ratio =
      ref && r.backend !== 'pytorch'
        ? `${(r.batch1.ms / ref.batch1.ms).toFixed(2)}x / ${(r.batch16.ms / ref.batch16.ms).toFixed(2)}x / ${(r.batch64.ms / ref.batch64.ms).toFixed(2)}x`
        : '';
    lines.push(
      `${r.arch.padEnd(6)}  ${String(r.size).padStart(4)}  ${threadsCell(r.threads)}  ${r.backend.padEnd(8)} ${fmt(r.batch1.ms, 2).padStart(9)}  ${fmt(r.batch1.imagesPerSecond, 0).padStart(8)}   ${fmt(r.batch16.msPerFace, 2).padStart(15)}  ${fmt(r.batch16.imagesPerSecond, 0).padStart(8)}   ${fmt(r.batch64.ms).padStart(10)}  ${fmt(r.batch64.imagesPerSecond, 0).padStart(8)}   ${ratio}`,
    );
  }
  return lines;
}

export function printPredictTable(rows: PredictResult[]): void {
  console.log(`\n${predictTableLines(rows).join('\n')}`);
}
