import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { DATA_DEFAULTS, RECIPE_DEFAULTS } from '../config/recipe.js';
import { runCli } from '../../test/helpers.js';
import {
  addServeLoadOptions,
  addTrainingOptions,
  dataRecipeFromCli,
  floatOption,
  fractionOption,
  intOption,
  numberOption,
  recipeFromCli,
  secondsOption,
  unitOption,
  type TrainingCliOptions,
} from './options.js';

const parse = (args: string[]): TrainingCliOptions => {
  const cmd = addTrainingOptions(new Command('t').exitOverride().configureOutput({ writeErr: () => {} }));
  cmd.parse(['node', 't', ...args]);
  return cmd.opts<TrainingCliOptions>();
};

test('option parsers take what they say and name the option in the error', () => {
  assert.equal(intOption('--epochs', 1)('3'), 3);
  assert.throws(() => intOption('--epochs', 1)('0'), /--epochs must be an integer of at least 1, got '0'/);
  assert.throws(() => intOption('--epochs', 1)('2.5'), /--epochs/);
  assert.equal(floatOption('--lr')('3e-4'), 3e-4);
  assert.throws(() => floatOption('--lr')('-1'), /--lr must be a positive number/);
  assert.equal(numberOption('--margin', -0.2, 2)('-0.1'), -0.1);
  const smooth = secondsOption('--smooth');
  assert.deepEqual(['0.5s', '500ms', '0.5', '0', '2S', '.25s'].map(smooth), [0.5, 0.5, 0.5, 0, 2, 0.25]);
  for (const bad of ['-1s', 'half', '0.5 min', '']) assert.throws(() => smooth(bad), /--smooth must be a duration such as 0.5s/);
  assert.throws(() => numberOption('--margin', -0.2, 2)('3'), /--margin must be a number from -0.2 to 2, got '3'/);
  assert.equal(unitOption('--distill-weight')('1'), 1);
  assert.throws(() => unitOption('--distill-weight')('1.5'), /from 0 to 1/);
  assert.equal(fractionOption('--val-fraction')('0'), 0);
  assert.throws(() => fractionOption('--val-fraction')('0.5'), /under 0.5/);
});

test('the training options default to the one recipe, and parse into it', () => {
  const o = parse([]);
  const { size: _size, ...defaults } = RECIPE_DEFAULTS;
  assert.deepEqual(recipeFromCli(o), { ...defaults, teacher: undefined, width: undefined });
  assert.deepEqual(dataRecipeFromCli(o), { ...DATA_DEFAULTS, classes: undefined, limitPerClass: undefined, unlabeled: undefined, folds: undefined });
  // --folds k alone is a whole cross-validation (experiment); with --fold i one fold of it (train).
  assert.equal(dataRecipeFromCli(parse(['--folds', '10'])).folds, undefined);
  assert.deepEqual(dataRecipeFromCli({ ...parse(['--folds', '10']), fold: 3 }).folds, { k: 10, fold: 3 });
  assert.throws(() => dataRecipeFromCli({ ...parse(['--folds', '4']), fold: 5 }), /--fold 5 is beyond --folds 4/);
  assert.throws(() => dataRecipeFromCli({ ...parse([]), fold: 1 }), /--fold needs --folds k/);
  assert.throws(() => parse(['--folds', '1']), /--folds must be an integer of at least 2/);
  const custom = parse([
    '--arch',
    'visemo',
    '--channels',
    '1',
    '--augment',
    'flip,rotate=10',
    '--teacher',
    'faceapi, visemo',
    '--distill-weight',
    '0.3',
    '--classes',
    'paper',
    '--split',
    'subject',
  ]);
  const recipe = recipeFromCli(custom);
  assert.equal(recipe.arch, 'visemo');
  assert.equal(recipe.channels, 1);
  assert.equal(recipeFromCli(parse(['--arch', 'visemo', '--width', '1.5'])).width, 1.5);
  assert.throws(() => parse(['--width', '0']), /--width must be a positive number/);
  assert.equal(recipe.augment, 'rotate=10,flip', 'the augmentation in its one canonical spelling');
  assert.deepEqual(recipe.teacher, { models: ['faceapi', 'visemo'], weight: 0.3, temperature: 2 });
  assert.deepEqual(dataRecipeFromCli(custom).classes, ['anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise']);
  assert.throws(() => parse(['--channels', '2']), /Allowed choices are 1, 3/);
  assert.throws(() => parse(['--augment', 'wobble=3']), /cannot read 'wobble=3' — use /, 'a bad --augment says what it cannot read and how to write it');
});

test('the CLI: usage errors exit 2, help exits 0 and ends with the exit status and examples', () => {
  const help = runCli(['train', '--help']);
  assert.equal(help.code, 0);
  // train reads many images: the one rule of commands that skip unreadable inputs (issue 34).
  assert.match(
    help.stdout,
    /Exit status: 0 when every input was read, 1 when some were skipped \(each named on stderr\) or on an unexpected failure, 2 on a usage error or bad input/,
  );
  assert.match(runCli(['summary', '--help']).stdout, /Exit status: 0 on success, 2 on a usage error or bad input/);
  assert.match(help.stdout, /Examples:\n {2}visemo train /);
  for (const args of [
    ['train'],
    ['train', 'x', '-o', 'y', '--channels', '2'],
    ['no-such-command'],
    ['predict', 'x.png', '--min-face-score', '3'],
    ['compare', 'x'],
  ]) {
    const r = runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /error: /);
  }
  assert.equal(runCli(['--version']).code, 0);
});

test("serve's load options: workers from 0 (the server's own thread), a budget in megapixels, a pending limit", () => {
  const parseServe = (args: string[]) =>
    addServeLoadOptions(new Command('s').exitOverride().configureOutput({ writeErr: () => {} }))
      .parse(['node', 's', ...args])
      .opts();
  const defaults = parseServe([]);
  assert.ok(defaults.workers >= 1 && defaults.workers <= 8);
  assert.deepEqual({ ...defaults, workers: 0 }, { workers: 0, decodeBudget: 128, maxPending: 32 });
  assert.deepEqual(parseServe(['--workers', '0', '--decode-budget', '64', '--max-pending', '4']), { workers: 0, decodeBudget: 64, maxPending: 4 });
  assert.throws(() => parseServe(['--workers', '-1']), /--workers must be an integer from 0 to 64/);
  assert.throws(() => parseServe(['--max-pending', '0']), /--max-pending must be an integer of at least 1/);
});
