/**
 * Issue 34: what careless and hostile inputs found in the commands, each tried again. Every test
 * makes its own tiny images with sharp (16×16 gray faces that are not faces, enough for the
 * commands' checks and for training a few steps), so none needs the shared datasets.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { REPO, runCli, tempDir, writeGrayPng } from './helpers.js';

/** A flat dataset: `perClass` 16×16 images in each class folder, each image its own pattern. */
async function dataset(classes: string[], perClass: number, root = tempDir('visemo-hostile-data-')): Promise<string> {
  for (const [c, name] of classes.entries()) {
    for (let i = 0; i < perClass; i++)
      await writeGrayPng(path.join(root, name, `S${String(i).padStart(3, '0')}_${name}.png`), 16, 16, (x, y) => (x * (c + 2) + y * (i + 1) * 3) % 256);
  }
  return root;
}

/** A file whose name is not valid UTF-8: `\xff\xfe bad.png` (latin-1 bytes from another system). */
async function writeNonUtf8Png(dir: string): Promise<void> {
  const name = Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0xff, 0xfe]), Buffer.from(' bad.png')]);
  await fs.writeFile(
    name,
    await sharp({ create: { width: 16, height: 16, channels: 3, background: '#808080' } })
      .png()
      .toBuffer(),
  );
}

test('predict FILE --annotate DIR --force with FILE inside DIR is refused and leaves the input as it was (item 3)', async () => {
  const dir = tempDir('visemo-annotate-');
  const image = path.join(dir, 'photo.png');
  await writeGrayPng(image, 64, 64, (x, y) => (x * y) % 256);
  const before = await fs.readFile(image);
  for (const extra of [[], ['--force']]) {
    const r = runCli(['predict', image, '--model', 'paper', '--annotate', dir, ...extra]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /the input .*photo\.png lies inside --annotate .*: its annotated copy would replace it/);
  }
  assert.ok(before.equals(await fs.readFile(image)), 'the input is unchanged');
});

test('train --resume refuses other data and options, naming each; the same options resume (item 4)', async () => {
  const a = await dataset(['happiness', 'surprise'], 6);
  const b = await dataset(['happiness', 'surprise'], 7);
  const out = path.join(tempDir(), 'rz');
  const first = runCli(['train', a, '--size', '16', '--epochs', '1', '--out', out]);
  assert.equal(first.code, 0, first.stderr);
  const changed = runCli(['train', b, '--size', '20', '--lr', '0.1', '--arch', 'visemo', '--epochs', '3', '--out', out, '--resume']);
  assert.equal(changed.code, 2, changed.stdout + changed.stderr);
  assert.match(changed.stderr, /--resume: .*rz was started with other data or options: /);
  for (const what of [
    /dataset .* \(the run has .*\)/,
    /--size 20 \(the run has 16\)/,
    /--lr 0\.1 \(the run has 0\.001\)/,
    /--arch visemo \(the run has paper\)/,
  ])
    assert.match(changed.stderr, what);
  assert.doesNotMatch(changed.stderr, /--epochs \d/, 'more epochs are allowed');
  const history = JSON.parse(await fs.readFile(path.join(out, 'history.json'), 'utf8')) as { epochs: unknown[] };
  assert.equal(history.epochs.length, 1, 'the refused resume trained nothing');
  const same = runCli(['train', a, '--size', '16', '--epochs', '2', '--out', out, '--resume']);
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /resuming .* after epoch 1 of 2/);
  // Options left out are the run's own: --size 16 is not repeated, and the defaults (--size 50) are not asked for.
  const short = runCli(['train', a, '--epochs', '3', '--out', out, '--resume']);
  assert.equal(short.code, 0, short.stderr);
  assert.match(short.stdout, /resuming .* after epoch 2 of 3/);
  assert.match(short.stdout, /16x16x3/);
});

test('train stops at the first non-finite loss, saying so, and never saves NaN weights (item 11)', async () => {
  const data = await dataset(['happiness', 'surprise'], 6);
  const out = path.join(tempDir(), 'nan');
  const r = runCli(['train', data, '--size', '16', '--epochs', '3', '--lr', '1e9', '--out', out]);
  assert.equal(r.code, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /training diverged at epoch 1, (step \d+ of \d+|on the validation images): the loss is (NaN|-?Infinity) \(learning rate 1000000000\)/);
  assert.match(r.stderr, /lower --lr/);
  // No epoch finished: no model to predict NaN% with, no checkpoint of NaN weights.
  const files = await fs.readdir(out);
  assert.ok(!files.includes('model.json') && !files.includes('weights.bin') && !files.includes('checkpoint'), files.join(', '));
});

