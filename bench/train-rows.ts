/**
 * The rows of `npm run bench -- train` and what runs/bench/train.json says at its top: each timed
 * configuration's row ({ arch, size, threads, backend, precision, stepMs } and the figures derived
 * from its steps), the CPU they were timed on (model and the flags that decide bf16) and the date,
 * and which bf16 rows this machine can time. Pure functions, apart from bench/run.ts (which runs
 * the bench when imported), so that test/bench-train-rows.test.ts can check them.
 */
import type { Arch } from '../src/config/recipe.js';
import { describeBf16, hasBf16, type CpuFeatures } from '../src/engine/cpu-features.js';
import { resolvePrecision, type Precision } from '../src/engine/precision.js';
import { VisemoError } from '../src/util/errors.js';

/** What one configuration measured: every timed step, over all its turns. */
export interface TrainTimes {
  dataMs: number[];
  modelMs: number[];
}

export interface TrainResult {
  arch: Arch;
  size: number;
  /** null for wasm, whose thread count is fixed when it starts. */
  threads: number | null;
  /** 'native-blk', 'native', 'wasm', 'cpu' or 'pytorch'. */
  backend: string;
  precision: Precision;
  /** The median of the timed steps, batch making included. */
  stepMs: number;
  dataMs: number;
  modelMs: number;
  imagesPerSecond: number;
  secondsPerEpoch: number;
  gflopPerSecond?: number;
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** What the row depends on beyond its times: the batch, the epoch it is scaled to and the FLOP of a forward pass per image. */
export interface RowScale {
  batch: number;
  trainImages: number;
  forwardFlopsPerImage: number;
}

/** The row of one configuration from the steps of all its turns (a training step is about 3 forward passes of FLOP). */
export function trainResult(key: Pick<TrainResult, 'arch' | 'size' | 'threads' | 'backend' | 'precision'>, t: TrainTimes, scale: RowScale): TrainResult {
  if (t.dataMs.length === 0 || t.dataMs.length !== t.modelMs.length) throw new Error(`no timed steps for ${key.backend} ${key.arch}@${key.size}`);
  const stepMs = median(t.dataMs.map((d, i) => d + t.modelMs[i]!));
  return {
    ...key,
    stepMs,
    dataMs: median(t.dataMs),
    modelMs: median(t.modelMs),
    imagesPerSecond: (scale.batch * 1000) / stepMs,
    secondsPerEpoch: (Math.ceil(scale.trainImages / scale.batch) * stepMs) / 1000,
    gflopPerSecond: (3 * scale.forwardFlopsPerImage * scale.batch) / stepMs / 1e6,
  };
}

/** The top of the bench's JSON: when, and on which CPU (its name and the flags that decide bf16). */
export function benchHead(cpu: CpuFeatures, date: Date): { date: string; cpu: { model: string; known: boolean; flags: CpuFeatures['flags'] } } {
  return { date: date.toISOString(), cpu: { model: cpu.model, known: cpu.known, flags: { ...cpu.flags } } };
}

/**
 * Which bf16 rows this machine times, and why not the others (null: timed). PyTorch's bf16
 * autocast needs the CPU's bf16; native bf16 and oneDNN's own bf16 convolution rate also need the
 * addon's bf16 kernels: exactly what `--precision bf16` needs (engine/precision.ts), so its refusal
 * is the reason given.
 */
export function bf16Plan(cpu: CpuFeatures, addon: readonly string[]): { pytorch: string | null; native: string | null } {
  const pytorch = hasBf16(cpu) ? null : `bf16 needs a CPU with avx512_bf16 or amx_bf16 (${describeBf16(cpu)})`;
  let native: string | null = null;
  try {
    resolvePrecision('bf16', { cpu, backend: 'native', addon });
  } catch (err) {
    if (!(err instanceof VisemoError)) throw err;
    native = pytorch ?? err.message.replace(/^--precision bf16: /, '');
  }
  return { pytorch, native };
}
