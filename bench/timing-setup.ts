/**
 * What the train and predict timings (bench/timing.ts) share: their options, the image cache their
 * batches come from, the channels and default sizes of each architecture, the native backend's
 * thread count and activation layout between turns, and the tables' number format.
 */
import type { DecodedSet } from '../src/data/decoded-set.js';
import type { Arch } from '../src/config/recipe.js';
import type { RunMetadata } from '../src/model/run-folder.js';
import type { BackendName } from '../src/engine/backend.js';
import { loadAddon } from '../src/engine/native/addon.js';
import type { TrainAugment } from '../src/training/augment.js';
import { createRng } from '../src/util/random.js';

export const TRAIN_IMAGES = 11475; // the paper's training set
export const CACHE_IMAGES = 256;
export const CLASSES = 6;
/** The paper's monochrome is replicated to three channels; the visemo net takes one. */
export const CHANNELS: Record<Arch, 1 | 3> = { paper: 3, visemo: 1 };
export const DEFAULT_SIZES: Record<Arch, number[]> = { paper: [20, 50, 100], visemo: [48] };

/** A tfjs backend, or onnxruntime-node on the exported graph (inference only). */
export type BenchBackend = BackendName | 'onnx';

export type NativeLayout = 'nhwc' | 'blocked';
/** The row label of a native layout: 'native' keeps its name, blocked activations are 'native-blk'. */
export const layoutLabel = (l: NativeLayout) => (l === 'nhwc' ? 'native' : 'native-blk');

export interface Options {
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
  /** predict: the visemo net's width factor of the untrained nets (1: its filters as they are). */
  width: number;
  /** predict: a trained model timed instead of untrained nets (bench/predict-model.ts). */
  model?: TrainedModel;
}

/** A trained model `npm run bench -- predict --model` times: a bundled one or a run folder. */
export interface TrainedModel {
  /** The bundled name, or the run folder's base name. */
  name: string;
  dir: string;
  bundled: boolean;
  meta: RunMetadata;
  /** The visemo net's width factor it was trained at (1 for the paper's CNN). */
  width: number;
}

/** A decoded uint8 gray image cache, as training keeps in memory (src/data/decoded-set.ts). */
export function makeCache(size: number, seed: number): DecodedSet {
  const rng = createRng(seed);
  const pixels = Uint8Array.from({ length: CACHE_IMAGES * size * size }, () => Math.floor(rng() * 256));
  const labels = Int32Array.from({ length: CACHE_IMAGES }, () => Math.floor(rng() * CLASSES));
  const rels = Array.from({ length: CACHE_IMAGES }, (_, i) => `bench/${i}.png`);
  return { size, pixels, labels, rels };
}

export function setNativeThreads(threads: number): void {
  const native = loadAddon();
  if (typeof native !== 'string') native.setThreads(threads);
}

export function setNativeLayout(layout: NativeLayout): void {
  const native = loadAddon();
  if (typeof native !== 'string') native.setBlockedActivations(layout === 'blocked');
}

export const fmt = (v: number | undefined, digits = 1) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));

export const keyOf = (r: { arch: Arch; size: number; threads: number | null }) => `${r.arch}@${r.size}/${r.threads}`;
export const threadsCell = (t: number | null) => (t === null ? '-' : String(t)).padStart(7);
