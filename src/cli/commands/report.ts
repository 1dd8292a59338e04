import type { Command } from 'commander';
import path from 'node:path';
import { loadResults, writeReport } from '../../report/write-report.js';
import { action } from '../run-action.js';
import { addHelpFooter } from '../help.js';

export function registerReport(program: Command): void {
  const cmd = program
    .command('report')
    .description("re-render an experiment's report (report.html, report.md, figures, CSV) from its saved results.json, without retraining")
    .argument('<dir>', 'the --out folder of visemo experiment');
  addHelpFooter(cmd, { examples: ['visemo report runs/paper'] }).action(
    action(async (dir: string) => {
      const written = await writeReport(dir, await loadResults(dir));
      const rel = (f: string) => path.relative(process.cwd(), f) || '.';
      process.stdout.write(
        `written ${rel(written.html)}, ${rel(written.markdown)}, ${written.figures.length} figure files in ${rel(path.join(dir, 'figures'))}, ` +
          `${written.tables.length} CSV tables in ${rel(path.join(dir, 'tables'))}\n`,
      );
    }),
  );
}
