import os from 'node:os';
import { Option, type Command } from 'commander';
import { parseClassOption } from '../../data/classes.js';
import { DEFAULT_SUBJECT_PATTERN, SPLIT_MODES, type SplitMode } from '../../config/recipe.js';
import { INFERENCE_DEFAULTS } from '../../config/inference.js';
import { DETECTOR_MODELS, type DetectorModel } from '../../image/face-detector.js';
import { parseAugment } from '../../prepare/augment.js';
import { formatSummary, prepare } from '../../prepare/prepare.js';
import { SOURCE_KINDS, type SourceKind } from '../../prepare/sources.js';
import { action } from '../run-action.js';
import { addHelpFooter, skippedExit } from '../help.js';
import { intOption, minFaceScoreOption, numberOption } from '../options.js';

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
  minFaceScore: number;
  margin: number;
  align?: boolean;
  size: number;
  augment: string;
  augmentAll?: boolean;
  split: SplitMode;
  subjectPattern: string;
  seed: number;
  workers: number;
  force?: boolean;
  retryFailed?: boolean;
  json?: boolean;
}

export function registerPrepare(program: Command): void {
  const cmd = program
    .command('prepare')
    .description("turn eNTERFACE'05 videos, videos per class or images per class into a training-ready face dataset (paper 1.1–1.2)")
    .argument('<source>', "eNTERFACE'05 folder, or a folder with one subfolder of videos or images per class")
    .requiredOption('-o, --out <dataset>', 'output dataset folder (train/val/test/<class>/*.png + manifest.json)')
    .addOption(new Option('--source <kind>', 'source kind (default: detected)').choices([...SOURCE_KINDS]))
    .option('--classes <list>', "classes to keep: 'all', 'paper' (the six) or a comma list", 'all')
    .option('--frames-per-video <n>', 'frames taken per video, evenly spaced', intOption('--frames-per-video', 1), 10)
    .option('--fps <f>', 'take frames at this rate instead of a fixed count', numberOption('--fps', 0.01))
    .option('--skip-start <seconds>', 'seconds dropped at the start of each video (the neutral onset)', numberOption('--skip-start', 0), 0.5)
    .option('--skip-end <seconds>', 'seconds dropped at the end of each video', numberOption('--skip-end', 0), 0)
    .option('--no-detect', 'do not look for faces: the images already are face crops (centre square is kept)')
    .addOption(
      new Option(
        '--detector <model>',
        "face detector: face-api's 'tiny' (about 4x faster than 'ssd') or 'ssd', or @vladmandic/human's 'blazeface' (faster than tiny, boxes mapped onto SSD's); in a video the face kept is its main track's, the person seen in most frames",
      )
        .choices([...DETECTOR_MODELS])
        .default('tiny'),
    )
    .addOption(minFaceScoreOption())
    .option(
      '--margin <fraction>',
      'room around the face box on each side, as a fraction of its size',
      numberOption('--margin', 0, 2),
      INFERENCE_DEFAULTS.faceMargin,
    )
    .option(
      '--align',
      "cut each face aligned by face-api's 68 landmarks (eyes levelled, framed as FER2013's crops) instead of a square around its box; models trained on it align at inference too",
    )
    .option('--size <pixels>', "saved image width and height (the paper's frames: 416)", intOption('--size', 8), 416)
    .option('--augment <spec>', "extra copies: 'rotate=DEG,noise=STD' (±DEG rotation, Gaussian noise on 0–1 pixels) or 'none'", 'rotate=15,noise=0.05')
    .option('--augment-all', 'augment validation and test images too, as the paper did (default: training split only)')
    .addOption(new Option('--split <mode>', 'random: per-class 80/10/10 (paper); subject: no subject on two sides').choices([...SPLIT_MODES]).default('random'))
    .option('--subject-pattern <regex>', 'subject in a file name, first group (videos and images sources)', DEFAULT_SUBJECT_PATTERN)
    .option('--seed <n>', 'seed for splits and augmentation', intOption('--seed', 0), 42)
    .option('--workers <n>', 'parallel workers (one face detector each)', intOption('--workers', 1), Math.min(2, os.availableParallelism()))
    .option('--force', 'start the output over when it was prepared with other options')
    .option('--retry-failed', 'process again the videos or images that failed in an earlier run (skipped otherwise)')
    .option('--json', 'print the summary as JSON');
  addHelpFooter(cmd, {
    exit: 'Exit status: 0 when every video or image was processed, 1 when some failed (named in the summary; a re-run skips them unless --retry-failed), 2 on a usage error or bad input.',
    examples: ['visemo prepare /data/enterface05 -o data/enterface --split subject --size 100', 'visemo prepare my-images -o data/mine --no-detect'],
  }).action(
    action(async (source: string, o: PrepareCliOptions) => {
      const summary = await prepare({
        source,
        out: o.out,
        kind: o.source,
        classes: parseClassOption(o.classes),
        size: o.size,
        margin: o.margin,
        align: o.align,
        detect: o.detect,
        detector: o.detector,
        minScore: o.minFaceScore,
        frames: o.fps
          ? { fps: o.fps, skipStart: o.skipStart, skipEnd: o.skipEnd }
          : { framesPerVideo: o.framesPerVideo, skipStart: o.skipStart, skipEnd: o.skipEnd },
        augment: parseAugment(o.augment),
        augmentAll: o.augmentAll ?? false,
        split: o.split,
        subjectPattern: o.subjectPattern,
        seed: o.seed,
        workers: o.workers,
        force: o.force,
        retryFailed: o.retryFailed,
      });
      process.stdout.write(`${o.json ? JSON.stringify(summary, null, 2) : formatSummary(summary, o.out)}\n`);
      // Failed units are named in the summary; a re-run skips them unless --retry-failed.
      return skippedExit(summary.failed.length);
    }),
  );
}