test('stats skips and names an image over the pixel limit instead of decoding it (item 5)', async () => {
  const data = await dataset(['happiness', 'surprise'], 3);
  // 9000×9000 = 81 megapixels, over the 64 decoded anywhere; a few hundred kB as PNG.
  const big = path.join(data, 'happiness', 'big.png');
  await sharp(Buffer.alloc(9000 * 9000, 128), { raw: { width: 9000, height: 9000, channels: 1 } })
    .png()
    .toFile(big);
  const out = path.join(tempDir(), 's.json');
  const r = runCli(['stats', data, '-o', out]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /skipped .*big\.png: the image is 9000×9000 \(81 megapixels\), over the 64/);
  const stats = JSON.parse(await fs.readFile(out, 'utf8')) as { imagesMeasured: number; pixels: number };
  assert.equal(stats.imagesMeasured, 6);
  assert.equal(stats.pixels, 6 * 16 * 16, 'the big image is not in the statistics');
});

test('experiment: --out inside the dataset creates nothing there; a refused first run leaves no empty folder (item 6)', async () => {
  const data = await dataset(['happiness', 'surprise'], 3);
  const inside = runCli(['experiment', data, '--out', path.join(data, 'exp'), '--sizes', '16', '--epochs', '1']);
  assert.equal(inside.code, 2, inside.stderr);
  assert.match(inside.stderr, /--out .*exp is inside the dataset/);
  assert.deepEqual((await fs.readdir(data)).sort(), ['happiness', 'surprise']);
  const empty = tempDir('visemo-empty-data-');
  const out = path.join(tempDir(), 'ex1');
  const refused = runCli(['experiment', empty, '--out', out, '--sizes', '16', '--epochs', '1']);
  assert.equal(refused.code, 2, refused.stderr);
  await assert.rejects(fs.access(out), 'no empty experiment folder is left');
});

test('a file whose name is not UTF-8 is named as skipped by stats, train, predict, prepare and align, never lost (item 7)', async () => {
  const data = await dataset(['happiness', 'surprise'], 5);
  await writeNonUtf8Png(path.join(data, 'happiness'));
  const named = /skipped .*happiness\/\\xff\\xfe bad\.png: its name is not valid UTF-8/;
  const stats = runCli(['stats', data, '-o', path.join(tempDir(), 's.json')]);
  assert.equal(stats.code, 1, stats.stderr);
  assert.match(stats.stderr, named);
  const train = runCli(['train', data, '--size', '16', '--epochs', '1', '--out', path.join(tempDir(), 'run')]);
  assert.equal(train.code, 1, train.stderr);
  assert.match(train.stdout, named);
  assert.match(train.stdout, /1 unreadable skipped/);
  const predict = runCli(['predict', data, '--model', 'paper', '--detector', 'tiny', '--format', 'csv']);
  assert.equal(predict.code, 1, predict.stderr);
  assert.match(predict.stderr, named);
  assert.match(predict.stderr, /1 skipped/);
  const nameOnly = /happiness\/\\xff\\xfe bad\.png: its name is not valid UTF-8/;
  const prepare = runCli(['prepare', data, '-o', path.join(tempDir(), 'prepared'), '--no-detect', '--size', '16', '--augment', 'none']);
  assert.equal(prepare.code, 1, prepare.stdout + prepare.stderr);
  assert.match(prepare.stdout, /failed: .*happiness\/\\xff\\xfe bad\.png: its name is not valid UTF-8/);
  const align = runCli(['align', data, '-o', path.join(tempDir(), 'aligned'), '--size', '16']);
  assert.equal(align.code, 1, align.stdout + align.stderr);
  assert.match(align.stdout, nameOnly);
  assert.doesNotMatch(prepare.stdout + align.stdout, /Input file is missing/);
});

