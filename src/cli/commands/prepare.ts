import os from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { parseClassOption } from '../../data/classes.js';
import { DEFAULT_SUBJECT_PATTERN, type SplitMode } from '../../config/recipe.js';
import { DETECTOR_MODELS, type DetectorModel } from '../../image/face-detector.js';
import { parseAugment } from '../../prepare/augment.js';
import { formatSummary, prepare } from '../../prepare/prepare.js';
import { SOURCE_KINDS, type SourceKind } from '../../prepare/sources.js';
import { action, intOption } from '../run-action.js';

function numberOption(name: string, min: number, max = Infinity): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a number from ${min}${max < Infinity ? ` to ${max}` : ''}, got '${value}'`);
    return n;
  };
}

function choice<T extends string>(name: string, allowed: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!allowed.includes(value as T)) throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')}, got '${value}'`);
    return value as T;
  };
}

interface PrepareCliOptions {
  out: string;
  source?: SourceKind;
  classes: string;
  framesPerVideo: number;
  fps?: number;
  skipStart: number;
  skipEnd: number;
  detect: boolean;
  detector: DetectorModel;
  minScore: number;
  margin: number;
  size: number;
  augment: string;
  augmentAll?: boolean;
  split: SplitMode;
  subjectPattern: string;
  seed: number;
  workers: number;
  force?: boolean;
  json?: boolean;
}

export function registerPrepare(program: Command): void {
  program
    .command('prepare')
    .description("turn eNTERFACE'05 videos, videos per class or images per class into a training-ready face dataset (paper 1.1–1.2)")
    .argument('<source>', "eNTERFACE'05 folder, or a folder with one subfolder of videos or images per class")
    .requiredOption('--out <dataset>', 'output dataset folder (train/val/test/<class>/*.png + manifest.json)')
    .option('--source <kind>', `source kind: ${SOURCE_KINDS.join('|')} (default: detected)`, choice('--source', SOURCE_KINDS))
    .option('--classes <list>', "classes to keep: 'all', 'paper' (the six) or a comma list", 'all')
    .option('--frames-per-video <n>', 'frames taken per video, evenly spaced', intOption('--frames-per-video', 1), 10)
    .option('--fps <f>', 'take frames at this rate instead of a fixed count', numberOption('--fps', 0.01))
    .option('--skip-start <seconds>', 'seconds dropped at the start of each video (the neutral onset)', numberOption('--skip-start', 0), 0.5)
    .option('--skip-end <seconds>', 'seconds dropped at the end of each video', numberOption('--skip-end', 0), 0)
    .option('--no-detect', 'do not look for faces: the images already are face crops (centre square is kept)')
    .option('--detector <model>', `face detector from @vladmandic/face-api: ${DETECTOR_MODELS.join('|')} (tiny: ~4x faster than ssd)`, choice('--detector', DETECTOR_MODELS), 'tiny')
    .option('--min-score <s>', 'lowest detector score accepted as a face', numberOption('--min-score', 0.05, 1), 0.5)
    .option('--margin <fraction>', 'room around the face box on each side, as a fraction of its size', numberOption('--margin', 0, 2), 0.2)
    .option('--size <pixels>', "saved image width and height (the paper's frames: 416)", intOption('--size', 8), 416)
    .option('--augment <spec>', "extra copies: 'rotate=DEG,noise=STD' (±DEG rotation, Gaussian noise on 0–1 pixels) or 'none'", 'rotate=15,noise=0.05')
    .option('--augment-all', 'augment validation and test images too, as the paper did (default: training split only)')
    .option('--split <mode>', "random: per-class 80/10/10 (paper); subject: no subject on two sides", choice('--split', ['random', 'subject'] as const), 'random')
    .option('--subject-pattern <regex>', 'subject in a file name, first group (videos and images sources)', DEFAULT_SUBJECT_PATTERN)
    .option('--seed <n>', 'seed for splits and augmentation', intOption('--seed', 0), 42)
    .option('--workers <n>', 'parallel workers (one face detector each)', intOption('--workers', 1), Math.min(2, os.availableParallelism()))
    .option('--force', 'start the output over when it was prepared with other options')
    .option('--json', 'print the summary as JSON')
    .action(
      action(async (source: string, o: PrepareCliOptions) => {
        const summary = await prepare({
          source,
          out: o.out,
          kind: o.source,
          classes: parseClassOption(o.classes),
          size: o.size,
          margin: o.margin,
          detect: o.detect,
          detector: o.detector,
          minScore: o.minScore,
          frames: o.fps ? { fps: o.fps, skipStart: o.skipStart, skipEnd: o.skipEnd } : { framesPerVideo: o.framesPerVideo, skipStart: o.skipStart, skipEnd: o.skipEnd },
          augment: parseAugment(o.augment),
          augmentAll: o.augmentAll ?? false,
          split: o.split,
          subjectPattern: o.subjectPattern,
          seed: o.seed,
          workers: o.workers,
          force: o.force,
        });
        process.stdout.write((o.json ? JSON.stringify(summary, null, 2) : formatSummary(summary, o.out)) + '\n');
      }),
    );
}
