/**
 * The model architectures `train --arch` can build, by name. 'paper' is exactly the paper's CNN
 * (the reproduction); 'visemo' is our own, smaller and more accurate net (see visemo-net.ts).
 */
import { ARCHITECTURES, type Arch } from '../config/recipe.js';
import type { tf } from '../engine/tf.js';
import { buildPaperCnn, MIN_INPUT_SIZE } from './paper-cnn.js';
import { buildVisemoNet, VISEMO_NET_FILTERS, VISEMO_NET_MIN_SIZE } from './visemo-net.js';

export interface ArchArgs {
  arch: Arch;
  size: number;
  numClasses: number;
  channels: 1 | 3;
  /** Filters per stage times this (visemo net only; default 1). */
  width?: number;
  seed?: number;
}

const BUILDERS: Record<Arch, (a: ArchArgs) => tf.LayersModel> = {
  paper: (a) => buildPaperCnn({ size: a.size, numClasses: a.numClasses, channels: a.channels, seed: a.seed }),
  visemo: (a) =>
    buildVisemoNet({
      size: a.size,
      numClasses: a.numClasses,
      channels: a.channels,
      seed: a.seed,
      filters: VISEMO_NET_FILTERS.map((f) => Math.round(f * (a.width ?? 1))),
    }),
};

/** The smallest input size each architecture can take. */
export const MIN_SIZE: Record<Arch, number> = { paper: MIN_INPUT_SIZE, visemo: VISEMO_NET_MIN_SIZE };

export function isArch(name: string): name is Arch {
  return (ARCHITECTURES as readonly string[]).includes(name);
}

/** A fresh, uncompiled model of the named architecture. */
export function buildModel(args: ArchArgs): tf.LayersModel {
  if (!isArch(args.arch)) throw new Error(`unknown architecture '${String(args.arch)}' (use ${ARCHITECTURES.join(' or ')})`);
  const width = args.width ?? 1;
  if (!(width > 0) || (args.arch === 'paper' && width !== 1))
    throw new Error(`width ${width} is not possible for the ${args.arch} architecture (the paper's net has one width; the visemo net takes a factor above 0)`);
  return BUILDERS[args.arch](args);
}
