import type { Command } from 'commander';
import { useBackend } from '../../engine/backend.js';
import { buildPaperCnn } from '../../model/paper-cnn.js';
import { formatSummary, summarise } from '../../model/summary.js';
import { action, intOption } from '../run-action.js';

export function registerSummary(program: Command): void {
  program
    .command('summary')
    .description("print the paper's CNN as a Keras-style table with parameter counts (Figs. 3.1–3.3)")
    .option('--size <pixels>', 'input width and height (paper: 100, 50, 20)', intOption('--size', 8), 50)
    .option('--num-classes <n>', 'output classes (paper: 6)', intOption('--num-classes', 2), 6)
    .option('--channels <1|3>', 'input channels: 3 replicates monochrome as the paper did', intOption('--channels', 1), 3)
    .option('--json', 'print the summary as JSON')
    .action(
      action(async (opts: { size: number; numClasses: number; channels: number; json?: boolean }) => {
        await useBackend('cpu', { quiet: true });
        const model = buildPaperCnn({ size: opts.size, numClasses: opts.numClasses, channels: opts.channels === 1 ? 1 : 3 });
        const s = summarise(model);
        process.stdout.write(opts.json ? JSON.stringify(s, null, 2) + '\n' : formatSummary(s, `Model: "paper_cnn" (${opts.size}x${opts.size})`) + '\n');
        model.dispose();
      }),
    );
}
