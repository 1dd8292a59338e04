/**
 * Which model `npm run bench -- predict` times: untrained nets of each --arch and size (with
 * --width, a wider or narrower visemo net), built from a fixed seed, since latency does not depend
 * on the weights; or, with --model, a trained model by bundled name or run folder, at its own
 * architecture, width, size and channels.
 */
import { InvalidArgumentError } from 'commander';
import type { Arch } from '../src/config/recipe.js';
import { buildModel } from '../src/model/architectures.js';
import { loadModel } from '../src/model/model-io.js';
import { readRunMetadata, recipeOfRun, resolveModel } from '../src/model/run-folder.js';
import type { tf } from '../src/engine/tf.js';
import { VisemoError } from '../src/util/errors.js';
import { CHANNELS, CLASSES, type Options } from './timing-setup.js';

/** predict's own flags, as commander parses them. */
export interface PredictModelFlags {
  /** A bundled model's name or a run folder. */
  model?: string;
  /** The visemo net's filters per stage times this. */
  width?: number;
  /** One input size (--sizes with one entry). */
  size?: number;
}

/** A width factor: a number above 0 (commander names the option and the value it refuses). */
export function parseWidth(v: string): number {
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('a width factor is a number above 0');
  return n;
}

/** The options predict times with: --arch, --sizes and --width checked, or a trained model's own. */
export async function resolvePredictModel(
  flags: PredictModelFlags,
  base: Pick<Options, 'arch' | 'sizes'>,
): Promise<Pick<Options, 'arch' | 'sizes' | 'width' | 'model'>> {
  if (flags.size !== undefined && base.sizes) throw new VisemoError('--size and --sizes name the input size twice', 'give one of them');
  const sizes = flags.size !== undefined ? [flags.size] : base.sizes;
  if (flags.model !== undefined) {
    if (flags.width !== undefined || sizes)
      throw new VisemoError(
        'a trained model (--model) has its own width and input size',
        'leave out --width, --size and --sizes, or time an untrained net with --arch',
      );
    const resolved = await resolveModel(flags.model);
    const meta = await readRunMetadata(resolved.dir);
    const model = { ...resolved, meta, width: recipeOfRun(meta).width ?? 1 };
    return { arch: [meta.arch], sizes: [meta.inputSize], width: model.width, model };
  }
  const width = flags.width ?? 1;
  if (width !== 1 && base.arch.some((a) => a !== 'visemo'))
    throw new VisemoError(`--width ${width} is the visemo net's (the paper's CNN has one width)`, 'pass --arch visemo');
  return { arch: base.arch, sizes, width };
}

/** What the table's rows time, in one line. */
export function predictModelLine(opts: Pick<Options, 'width' | 'model'>): string {
  const m = opts.model;
  if (m)
    return `model: ${m.bundled ? `the bundled model '${m.name}'` : `the run ${m.dir}`} (${m.meta.arch}${m.width !== 1 ? `, width ${m.width}` : ''}, ${m.meta.inputSize}x${m.meta.inputSize}, ${m.meta.channels} channel${m.meta.channels === 1 ? '' : 's'}, ${m.meta.classes.length} classes), its trained weights`;
  return `models: untrained nets of each architecture and size${opts.width !== 1 ? ` (the visemo net at width ${opts.width})` : ''}, ${CLASSES} classes, random weights: latency does not depend on the weights`;
}

/** The input channels of the rows of `arch`. */
export const channelsOf = (arch: Arch, opts: Pick<Options, 'model'>): 1 | 3 => opts.model?.meta.channels ?? CHANNELS[arch];
export const classesOf = (opts: Pick<Options, 'model'>): number => opts.model?.meta.classes.length ?? CLASSES;

/** The model a row times: the trained one, or an untrained net of this shape (seed 1). */
export function modelToTime(arch: Arch, size: number, opts: Pick<Options, 'width' | 'model'>): Promise<tf.LayersModel> {
  if (opts.model) return loadModel(opts.model.dir, opts.model.meta);
  return Promise.resolve(buildModel({ arch, size, numClasses: CLASSES, channels: CHANNELS[arch], width: opts.width, seed: 1 }));
}
