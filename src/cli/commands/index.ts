import type { Command } from 'commander';
import { registerSummary } from './summary.js';

/** Every command, in the order `visemo --help` lists them. Add a line per new command. */
export function registerCommands(program: Command): void {
  registerSummary(program);
}
