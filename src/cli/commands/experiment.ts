import { InvalidArgumentError, Option, type Command } from 'commander';
import path from 'node:path';
import { parseClassOption } from '../../data/classes.js';
import { DEFAULT_SUBJECT_PATTERN } from '../../data/split.js';
import type { BackendChoice } from '../../engine/backend.js';
import { runExperiment } from '../../experiment/run-experiment.js';
import { keptTrainAccuracy, meanEpochSeconds, totalTrainingSeconds } from '../../report/document.js';
import { duration, percent, seconds, sizeLabel } from '../../report/format.js';
import { paperForSize } from '../../report/paper-reference.js';
import { MIN_INPUT_SIZE } from '../../model/paper-cnn.js';
import { TRAIN_DEFAULTS } from '../../training/train.js';
import { formatTable } from '../../util/table.js';
import { action, intOption } from '../run-action.js';
import { backendOption, floatOption } from '../options.js';

interface ExperimentCliOptions {
  out: string;
  sizes: number[];
  classes: string;
  split: 'random' | 'subject';
  subjectPattern: string;
  seed: number;
  epochs: number;
  batch: number;
  lr: number;
  channels: number;
  backend: BackendChoice;
  limitPerClass?: number;
  force?: boolean;
}

/** Parses "100,50,20" into sizes, naming the bad entry. */
function sizeList(value: string): number[] {
  return value.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n) || n < MIN_INPUT_SIZE) throw new InvalidArgumentError(`--sizes takes integers of at least ${MIN_INPUT_SIZE}, got '${s}'`);
    return n;
  });
}

export function registerExperiment(program: Command): void {
  program
    .command('experiment')
    .description("the paper's experiment: train and test the CNN at several input sizes on one split, and write a report with its tables and figures")
    .argument('<dataset>', 'image folder: <class>/*.png|jpg|…, or train|val|test/<class>/*')
    .requiredOption('-o, --out <dir>', 'experiment folder: size-<N>/ runs, results.json, report.html, report.md, figures/, tables/')
    .addOption(new Option('--sizes <list>', 'input sizes to compare, comma-separated (paper: 100,50,20)').argParser(sizeList).default([100, 50, 20], '100,50,20'))
    .option('--classes <list>', "'paper' (anger,disgust,fear,happiness,sadness,surprise), 'all', or a comma list", 'all')
    .addOption(new Option('--split <mode>', "'random': per-class 80/10/10; 'subject': no person on two sides").choices(['random', 'subject']).default(TRAIN_DEFAULTS.split))
    .option('--subject-pattern <regex>', 'regex whose first group is the subject id in a file name', DEFAULT_SUBJECT_PATTERN)
    .option('--epochs <n>', 'training epochs per size', intOption('--epochs', 1), TRAIN_DEFAULTS.epochs)
    .option('--batch <n>', 'batch size', intOption('--batch', 1), TRAIN_DEFAULTS.batchSize)
    .option('--lr <rate>', 'Adam learning rate', floatOption('--lr'), TRAIN_DEFAULTS.learningRate)
    .option('--channels <1|3>', '3 replicates monochrome to three channels as the paper did; 1 is leaner', intOption('--channels', 1), TRAIN_DEFAULTS.channels)
    .option('--seed <n>', 'seed for the split, shuffling and initial weights (the same for every size)', intOption('--seed', 0), TRAIN_DEFAULTS.seed)
    .addOption(backendOption())
    .option('--limit-per-class <n>', 'use at most n images per class (quick trials)', intOption('--limit-per-class', 1))
    .option('--force', 'retrain every size, replacing earlier runs in --out')
    .addHelpText(
      'after',
      '\nRe-running the same command resumes: finished sizes are read back, an interrupted one continues from its last epoch.\n' +
        'Example:\n  visemo experiment ../shared/datasets/ckplus48 --classes paper --split subject --sizes 100,50,20 --epochs 15 --out runs/paper',
    )
    .action(
      action(async (dataset: string, o: ExperimentCliOptions) => {
        const log = (line: string) => process.stderr.write(line + '\n');
        const started = performance.now();
        const { results, report } = await runExperiment(
          {
            data: dataset,
            out: o.out,
            sizes: o.sizes,
            epochs: o.epochs,
            batchSize: o.batch,
            seed: o.seed,
            learningRate: o.lr,
            channels: o.channels === 1 ? 1 : 3,
            backend: o.backend,
            split: o.split,
            subjectPattern: o.subjectPattern,
            classes: parseClassOption(o.classes),
            limitPerClass: o.limitPerClass,
            force: o.force,
          },
          { log },
        );
        const rows = results.sizes.map((r) => {
          const p = paperForSize(r.size);
          return [
            sizeLabel(r.size),
            percent(r.metrics.accuracy),
            p ? `${p.testAccuracy.value}%` : '—',
            percent(keptTrainAccuracy(r) ?? NaN),
            p ? `${p.trainAccuracy.value}%` : '—',
            seconds(meanEpochSeconds(r)),
            p ? `${p.secondsPerEpoch.value.cpu} / ${p.secondsPerEpoch.value.gpu}` : '—',
            duration(totalTrainingSeconds(r)),
          ];
        });
        const split = results.sizes[0]?.metadata.split;
        const out = [
          '',
          formatTable(['size', 'test acc', 'paper', 'train acc', 'paper', 's/epoch', 'paper CPU/GPU', 'training'], rows),
          '',
          `split     ${split?.mode ?? o.split} (seed ${o.seed}); backend ${[...new Set(results.sizes.map((r) => r.metadata.training.backend))].join(', ')} on ${results.machine.processor}`,
          `report    ${path.relative(process.cwd(), report.html)} (also ${path.basename(report.markdown)}, results.json, figures/, tables/); ${((performance.now() - started) / 1000).toFixed(1)} s in all`,
        ];
        process.stdout.write(out.join('\n') + '\n');
      }),
    );
}
