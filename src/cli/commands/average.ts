import type { Command } from 'commander';
import { averageModels } from '../../model/average.js';
import { action } from '../run-action.js';
import { addHelpFooter } from '../help.js';

export function registerAverage(program: Command): void {
  const cmd = program
    .command('average')
    .description('average the weights of models fine-tuned from one start (a "model soup"): one model, the same size and speed')
    .argument('<models...>', 'two or more models (run folders or bundled names) of one architecture, classes, input size and normalisation')
    .requiredOption('-o, --out <dir>', 'folder for the averaged model (refused if it holds a run, unless --force)')
    .option('--force', 'replace the files of a run already in --out (other files there stay)');
  addHelpFooter(cmd, {
    note: 'Averaging helps only models that share a start, e.g. `visemo train --init A --seed 1` and `--seed 2` from the same A:\nunrelated models average to noise. Evaluate the result as any run.',
    examples: ['visemo average runs/a runs/b runs/c -o runs/soup', 'visemo evaluate runs/soup --data TEST_FOLDER'],
  }).action(
    action(async (models: string[], o: { out: string; force?: boolean }) => {
      const r = await averageModels(models, o.out, { force: o.force, commandLine: `visemo ${process.argv.slice(2).join(' ')}` });
      process.stdout.write(
        `averaged ${r.models.length} models (${r.parameters.toLocaleString('en')} parameters, ${(r.bytes / 1e6).toFixed(2)} MB) into ${r.out}\nscore it with: visemo evaluate ${r.out} --data TEST_FOLDER\n`,
      );
    }),
  );
}
