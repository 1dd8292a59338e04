#!/usr/bin/env node
/** The `visemo` command line. Each command lives in ./commands/<name>.ts and registers itself here. */
import { Command } from 'commander';
import { registerCommands } from './commands/index.js';
import { version } from '../version.js';

const program = new Command('visemo')
  .description('Visual emotion recognition: reproduce Iliev & Mote (2022), train on your own face images, recognise emotions.')
  .version(version)
  .showHelpAfterError('(run with --help for usage)')
  .configureHelp({ sortSubcommands: false, showGlobalOptions: true })
  // A usage error (unknown option, bad value, missing argument) exits with 2, as every command's
  // problems with its input do; commander's own default is 1. Help and --version exit with 0.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

// Set before the commands are added: subcommands inherit the exit behaviour.
registerCommands(program);

await program.parseAsync(process.argv);
