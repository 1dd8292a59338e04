import path from 'node:path';
import type { Command } from 'commander';
import { datasetStats, formatStats, STATS_FORMAT } from '../../data/stats.js';
import { checkOutputFile, exists, writeJsonAtomic } from '../../util/atomic.js';
import { startProgress } from '../../util/progress.js';
import { action } from '../run-action.js';
import { addHelpFooter, EXIT_STATUS_SKIPPING, skippedExit } from '../help.js';

export function registerStats(program: Command): void {
  const cmd = program
    .command('stats')
    .description("the paper's Table 1 (images per class and split) and Fig. 4 (per-channel mean and std of the training images)")
    .argument('<dataset>', 'image-folder dataset (train/val/test/<class>/ or <class>/)')
    .option(
      '-o, --out <file>',
      'where to write the JSON (default: DATASET/stats.json for a dataset made by prepare, else ./stats-<name>.json: a dataset of your own is never written into)',
    )
    .option('--gray', 'measure one gray channel instead of three RGB channels')
    .option('--json', 'print the JSON instead of the table')
    .option('--force', 'replace an --out file that stats did not write');
  addHelpFooter(cmd, {
    exit: EXIT_STATUS_SKIPPING,
    examples: ['visemo stats data/enterface', 'visemo stats ../shared/datasets/ckplus48 --gray -o ck-stats.json'],
  }).action(
    action(async (dataset: string, o: { out?: string; gray?: boolean; json?: boolean; force?: boolean }) => {
      // Write beside a dataset only when visemo made it; someone else's folder stays untouched.
      const prepared = await exists(path.join(dataset, 'manifest.json'));
      const file = o.out ?? (prepared ? path.join(dataset, 'stats.json') : `stats-${path.basename(path.resolve(dataset))}.json`);
      await checkOutputFile(file, STATS_FORMAT, o.force, { root: path.resolve(dataset), channels: o.gray ? 1 : 3 });
      let progress: ReturnType<typeof startProgress> | null = null;
      const stats = await datasetStats(dataset, {
        channels: o.gray ? 1 : 3,
        onSkip: (s) => process.stderr.write(`visemo: skipped ${s.path}: ${s.reason}\n`),
        onImage: (done, total) => {
          progress ??= startProgress(total, 'images');
          progress.update(done);
        },
      });
      (progress as ReturnType<typeof startProgress> | null)?.stop();
      await writeJsonAtomic(file, stats);
      const skippedLine = stats.skipped.length ? `\n${stats.skipped.length} unreadable image${stats.skipped.length > 1 ? 's' : ''} skipped (named above)` : '';
      process.stdout.write(`${o.json ? JSON.stringify(stats, null, 2) : `${formatStats(stats)}\nwritten to ${file}${skippedLine}`}\n`);
      return skippedExit(stats.skipped.length);
    }),
  );
}
