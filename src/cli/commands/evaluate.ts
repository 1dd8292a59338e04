import { Option, type Command } from 'commander';
import path from 'node:path';
import { evaluateRunDetailed } from '../../evaluation/evaluate.js';
import { formatMetrics } from '../../evaluation/format.js';
import { metricIntervals } from '../../evaluation/metric-intervals.js';
import { action } from '../run-action.js';
import { addHelpFooter, EXIT_STATUS_SKIPPING, skippedExit } from '../help.js';
import { backendOption, TTA_HELP } from '../options.js';

export function registerEvaluate(program: Command): void {
  const cmd = program
    .command('evaluate')
    .description('accuracy, per-class precision/recall/F1 (with 95 % Wilson intervals), and the confusion matrix of a trained run')
    .argument('<run>', 'run folder written by visemo train')
    .addOption(new Option('--split <name>', 'which split of the run to evaluate').choices(['test', 'val', 'train']).default('test'))
    .option('--data <dir>', 'evaluate on another image folder instead (its <split>/ subfolder if it has train/val/test)')
    .addOption(backendOption())
    .option('--tta', TTA_HELP)
    .option('--json', 'print the metrics as JSON');
  addHelpFooter(cmd, {
    exit: EXIT_STATUS_SKIPPING,
    examples: ['visemo evaluate runs/ck50', 'visemo evaluate runs/ck50 --data ../shared/datasets/fer2013/publictest --tta'],
  }).action(
    action(
      async (
        run: string,
        o: { split: 'test' | 'val' | 'train'; data?: string; backend: 'auto' | 'native' | 'wasm' | 'cpu'; json?: boolean; tta?: boolean },
      ) => {
        const log = (line: string) => process.stderr.write(`${line}\n`);
        const { metrics, skipped, file } = await evaluateRunDetailed({ run, split: o.split, data: o.data, backend: o.backend, tta: o.tta, log });
        if (o.json) process.stdout.write(`${JSON.stringify({ ...metrics, intervals: metricIntervals(metrics) }, null, 2)}\n`);
        else {
          process.stdout.write(`${formatMetrics(metrics)}\n\n`);
          process.stdout.write(`${skipped.length ? `${skipped.length} unreadable images skipped; ` : ''}written ${path.relative(process.cwd(), file)}\n`);
        }
        return skippedExit(skipped.length);
      },
    ),
  );
}
