/**
 * The model architectures `train --arch` can build, by name. 'paper' is exactly the paper's CNN
 * (the reproduction); 'visemo' is our own, smaller and more accurate net (see visemo-net.ts).
 */
import { ARCHITECTURES, type Arch } from '../config/recipe.js';
import type { tf } from '../engine/tf.js';
import { buildPaperCnn, MIN_INPUT_SIZE } from './paper-cnn.js';
import { buildVisemoNet, VISEMO_NET_MIN_SIZE } from './visemo-net.js';


export interface ArchArgs {
  arch: Arch;
  size: number;
  numClasses: number;
  channels: 1 | 3;
  seed?: number;
}

const BUILDERS: Record<Arch, (a: ArchArgs) => tf.LayersModel> = {
  paper: (a) => buildPaperCnn({ size: a.size, numClasses: a.numClasses, channels: a.channels, seed: a.seed }),
  visemo: (a) => buildVisemoNet({ size: a.size, numClasses: a.numClasses, channels: a.channels, seed: a.seed }),
};

/** The smallest input size each architecture can take. */
export const MIN_SIZE: Record<Arch, number> = { paper: MIN_INPUT_SIZE, visemo: VISEMO_NET_MIN_SIZE };

export function isArch(name: string): name is Arch {
  return (ARCHITECTURES as readonly string[]).includes(name);
}

/** A fresh, uncompiled model of the named architecture. */
export function buildModel(args: ArchArgs): tf.LayersModel {
  if (!isArch(args.arch)) throw new Error(`unknown architecture '${String(args.arch)}' (use ${ARCHITECTURES.join(' or ')})`);
  return BUILDERS[args.arch](args);
}
