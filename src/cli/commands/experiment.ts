/** `visemo experiment`: its options and help, and the terminal summary of the results (tables, split differences, where the report is). */
import { InvalidArgumentError, Option, type Command } from 'commander';
import path from 'node:path';
import { runExperiment } from '../../experiment/run-experiment.js';
import { keptTrainAccuracy, meanEpochSeconds, totalTrainingSeconds } from '../../report/document.js';
import { duration, seconds, sizeLabel } from '../../report/format.js';
import { paperForSize } from '../../report/paper-reference.js';
import { MIN_INPUT_SIZE } from '../../model/paper-cnn.js';
import { formatTable, pct } from '../../util/table.js';
import { formatDifference, formatWithInterval } from '../../evaluation/intervals.js';
import { pStatement } from '../../evaluation/mcnemar.js';
import { accuracyInterval, foldSummary, formatMeanSd, splitDifference, splitParts } from '../../report/statistics.js';
import { action } from '../run-action.js';
import { addHelpFooter, EXIT_STATUS_SKIPPING, skippedExit } from '../help.js';
import { addTrainingOptions, dataRecipeFromCli, recipeFromCli, splitModeList, type TrainingCliOptions } from '../options.js';
import type { SplitMode } from '../../config/recipe.js';
import type { SplitResults } from '../../report/types.js';

interface ExperimentCliOptions extends TrainingCliOptions {
  out: string;
  sizes: number[];
  splits?: SplitMode[];
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
  const cmd = program
    .command('experiment')
    .description(
      "the paper's experiment: train and test the CNN at several input sizes on one split (or k folds, or several split modes side by side), and write a report with its tables, figures and intervals",
    )
    .argument('<dataset>', 'image folder: <class>/*.png|jpg|…, or train|val|test/<class>/*')
    .requiredOption('-o, --out <dir>', 'experiment folder: size-<N>/ runs, results.json, report.html, report.md, figures/, tables/')
    .addOption(
      new Option('--sizes <list>', 'input sizes to compare, comma-separated (paper: 100,50,20)').argParser(sizeList).default([100, 50, 20], '100,50,20'),
    );
  addTrainingOptions(cmd)
    .addOption(
      new Option(
        '--splits <list>',
        "train every size on each of these split modes, side by side ('subject,random': the subject-independent split against the paper's leaky per-image one); the first is the report's main one; replaces --split",
      ).argParser(splitModeList),
    )
    .option('--force', 'retrain every size, replacing earlier runs in --out');
  addHelpFooter(cmd, {
    note:
      'Re-running the same command resumes: finished sizes (and folds) are read back, an interrupted one continues from its last epoch. ' +
      'With --folds k each size is trained k times on the same folds and seed (size-N/fold-01 …) and the report gives every fold, mean ± sd and the pooled test images; ' +
      'accuracies carry 95 % Wilson intervals.',
    exit: EXIT_STATUS_SKIPPING,
    examples: [
      'visemo experiment ../shared/datasets/ckplus48 --classes paper --split subject --sizes 100,50,20 --epochs 15 --out runs/paper',
      'visemo experiment ../shared/datasets/ckplus48 --classes paper --sizes 50,20 --folds 10 --splits subject,random --epochs 15 --out runs/ck-cv',
    ],
  }).action(action(experimentCommand));
}

async function experimentCommand(dataset: string, o: ExperimentCliOptions): Promise<number> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const started = performance.now();
  const { results, report, skipped } = await runExperiment(
    {
      data: dataset,
      out: o.out,
      sizes: o.sizes,
      recipe: recipeFromCli(o),
      dataset: dataRecipeFromCli({ ...o, folds: undefined }),
      folds: o.folds,
      splits: o.splits,
      backend: o.backend,
      force: o.force,
    },
    { log },
  );
  const cv = results.settings.folds !== undefined;
  const parts = splitParts(results);
  const split = results.sizes[0]?.metadata.split;
  const diffs = splitDifferences(parts);
  const out = [
    '',
    resultTables(parts, cv).join('\n\n'),
    ...(diffs.length ? ['', ...diffs] : []),
    '',
    `split     ${parts.map((p) => p.split).join(' and ') || split?.mode || o.split}${cv ? `, ${results.settings.folds}-fold cross-validation` : ''} (seed ${o.seed}); backend ${[...new Set(results.sizes.map((r) => r.metadata.training.backend))].join(', ')} on ${results.machine.processor}`,
    `report    ${path.relative(process.cwd(), report.html)} (also ${path.basename(report.markdown)}, results.json, figures/, tables/); ${((performance.now() - started) / 1000).toFixed(1)} s in all`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  if (skipped > 0) process.stderr.write(`visemo: ${skipped} unreadable image${skipped === 1 ? '' : 's'} skipped by the trainings and tests (named above)\n`);
  return skippedExit(skipped);
}

/** One table per split mode: each size's test accuracy (and folds), beside the paper's numbers. */
function resultTables(parts: SplitResults[], cv: boolean): string[] {
  return parts.map((part) => {
    const rows = part.sizes.map((r) => {
      const p = paperForSize(r.size);
      const folds = foldSummary(r);
      return [
        sizeLabel(r.size),
        formatWithInterval(r.metrics.accuracy, accuracyInterval(r.metrics)),
        ...(cv ? [folds ? formatMeanSd(folds) : '—'] : []),
        p ? `${p.testAccuracy.value}%` : '—',
        pct(keptTrainAccuracy(r) ?? NaN),
        p ? `${p.trainAccuracy.value}%` : '—',
        seconds(meanEpochSeconds(r)),
        p ? `${p.secondsPerEpoch.value.cpu} / ${p.secondsPerEpoch.value.gpu}` : '—',
        duration(totalTrainingSeconds(r)),
      ];
    });
    const header = [
      'size',
      cv ? 'test acc, folds pooled (95% CI)' : 'test acc (95% CI)',
      ...(cv ? ['fold mean ± sd'] : []),
      'paper',
      'train acc',
      'paper',
      's/epoch',
      'paper CPU/GPU',
      'training',
    ];
    return (parts.length > 1 ? `${part.split} split\n` : '') + formatTable(header, rows);
  });
}

/** With both the random and the subject split: their difference at each size (paired where the test images are the same). */
function splitDifferences(parts: SplitResults[]): string[] {
  const diffs: string[] = [];
  const subject = parts.find((p) => p.split === 'subject');
  const random = parts.find((p) => p.split === 'random');
  for (const r of random && subject ? random.sizes : []) {
    const s = subject!.sizes.find((x) => x.size === r.size);
    if (!s) continue;
    const d = splitDifference(r, s);
    diffs.push(
      `random − subject at ${sizeLabel(r.size)}: ${formatDifference(d.difference)}${d.paired ? `, exact McNemar ${pStatement(d.paired.p)} on the same ${d.paired.images} images` : ''}`,
    );
  }
  return diffs;
}