test("a model's metadata is checked against its graph when it loads, naming both files (item 9)", async () => {
  const image = path.join(tempDir(), 'face.png');
  await writeGrayPng(image, 64, 64, (x, y) => (x + y) * 2);
  const edits: [string, (m: Record<string, unknown>) => void, RegExp][] = [
    ['7 classes for 6 outputs', (m) => void (m.classes as string[]).push('neutral'), /it says 7 classes \(.*neutral\), the graph 6 outputs/],
    ['a wrong input size', (m) => void (m.inputSize = 48), /it says input size 48, the graph 50×50/],
    ['a wrong channel count', (m) => void (m.channels = 1), /it says 1 channel, the graph 3/],
  ];
  for (const [what, edit, message] of edits) {
    const dir = path.join(tempDir(), 'model');
    await fs.cp(path.join(REPO, 'models', 'paper-fer50'), dir, { recursive: true });
    const metaFile = path.join(dir, 'metadata.json');
    const meta = JSON.parse(await fs.readFile(metaFile, 'utf8')) as Record<string, unknown>;
    edit(meta);
    await fs.writeFile(metaFile, JSON.stringify(meta));
    const r = runCli(['predict', image, '--model', dir]);
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${metaFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} does not match .*model\\.json`), what);
    assert.match(r.stderr, message, what);
  }
});

test('stats and compare -o never replace their own output for other inputs without --force (item 10)', async () => {
  const a = await dataset(['happiness', 'surprise'], 3);
  const b = await dataset(['happiness', 'surprise'], 4);
  const out = path.join(tempDir(), 's.json');
  assert.equal(runCli(['stats', a, '-o', out]).code, 0);
  const kept = await fs.readFile(out, 'utf8');
  assert.equal(runCli(['stats', a, '-o', out]).code, 0, 'a re-run on the same dataset refreshes its own file');
  const other = runCli(['stats', b, '-o', out]);
  assert.equal(other.code, 2, other.stderr);
  assert.match(other.stderr, /s\.json holds this command's result for other inputs \(root .*, not .*\) — choose another --out, or pass --force/);
  assert.equal(await fs.readFile(out, 'utf8'), kept);
  assert.equal(runCli(['stats', b, '-o', out, '--force']).code, 0);

  const cmp = path.join(tempDir(), 'c.json');
  const first = runCli(['compare', a, '--models', 'paper', '--classes', 'happiness,surprise', '-o', cmp]);
  assert.equal(first.code, 0, first.stderr);
  const compared = await fs.readFile(cmp, 'utf8');
  const second = runCli(['compare', b, '--models', 'paper', '--classes', 'happiness,surprise', '-o', cmp]);
  assert.equal(second.code, 2, second.stderr);
  assert.match(second.stderr, /c\.json holds this command's result for other inputs \(data /);
  assert.equal(await fs.readFile(cmp, 'utf8'), compared);
});

test("--classes '' and ',,,' name no class: a usage error, not 'all' and not the folder's fault (item 11)", async () => {
  const data = await dataset(['happiness', 'surprise'], 3);
  for (const value of ['', ',,,']) {
    const r = runCli(['train', data, '--classes', value, '--size', '16', '--epochs', '1', '--out', path.join(tempDir(), 'run')]);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`--classes '${value}' names no class — give 'all', 'paper' or a comma list`));
    assert.doesNotMatch(r.stdout, /epoch/);
  }
});

test('one exit rule when inputs are skipped: align, evaluate and compare exit 1, as stats, prepare and predict do (item 11)', async () => {
  const data = await dataset(['happiness', 'surprise'], 4);
  await fs.writeFile(path.join(data, 'surprise', 'broken.png'), 'not a png');
  const align = runCli(['align', data, '-o', path.join(tempDir(), 'aligned'), '--size', '16']);
  assert.equal(align.code, 1, align.stderr);
  assert.match(align.stdout, /unreadable: surprise\/broken\.png/);
  assert.match(align.stderr, /1 unreadable image skipped/);
  const compare = runCli(['compare', data, '--models', 'paper', '--classes', 'happiness,surprise']);
  assert.equal(compare.code, 1, compare.stderr);
  assert.match(compare.stderr, /skipped .*broken\.png/);
  // evaluate writes its metrics beside the model: a copy, not the bundled folder.
  const model = path.join(tempDir(), 'paper');
  await fs.cp(path.join(REPO, 'models', 'paper-fer50'), model, { recursive: true });
  const evaluate = runCli(['evaluate', model, '--data', data]);
  assert.equal(evaluate.code, 1, evaluate.stderr);
  assert.match(evaluate.stderr, /skipped .*broken\.png/);
  // A dataset read whole exits 0.
  await fs.rm(path.join(data, 'surprise', 'broken.png'));
  assert.equal(runCli(['compare', data, '--models', 'paper', '--classes', 'happiness,surprise']).code, 0);
});

test('experiment follows the same rule: an image its trainings or tests skipped makes exit 1 (item 11)', async () => {
  const data = await dataset(['happiness', 'surprise'], 10);
  await fs.writeFile(path.join(data, 'surprise', 'S099_broken.png'), 'not a png');
  const r = runCli(['experiment', data, '--out', path.join(tempDir(), 'exp'), '--sizes', '16', '--epochs', '1']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /skipped .*S099_broken\.png/);
  assert.match(r.stderr, /1 unreadable image skipped by the trainings and tests/);
  // The summary still prints: the size's row in the table, the split line and where the report is.
  assert.match(r.stdout, /test acc \(95% CI\)/);
  assert.match(r.stdout, /^16×16 +\d+\.\d %/m);
  assert.match(r.stdout, /^split +random \(seed 42\); backend /m);
  assert.match(r.stdout, /^report +\S*report\.html \(also report\.md, results\.json, figures\/, tables\/\)/m);
});
