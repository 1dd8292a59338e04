import type { Command } from 'commander';

/** What every command's exit status means (run-action.ts and main.ts make it so). */
export const EXIT_STATUS = 'Exit status: 0 on success, 2 on a usage error or bad input (named on stderr), 1 on an unexpected failure.';

/**
 * The one rule of the commands that read many images and skip the unreadable ones (stats, train,
 * evaluate, experiment, compare, align, predict; prepare for its failed units, queue add for the
 * inputs it could not queue): skippedExit() returns it.
 */
export const EXIT_STATUS_SKIPPING =
  'Exit status: 0 when every input was read, 1 when some were skipped (each named on stderr) or on an unexpected failure, 2 on a usage error or bad input.';

/** The exit code of a command that finished, having skipped `skipped` inputs: 1 if any, else 0. */
export function skippedExit(skipped: number): number {
  return skipped > 0 ? 1 : 0;
}

/** The text after a command's options: a note, its exit status, and examples, laid out alike for every command. */
export function addHelpFooter(cmd: Command, footer: { note?: string; exit?: string; examples: string[] }): Command {
  const lines = [
    ...(footer.note ? [footer.note] : []),
    footer.exit ?? EXIT_STATUS,
    `Example${footer.examples.length > 1 ? 's' : ''}:`,
    ...footer.examples.map((e) => `  ${e}`),
  ];
  return cmd.addHelpText('after', `\n${lines.join('\n')}`);
}
