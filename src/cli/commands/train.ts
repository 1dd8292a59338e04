import { Option, type Command } from 'commander';
import path from 'node:path';
import { parseClassOption } from '../../data/classes.js';
import { DEFAULT_SUBJECT_PATTERN } from '../../data/split.js';
import { TRAIN_DEFAULTS, trainRun } from '../../training/train.js';
import { pct } from '../../util/table.js';
import { action, intOption } from '../run-action.js';
import { backendOption, floatOption, fractionOption } from '../options.js';

interface TrainCliOptions {
  out: string;
  size: number;
  classes: string;
  split: 'random' | 'subject';
  subjectPattern: string;
  seed: number;
  epochs: number;
  batch: number;
  lr: number;
  channels: number;
  backend: 'auto' | 'native' | 'wasm' | 'cpu';
  force?: boolean;
  resume?: boolean;
  limitPerClass?: number;
  valFraction: number;
  testFraction: number;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description("train the paper's CNN on a folder of face images (one subfolder per class, or train/val/test subfolders)")
    .argument('<dataset>', 'image folder: <class>/*.png|jpg|tiff|bmp|webp, or train|val|test/<class>/*')
    .requiredOption('-o, --out <dir>', 'run folder to write (model.json, weights.bin, metadata.json, history.json/csv, split.json)')
    .option('--size <pixels>', 'input width and height (paper: 100, 50, 20)', intOption('--size', 8), TRAIN_DEFAULTS.size)
    .option('--classes <list>', "'paper' (anger,disgust,fear,happiness,sadness,surprise), 'all', or a comma list", 'all')
    .addOption(new Option('--split <mode>', "'random': per-class 80/10/10 as the paper's Table 1; 'subject': no person on two sides").choices(['random', 'subject']).default(TRAIN_DEFAULTS.split))
    .option('--val-fraction <share>', 'share of images (of each class, or of subjects) for validation', fractionOption('--val-fraction'), 0.1)
    .option('--test-fraction <share>', 'share for the test split; 0 when you test on another folder (evaluate --data)', fractionOption('--test-fraction'), 0.1)
    .option('--subject-pattern <regex>', 'regex whose first group is the subject id in a file name', DEFAULT_SUBJECT_PATTERN)
    .option('--epochs <n>', 'training epochs', intOption('--epochs', 1), TRAIN_DEFAULTS.epochs)
    .option('--batch <n>', 'batch size', intOption('--batch', 1), TRAIN_DEFAULTS.batchSize)
    .option('--lr <rate>', 'Adam learning rate (the paper names neither optimizer nor loss: Adam and categorical cross-entropy are our choice)', floatOption('--lr'), TRAIN_DEFAULTS.learningRate)
    .option('--channels <1|3>', '3 replicates monochrome to three channels as the paper did; 1 is leaner', intOption('--channels', 1), TRAIN_DEFAULTS.channels)
    .option('--seed <n>', 'seed for the split, shuffling and initial weights', intOption('--seed', 0), TRAIN_DEFAULTS.seed)
    .addOption(backendOption())
    .option('--limit-per-class <n>', 'use at most n images per class (quick trials)', intOption('--limit-per-class', 1))
    .option('--force', 'replace an existing run in --out')
    .option('--resume', 'continue an interrupted run in --out from its last finished epoch')
    .addHelpText('after', '\nExample:\n  visemo train ../shared/datasets/ckplus48 --classes paper --size 50 --split subject --epochs 15 --out runs/ck50')
    .action(
      action(async (dataset: string, o: TrainCliOptions) => {
        const log = (line: string) => process.stdout.write(line + '\n');
        const started = performance.now();
        const result = await trainRun(
          {
            data: dataset,
            out: o.out,
            size: o.size,
            classes: parseClassOption(o.classes),
            split: o.split,
            subjectPattern: o.subjectPattern,
            seed: o.seed,
            epochs: o.epochs,
            batchSize: o.batch,
            learningRate: o.lr,
            channels: o.channels === 1 ? 1 : 3,
            backend: o.backend,
            force: o.force,
            resume: o.resume,
            limitPerClass: o.limitPerClass,
            fractions: { val: o.valFraction, test: o.testFraction },
            commandLine: ['visemo', ...process.argv.slice(2)].join(' '),
          },
          { log },
        );
        const { history, metadata } = result;
        const best = history.epochs.find((e) => e.epoch === history.bestEpoch);
        const seconds = history.epochs.reduce((a, e) => a + e.seconds, 0);
        const img = metadata.dataset.images;
        log('');
        log(`classes   ${metadata.classes.join(', ')}`);
        log(`images    train ${img.train}, val ${img.val}, test ${img.test} (${metadata.split.mode} split, seed ${metadata.split.seed})${result.skipped.length ? `; ${result.skipped.length} unreadable skipped` : ''}`);
        log(`backend   ${metadata.training.backend}, ${metadata.inputSize}x${metadata.inputSize}x${metadata.channels}, batch ${metadata.training.batchSize}`);
        if (best) log(`best      epoch ${best.epoch}: val_acc ${pct(best.valAcc)}, val_loss ${best.valLoss.toFixed(4)}`);
        log(`time      ${seconds.toFixed(1)} s training (${history.epochs.length ? (seconds / history.epochs.length).toFixed(1) : '0'} s/epoch), ${((performance.now() - started) / 1000).toFixed(1)} s in all`);
        log(`saved     ${path.relative(process.cwd(), result.runDir) || '.'}/  (next: visemo evaluate ${path.relative(process.cwd(), result.runDir) || '.'})`);
      }),
    );
}
