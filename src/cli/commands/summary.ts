import type { Command } from 'commander';
import { useBackend } from '../../engine/backend.js';
import { Option } from 'commander';
import { ARCHITECTURES, RECIPE_DEFAULTS, type Arch } from '../../config/recipe.js';
import { buildModel } from '../../model/architectures.js';
import { formatSummary, summarise } from '../../model/summary.js';
import { action } from '../run-action.js';
import { addHelpFooter } from '../help.js';
import { intOption } from '../options.js';

export function registerSummary(program: Command): void {
  const cmd = program
    .command('summary')
    .description("print a model as a Keras-style table with parameter counts (the paper's Figs. 3.1–3.3 for --arch paper)")
    .addOption(new Option('--arch <name>', "'paper' or 'visemo'").choices([...ARCHITECTURES]).default(RECIPE_DEFAULTS.arch))
    .option('--size <pixels>', 'input width and height (paper: 100, 50, 20)', intOption('--size', 8), RECIPE_DEFAULTS.size)
    .option('--num-classes <n>', 'output classes (paper: 6)', intOption('--num-classes', 2), 6)
    .addOption(
      new Option('--channels <n>', 'input channels: 3 replicates monochrome as the paper did').choices(['1', '3']).default(String(RECIPE_DEFAULTS.channels)),
    )
    .option('--json', 'print the summary as JSON');
  addHelpFooter(cmd, { examples: ['visemo summary --size 50', 'visemo summary --arch visemo --size 48 --channels 1 --num-classes 7'] }).action(
    action(async (opts: { arch: Arch; size: number; numClasses: number; channels: '1' | '3'; json?: boolean }) => {
      await useBackend('cpu', { quiet: true });
      const model = buildModel({ arch: opts.arch, size: opts.size, numClasses: opts.numClasses, channels: opts.channels === '1' ? 1 : 3 });
      const s = summarise(model);
      process.stdout.write(opts.json ? `${JSON.stringify(s, null, 2)}\n` : `${formatSummary(s, `Model: "${s.model}" (${opts.size}x${opts.size})`)}\n`);
      model.dispose();
    }),
  );
}
