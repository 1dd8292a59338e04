/**
 * The one decision of the precision a model computes in: fp32, or bf16 (bf16 convolutions and
 * matrix products with fp32 master weights, statistics, loss and optimizer update) where the CPU,
 * the backend and the native addon can all do it. `--precision auto|fp32|bf16` resolves here, for
 * training and inference alike; an explicit bf16 that cannot run is refused, never quietly run in
 * fp32, with one line naming what is missing.
 *
 * This version's native addon has no bf16 kernels (addonPrecisions reads ['fp32']): they need a
 * CPU with avx512_bf16 or AMX to be built and tested on. Until then 'auto' is fp32 everywhere and
 * 'bf16' is refused everywhere, each refusal saying why.
 */
import { VisemoError } from '../util/errors.js';
import { cpuFeatures, describeBf16, hasBf16, type CpuFeatures } from './cpu-features.js';
import { addonPrecisions, loadAddon } from './native/addon.js';

export const PRECISIONS = ['fp32', 'bf16'] as const;
/** What a model computes in; what a run's metadata.json records. */
export type Precision = (typeof PRECISIONS)[number];
export const PRECISION_CHOICES = ['auto', ...PRECISIONS] as const;
export type PrecisionChoice = (typeof PRECISION_CHOICES)[number];

/** What the choice depends on, gathered by precisionContext (or given by a test). */
export interface PrecisionContext {
  cpu: CpuFeatures;
  /** The backend that will compute, after any fallback: 'native', 'wasm', 'cpu' or 'onnx'. */
  backend: string;
  /** The precisions the native addon has kernels for (none where it is not loaded). */
  addon: readonly string[];
}

/**
 * 'auto' → bf16 only where the CPU has avx512_bf16 or amx_bf16, the backend is native and the
 * addon has bf16 kernels; else fp32. 'fp32' → fp32. 'bf16' → bf16 where all three hold, else a
 * VisemoError naming the first that does not (the CPU, then the backend, then the addon).
 */
export function resolvePrecision(choice: PrecisionChoice, ctx: PrecisionContext): Precision {
  if (choice === 'fp32') return 'fp32';
  const cpu = hasBf16(ctx.cpu);
  const native = ctx.backend === 'native';
  const kernels = ctx.addon.includes('bf16');
  if (choice === 'auto') return cpu && native && kernels ? 'bf16' : 'fp32';
  if (!cpu) throw new VisemoError(`--precision bf16 needs a CPU with avx512_bf16 or amx_bf16 (${describeBf16(ctx.cpu)})`, 'use --precision fp32 or auto');
  if (!native)
    throw new VisemoError(
      `--precision bf16 runs on the native backend only, not ${ctx.backend}`,
      'use --backend native (built by npm run build:native), or --precision fp32 or auto',
    );
  if (!kernels) {
    throw new VisemoError(
      "--precision bf16: this version of visemo's native addon has no bf16 kernels (they await an AMX machine to be built and tested on)",
      'use --precision fp32 or auto (auto computes in fp32 until they exist)',
    );
  }
  return 'bf16';
}

/** This machine's context for a run on `backend` (the active one, after useBackend's fallback). */
export function precisionContext(backend: string): PrecisionContext {
  const native = backend === 'native' ? loadAddon() : null;
  return { cpu: cpuFeatures(), backend, addon: native && typeof native !== 'string' ? addonPrecisions(native) : [] };
}
