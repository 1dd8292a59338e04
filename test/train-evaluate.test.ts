import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CKPLUS, hasShared, linkSubset, runCli, tempDir } from './helpers.js';

const PAPER = ['anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise'];
const skip = hasShared ? false : 'needs ../shared/datasets/ckplus48';

test('summary prints the paper totals at 100, 50 and 20', () => {
  for (const [size, total] of [
    ['100', '4,813,638'],
    ['50', '1,274,694'],
    ['20', '226,118'],
  ]) {
    const r = runCli(['summary', '--size', size!]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Total params: ${total}`));
  }
});

test('train then evaluate on a CK+ subset: test accuracy clearly above chance', { skip }, async () => {
  const data = await linkSubset(CKPLUS, PAPER, 70);
  const out = path.join(tempDir(), 'run');
  const r = runCli(['train', data, '--classes', 'paper', '--size', '24', '--split', 'subject', '--epochs', '8', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /epoch 8\/8/);
  for (const f of ['model.json', 'weights.bin', 'metadata.json', 'history.json', 'history.csv', 'split.json']) {
    await fs.access(path.join(out, f));
  }
  const history = JSON.parse(await fs.readFile(path.join(out, 'history.json'), 'utf8'));
  assert.equal(history.epochs.length, 8);
  assert.ok(history.epochs.every((e: { seconds: number }) => e.seconds > 0));
  const meta = JSON.parse(await fs.readFile(path.join(out, 'metadata.json'), 'utf8'));
  assert.deepEqual(meta.classes, PAPER);
  assert.equal(meta.normalisation.mean.length, 3);

  const e = runCli(['evaluate', out, '--split', 'test', '--json']);
  assert.equal(e.code, 0, e.stderr);
  const metrics = JSON.parse(e.stdout);
  const split = JSON.parse(await fs.readFile(path.join(out, 'split.json'), 'utf8'));
  assert.equal(metrics.n, split.files.test.length, 'evaluates exactly the saved test split');
  assert.ok(metrics.accuracy > 0.4, `test accuracy ${metrics.accuracy} is not clearly above chance (1/6)`);
  const saved = JSON.parse(await fs.readFile(path.join(out, 'metrics-test.json'), 'utf8'));
  assert.equal(saved.accuracy, metrics.accuracy);
});

test('an existing run is never overwritten without --force; --resume continues it', { skip }, async () => {
  const data = await linkSubset(CKPLUS, ['happiness', 'surprise'], 20);
  const out = path.join(tempDir(), 'run');
  const args = ['train', data, '--size', '16', '--out', out];
  assert.equal(runCli([...args, '--epochs', '1']).code, 0);
  const before = await fs.readFile(path.join(out, 'metadata.json'), 'utf8');

  const again = runCli([...args, '--epochs', '1']);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already exists.*--resume.*--force/);
  assert.equal(await fs.readFile(path.join(out, 'metadata.json'), 'utf8'), before, 'the refused run changed files');

  const resumed = runCli([...args, '--epochs', '3', '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /resuming .* after epoch 1 of 3/);
  assert.doesNotMatch(resumed.stdout, /epoch 1\/3/);
  const history = JSON.parse(await fs.readFile(path.join(out, 'history.json'), 'utf8'));
  assert.deepEqual(
    history.epochs.map((e: { epoch: number }) => e.epoch),
    [1, 2, 3],
  );
  const leftovers = (await fs.readdir(out)).filter((f) => f.endsWith('.tmp') || f.startsWith('.'));
  assert.deepEqual(leftovers, [], 'temporary files left behind');

  // --force replaces the run only once the new one has passed its checks: a refused one leaves it whole.
  const finished = await fs.readFile(path.join(out, 'weights.bin'));
  const refused = runCli([...args, '--epochs', '1', '--force', '--classes', 'happiness,joyful']);
  assert.match(refused.stderr, /joyful not found/);
  assert.deepEqual(await fs.readFile(path.join(out, 'weights.bin')), finished, '--force removed the old run before the new one could start');
  // Without a validation split the summary names the kept last epoch, not a "best" NaN %.
  const noVal = runCli([...args, '--epochs', '1', '--force', '--val-fraction', '0']);
  assert.equal(noVal.code, 0, noVal.stderr);
  assert.match(noVal.stdout, /kept {6}the last epoch, 1: train acc \d+\.\d+%, loss \d\.\d{4} \(no validation split\)/);
  assert.doesNotMatch(noVal.stdout, /NaN/);
});

test('bad input: one-line errors and a non-zero exit code', { skip }, async () => {
  const out = path.join(tempDir(), 'run');
  const cases: [string[], RegExp][] = [
    [['train', '/no/such/dir', '--out', out], /dataset folder not found: \/no\/such\/dir/],
    [['train', CKPLUS, '--out', out, '--classes', 'paper,joyful'], /joyful not found/],
    [['train', CKPLUS, '--out', out, '--size', '7'], /--size must be an integer of at least 8/],
    [['evaluate', tempDir()], /not a finished training run/],
  ];
  for (const [args, re] of cases) {
    const r = runCli(args);
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.stderr, re);
    assert.ok(r.stderr.trim().split('\n').length <= 2, `more than a short error: ${r.stderr}`);
  }
});

test('a run interrupted after any epoch and resumed ends bit-identical to an uninterrupted one', { skip }, async () => {
  const data = await linkSubset(CKPLUS, ['happiness', 'surprise', 'anger'], 12);
  const root = tempDir();
  // A constant learning rate, so a run told to stop after epoch k is a run killed after epoch k
  // (the checkpoint is all a resume reads); everything else as the bundled models train.
  const args = (out: string, epochs: number) => [
    'train',
    data,
    '--out',
    out,
    '--arch',
    'visemo',
    '--size',
    '16',
    '--channels',
    '1',
    '--augment',
    'default',
    '--label-smoothing',
    '0.1',
    '--class-weights',
    'sqrt',
    '--batch',
    '2',
    '--epochs',
    String(epochs),
  ];
  const straight = path.join(root, 'straight');
  assert.equal(runCli(args(straight, 4)).code, 0);
  const history = async (dir: string) =>
    (JSON.parse(await fs.readFile(path.join(dir, 'history.json'), 'utf8')) as { epochs: { loss: number; valLoss: number; valAcc: number }[] }).epochs.map(
      (e) => [e.loss, e.valLoss, e.valAcc],
    );
  const expected = { weights: await fs.readFile(path.join(straight, 'checkpoint', 'weights.bin')), history: await history(straight) };
  for (const stop of [1, 2, 3]) {
    const out = path.join(root, `stopped-${stop}`);
    assert.equal(runCli(args(out, stop)).code, 0);
    const resumed = runCli([...args(out, 4), '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`resuming .* after epoch ${stop} of 4`));
    assert.deepEqual(await history(out), expected.history, `losses after a stop at epoch ${stop}`);
    assert.ok((await fs.readFile(path.join(out, 'checkpoint', 'weights.bin'))).equals(expected.weights), `weights after a stop at epoch ${stop} differ`);
  }
});
