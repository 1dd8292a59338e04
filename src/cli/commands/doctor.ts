/** `visemo doctor`: prints what this installation can do and why not (src/doctor/doctor.ts). */
import type { Command } from 'commander';
import { action } from '../run-action.js';
import { addHelpFooter } from '../help.js';

export function registerDoctor(program: Command): void {
  const cmd = program
    .command('doctor')
    .description('check this installation: versions, backends (and why one is missing), CPU features, optional packages, ffmpeg, chromium, redis-server')
    .option('--json', 'print the report as JSON');
  addHelpFooter(cmd, {
    note: 'It only looks: nothing is installed or built.',
    exit: 'Exit status: 0 whatever it finds (what is missing is reported, not an error), 1 on an unexpected failure.',
    examples: ['visemo doctor', 'npx visemo doctor --json'],
  }).action(
    action(async (o: { json?: boolean }) => {
      const { doctorReport, formatDoctor } = await import('../../doctor/doctor.js');
      const report = await doctorReport();
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
      return 0;
    }),
  );
}
