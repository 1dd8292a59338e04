#!/usr/bin/env node
/** The `visemo` command line. Each command lives in ./commands/<name>.ts and registers itself here. */
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';
import { registerAlign } from './commands/align.js';
import { version } from '../version.js';

const program = new Command('visemo')
  .description('Visual emotion recognition: reproduce Iliev & Mote (2022), train on your own face images, recognise emotions.')
  .version(version)
  .showHelpAfterError('(run with --help for usage)')
  .configureHelp({ sortSubcommands: false, showGlobalOptions: true });

registerCommands(program);
registerAlign(program);

await program.parseAsync(process.argv);
