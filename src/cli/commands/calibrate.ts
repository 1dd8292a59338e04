import type { Command } from 'commander';
import { calibrateRun } from '../../evaluation/calibrate.js';
import { formatTable, pct } from '../../util/table.js';
import { action } from '../run-action.js';
import { addHelpFooter } from '../help.js';
import { backendOption } from '../options.js';

export function registerCalibrate(program: Command): void {
  const cmd = program
    .command('calibrate')
    .description(
      "fit a run's class priors on validation faces (per-class offsets on its log-probabilities), so that it stops answering one class, such as neutral, for subtle faces of another",
    )
    .argument('<run>', 'run folder written by visemo train (the offsets go into its metadata.json)')
    .requiredOption('--data <dir>', 'validation face crops: class folders, or a train/val/test folder (its val/ is used); never the test set you will report')
    .option('--unbalanced', "fit to the data's own class mix instead of weighing every class equally")
    .option('--force', 'replace the calibration the run already has')
    .addOption(backendOption());
  addHelpFooter(cmd, {
    note: 'predict, evaluate, compare, serve and the page then apply the offsets; remove "calibration" from metadata.json to undo.',
    examples: ['visemo calibrate runs/mine --data data/mine-faces', 'visemo evaluate runs/mine --data TEST_FOLDER'],
  }).action(
    action(async (run: string, o: { data: string; unbalanced?: boolean; force?: boolean; backend: 'auto' | 'native' | 'wasm' | 'cpu' }) => {
      const r = await calibrateRun({
        model: run,
        data: o.data,
        balanced: !o.unbalanced,
        force: o.force,
        backend: o.backend,
        log: (l) => process.stderr.write(`${l}\n`),
      });
      const rows = r.classes.map((c, k) => [c, r.trueCounts[k]!, r.before.predicted[k]!, r.after.predicted[k]!, r.calibration.offsets[k]!.toFixed(3)]);
      process.stdout.write(`${formatTable(['class', 'true', 'predicted before', 'predicted after', 'offset'], rows)}\n\n`);
      process.stdout.write(
        `accuracy on these ${r.calibration.fittedOn.images} images: ${pct(r.before.accuracy)} before, ${pct(r.after.accuracy)} after (${r.calibration.method} fit; they were used to fit it, so score elsewhere)\n` +
          `${r.skipped.length ? `${r.skipped.length} unreadable images skipped; ` : ''}written ${r.file}\n`,
      );
    }),
  );
}
