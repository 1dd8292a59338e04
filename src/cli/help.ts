import type { Command } from 'commander';

/** What every command's exit status means (run-action.ts and main.ts make it so). */
export const EXIT_STATUS = 'Exit status: 0 on success, 2 on a usage error or bad input (named on stderr), 1 on an unexpected failure.';

/** The text after a command's options: a note, its exit status, and examples, laid out alike for every command. */
export function addHelpFooter(cmd: Command, footer: { note?: string; exit?: string; examples: string[] }): Command {
  const lines = [...(footer.note ? [footer.note] : []), footer.exit ?? EXIT_STATUS, `Example${footer.examples.length > 1 ? 's' : ''}:`, ...footer.examples.map((e) => `  ${e}`)];
  return cmd.addHelpText('after', `\n${lines.join('\n')}`);
}
