import type { Command } from 'commander';
import path from 'node:path';
import { parseClassOption } from '../../data/classes.js';
import { compareModels, formatComparison, FACEAPI_MODEL, COMPARE_FORMAT } from '../../evaluation/compare.js';
import { checkOutputFile, writeJsonAtomic } from '../../util/atomic.js';
import { action } from '../run-action.js';
import { addHelpFooter, EXIT_STATUS_SKIPPING, skippedExit } from '../help.js';
import { inferenceBackendOption, intOption, MODELS_HELP } from '../options.js';
import type { InferenceBackendChoice } from '../../engine/backend.js';

interface CompareCliOptions {
  models: string;
  classes: string;
  limitPerClass?: number;
  seed: number;
  tta?: boolean;
  backend: InferenceBackendChoice;
  json?: boolean;
  out?: string;
  force?: boolean;
}

export function registerCompare(program: Command): void {
  const cmd = program
    .command('compare')
    .description(
      'several emotion models on the same face crops, classes and metrics: accuracy, macro F1, recall and precision per class with 95 % Wilson intervals, and an exact McNemar test between every two models',
    )
    .argument('<dataset>', 'folder of face crops, one subfolder per class (or train/val/test: its test/ split is used)')
    .requiredOption('--models <list>', MODELS_HELP)
    .option(
      '--classes <list>',
      "classes to score: 'paper' (the six), 'all' (every class folder of the data: seven with neutral) or a comma list every model knows",
      'paper',
    )
    .option('--limit-per-class <n>', 'score at most n images per class (a seeded sample, the same for every model)', intOption('--limit-per-class', 1))
    .option('--seed <n>', 'seed of the --limit-per-class sample', intOption('--seed', 0), 42)
    .option('--tta', 'average each visemo model over the image and its mirror (face-api runs as shipped)')
    // wasm by default: the model cards' tables were scored on it. Native is faster and gives the
    // same scores within 1e-3, which could still turn a near-tie between two classes.
    .addOption(inferenceBackendOption('wasm', "compute backend: 'auto' takes the fastest available (native oneDNN, else wasm)"))
    .option('--json', 'print the comparison as JSON')
    .option('-o, --out <file>', 'also write the comparison as JSON to this file')
    .option('--force', 'replace an --out file that compare did not write');
  addHelpFooter(cmd, {
    exit: EXIT_STATUS_SKIPPING,
    examples: [
      `visemo compare ../shared/datasets/fer2013/publictest --models paper,visemo,${FACEAPI_MODEL}`,
      `visemo compare ../shared/datasets/sfew/val --classes all --models visemo7,${FACEAPI_MODEL} -o sfew.json`,
      'visemo compare ../shared/datasets/fer2013/publictest --models visemo7 --backend onnx',
    ],
  });
  cmd.action(
    action(async (dataset: string, o: CompareCliOptions) => {
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const models = o.models
        .split(',')
        .map((m) => m.trim())
        .filter((m) => m.length > 0);
      if (o.out) await checkOutputFile(path.resolve(o.out), COMPARE_FORMAT, o.force, { data: path.resolve(dataset) });
      const result = await compareModels({
        data: dataset,
        models,
        classes: o.classes === 'all' ? 'all' : parseClassOption(o.classes),
        limitPerClass: o.limitPerClass,
        seed: o.seed,
        tta: o.tta,
        backend: o.backend,
        log,
      });
      if (o.out) await writeJsonAtomic(path.resolve(o.out), result);
      if (o.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else process.stdout.write(`${formatComparison(result) + (o.out ? `\n\nwritten ${o.out}` : '')}\n`);
      return skippedExit(result.skipped.length);
    }),
  );
}
