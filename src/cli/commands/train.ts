import type { Command } from 'commander';
import path from 'node:path';
import { RECIPE_DEFAULTS } from '../../config/recipe.js';
import { trainRun } from '../../training/train.js';
import { pct } from '../../util/table.js';
import { VisemoError } from '../../util/errors.js';
import { action } from '../run-action.js';
import { addHelpFooter, EXIT_STATUS_SKIPPING, skippedExit } from '../help.js';
import type { PrecisionChoice } from '../../engine/precision.js';
import { addTrainingOptions, dataRecipeFromCli, precisionOption, recipeFromCli, type TrainingCliOptions, intOption } from '../options.js';

interface TrainCliOptions extends TrainingCliOptions {
  out: string;
  size: number;
  force?: boolean;
  resume?: boolean;
  init?: string;
  precision: PrecisionChoice;
}

export function registerTrain(program: Command): void {
  const cmd = program
    .command('train')
    .description("train the paper's CNN on a folder of face images (one subfolder per class, or train/val/test subfolders)")
    .argument('<dataset>', 'image folder: <class>/*.png|jpg|tiff|bmp|webp, or train|val|test/<class>/*')
    .requiredOption('-o, --out <dir>', 'run folder to write (model.json, weights.bin, metadata.json, history.json/csv, split.json)')
    .option('--size <pixels>', 'input width and height (paper: 100, 50, 20)', intOption('--size', 8), RECIPE_DEFAULTS.size);
  addTrainingOptions(cmd)
    .addOption(precisionOption('; metadata.json records the precision, and --resume keeps it'))
    .option('--force', 'replace an existing run in --out')
    .option('--resume', 'continue an interrupted run in --out from its last finished epoch')
    .option('--fold <i>', 'with --folds k: test on fold i (1 … k) and train on the others (experiment --folds runs every fold)', intOption('--fold', 1))
    .option(
      '--init <model>',
      "start from this model's weights: a run folder, or a bundled model's name ('visemo' to fine-tune it on your data); same --arch, --size and --channels; classes it lacks (e.g. neutral) start fresh; on the images it was trained on, give another --seed",
    );
  addHelpFooter(cmd, {
    exit: EXIT_STATUS_SKIPPING,
    examples: [
      'visemo train ../shared/datasets/ckplus48 --classes paper --size 50 --split subject --epochs 15 --out runs/ck50',
      'visemo train ../shared/datasets/ckplus48 --classes paper --size 50 --split subject --folds 10 --fold 3 --out runs/ck50-fold3',
      'visemo train my-faces --classes paper --arch visemo --size 48 --channels 1 --init visemo --lr 2e-4 --epochs 5 --out runs/mine',
      'visemo train my-faces --arch visemo --size 48 --channels 1 --init visemo --teacher faceapi,visemo --distill-weight 0.5 --out runs/distilled',
    ],
  }).action(
    action(async (dataset: string, o: TrainCliOptions) => {
      if (o.folds !== undefined && o.fold === undefined)
        throw new VisemoError(
          `train --folds ${o.folds} needs --fold i, the fold to test on`,
          `add --fold 1 (… ${o.folds}), or run experiment --folds ${o.folds} to train every fold`,
        );
      const log = (line: string) => process.stdout.write(`${line}\n`);
      const started = performance.now();
      // A resumed run keeps its own options: only those typed on this command line are checked against it.
      if (o.resume) for (const key of Object.keys(o)) if (cmd.getOptionValueSource(key) === 'default') delete (o as unknown as Record<string, unknown>)[key];
      const result = await trainRun(
        {
          data: dataset,
          out: o.out,
          recipe: { ...recipeFromCli(o), size: o.size },
          dataset: dataRecipeFromCli(o),
          backend: o.backend,
          precision: o.precision,
          force: o.force,
          resume: o.resume,
          init: o.init,
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
      log(
        `images    train ${img.train}, val ${img.val}, test ${img.test} (${metadata.split.mode} split${metadata.split.folds ? `, fold ${metadata.split.folds.fold} of ${metadata.split.folds.k}` : ''}, seed ${metadata.split.seed})${result.skipped.length ? `; ${result.skipped.length} unreadable skipped` : ''}`,
      );
      log(
        `backend   ${metadata.training.backend} in ${metadata.training.precision}, ${metadata.inputSize}x${metadata.inputSize}x${metadata.channels}, batch ${metadata.training.batchSize}`,
      );
      // Without a validation split there is no best epoch to report, only the last one kept.
      if (best && img.val === 0) log(`kept      the last epoch, ${best.epoch}: train acc ${pct(best.acc)}, loss ${best.loss.toFixed(4)} (no validation split)`);
      else if (best) log(`best      epoch ${best.epoch}: val_acc ${pct(best.valAcc)}, val_loss ${best.valLoss.toFixed(4)}`);
      log(
        `time      ${seconds.toFixed(1)} s training (${history.epochs.length ? (seconds / history.epochs.length).toFixed(1) : '0'} s/epoch), ${((performance.now() - started) / 1000).toFixed(1)} s in all`,
      );
      log(`saved     ${path.relative(process.cwd(), result.runDir) || '.'}/  (next: visemo evaluate ${path.relative(process.cwd(), result.runDir) || '.'})`);
      return skippedExit(result.skipped.length);
    }),
  );
}
