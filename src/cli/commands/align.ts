import type { Command } from 'commander';
import { alignFolder, formatAlignSummary } from '../../align/align-folder.js';
import { startProgress, type Progress } from '../../util/progress.js';
import { action } from '../run-action.js';
import { intOption } from '../options.js';
import { addHelpFooter, EXIT_STATUS_SKIPPING, skippedExit } from '../help.js';

export function registerAlign(program: Command): void {
  const cmd = program
    .command('align')
    .description("an aligned copy of a face dataset: eyes levelled and each face framed as FER2013's crops are (face-api's 68-point landmarks)")
    .argument('<src>', 'image-folder dataset of face crops (<class>/ or train|val|test/<class>/)')
    .requiredOption('-o, --out <dir>', 'output folder: the same relative paths, as PNG, plus align-manifest.json')
    .option('--size <pixels>', 'output width and height', intOption('--size', 8), 48)
    .option('--force', 'write into a non-empty folder, or start over one aligned with other settings')
    .option('--json', 'print the summary as JSON');
  addHelpFooter(cmd, {
    note:
      'Each image is taken as one face (pre-cropped data such as FER2013 or CK+, or what prepare wrote).\n' +
      'Faces whose landmarks are implausible are written unaligned (resized only) and flagged, so the\n' +
      'copy keeps every readable image; unreadable files are listed and not written. Run it again with\n' +
      'the same arguments to resume an interrupted run.',
    exit: EXIT_STATUS_SKIPPING,
    examples: [
      'visemo align ../shared/datasets/ckplus48 -o ~/data/ckplus48-aligned',
      'visemo align ../shared/datasets/fer2013/train --out ~/data/fer2013-aligned --size 48',
      'visemo train ~/data/fer2013-aligned --arch visemo --size 48 --channels 1 --out runs/aligned',
    ],
  }).action(
    action(async (src: string, o: { out: string; size: number; force?: boolean; json?: boolean }) => {
      let progress: Progress | null = null;
      const summary = await alignFolder({
        src,
        out: o.out,
        size: o.size,
        force: o.force,
        onProgress: (done, total) => {
          progress ??= startProgress(total, 'aligning');
          progress.update(done);
        },
      });
      (progress as Progress | null)?.stop();
      process.stdout.write(`${o.json ? JSON.stringify(summary, null, 2) : formatAlignSummary(summary)}\n`);
      // Unreadable images are listed in the summary on stdout; fallbacks were written, not skipped.
      if (summary.unreadable > 0)
        process.stderr.write(`visemo: ${summary.unreadable} unreadable image${summary.unreadable === 1 ? '' : 's'} skipped (listed above)\n`);
      return skippedExit(summary.unreadable);
    }),
  );
}
