/**
 * What `visemo train` is asked and what it answers, apart from train.ts so that the phases it runs
 * (run-plan.ts, training-data.ts, …) can name them without importing the orchestrator back.
 */
import type { DataRecipe, TrainRecipe } from '../config/recipe.js';
import type { BackendChoice } from '../engine/backend.js';
import type { PrecisionChoice } from '../engine/precision.js';
import type { EpochRecord, History, RunMetadata } from '../model/run-folder.js';

export interface TrainOptions {
  data: string;
  out: string;
  /** How to train; unset fields take their defaults (src/config/recipe.ts). */
  recipe?: Partial<TrainRecipe>;
  /** Which images; unset fields take their defaults. */
  dataset?: Partial<DataRecipe>;
  backend?: BackendChoice;
  /** 'auto' (the default), 'fp32' or 'bf16' (engine/precision.ts); a resumed run keeps its recorded one. */
  precision?: PrecisionChoice;
  force?: boolean;
  resume?: boolean;
  /**
   * Start from this model's weights instead of random ones (fine-tuning, or a warm restart): a
   * bundled model's name or a run folder. It must have the same architecture, input size and
   * channels; its normalisation is kept. Classes it lacks start with fresh classifier weights.
   */
  init?: string;
  /** Recorded in metadata.json. */
  commandLine?: string;
  /** Where teacher probabilities are cached (default: see defaultCacheDir). */
  cacheDir?: string;
}

export interface TrainResult {
  runDir: string;
  history: History;
  metadata: RunMetadata;
  skipped: { path: string; reason: string }[];
}

export interface TrainHooks {
  /** One line per event (epoch finished, files written, warnings). */
  log?: (line: string) => void;
  onEpoch?: (record: EpochRecord) => void;
}

/** A line of the run's log (a no-op when no hook listens). */
export type Log = (line: string) => void;
