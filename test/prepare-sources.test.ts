/**
 * prepare's other two sources: a folder of videos per class (faces found by the detector) and a
 * folder of images per class (already face crops, --no-detect). Both end in a dataset train reads.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Manifest } from '../src/prepare/prepare.js';
import { scanImageFolder } from '../src/data/image-folder.js';
import { datasetFaceCut } from '../src/data/face-cut.js';
import { CKPLUS, hasShared, runCli, tempDir } from './helpers.js';
import { hasFfmpeg } from './predict-helpers.js';

const CLASSES = ['happiness', 'surprise'];
const firstFaces = async (cls: string, n: number) =>
  (await fs.readdir(path.join(CKPLUS, cls)))
    .sort()
    .slice(0, n)
    .map((f) => path.join(CKPLUS, cls, f));

/** A folder of images per class: links to the first n CK+ faces of each class. */
async function linkFaces(n: number): Promise<string> {
  const src = tempDir();
  for (const cls of CLASSES) {
    await fs.mkdir(path.join(src, cls));
    for (const face of await firstFaces(cls, n)) await fs.symlink(face, path.join(src, cls, path.basename(face)));
  }
  return src;
}

async function manifestOf(out: string): Promise<Manifest> {
  return JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
}

test('a folder of videos per class: frames, faces found, subject from the file name', {
  skip: !hasShared || !hasFfmpeg ? 'needs ../shared and ffmpeg' : false,
}, async () => {
  const src = tempDir();
  for (const cls of CLASSES) {
    await fs.mkdir(path.join(src, cls));
    for (const face of await firstFaces(cls, 4)) {
      // A CK+ face at 200 px on a 640x480 frame, 1.5 s at 10 fps, named like the image (S010_…).
      execFileSync('ffmpeg', [
        '-v',
        'error',
        '-y',
        '-loop',
        '1',
        '-i',
        face,
        '-vf',
        'scale=200:200,pad=640:480:220:140:gray',
        '-t',
        '1.5',
        '-r',
        '10',
        '-pix_fmt',
        'yuv420p',
        path.join(src, cls, `${path.basename(face, '.png')}.mp4`),
      ]);
    }
  }
  const out = path.join(tempDir(), 'dataset');
  const r = runCli([
    'prepare',
    src,
    '--out',
    out,
    '--size',
    '64',
    '--frames-per-video',
    '2',
    '--skip-start',
    '0',
    '--augment',
    'none',
    '--split',
    'random',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.kind, 'videos');
  assert.equal(summary.units, 8);
  assert.equal(summary.frames, 16);
  assert.ok(summary.faces >= 14, `faces found in ${summary.faces} of 16 frames`);
  const manifest = await manifestOf(out);
  assert.ok(manifest.images.every((im) => im.video !== null && im.frameTime !== null && im.box !== null));
  assert.ok(
    manifest.images.every((im) => /^S\d+$/.test(im.subject ?? '')),
    'subject from the default pattern',
  );
  const folder = await scanImageFolder(out);
  assert.deepEqual(folder.classes, CLASSES);
  assert.equal(folder.items.length, manifest.images.length);
});

test('a folder of images per class with --no-detect: monochrome copies plus the paper augmentations on train', {
  skip: hasShared ? false : 'needs ../shared',
}, async () => {
  const src = await linkFaces(10);
  const out = path.join(tempDir(), 'dataset');
  const r = runCli(['prepare', src, '--out', out, '--no-detect', '--size', '48', '--split', 'random', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.kind, 'images');
  assert.equal(summary.units, 20);
  const manifest = await manifestOf(out);
  const originals = manifest.images.filter((im) => im.augmentation === null);
  assert.equal(originals.length, 20);
  const augmented = manifest.images.filter((im) => im.augmentation !== null);
  assert.ok(augmented.length > 0 && augmented.every((im) => im.split === 'train'), 'only training images are augmented');
  const train = originals.filter((im) => im.split === 'train').length;
  assert.equal(augmented.length, 2 * train, 'one rotated and one noisy copy per training image');
});

test('prepare --align: faces cut by their landmarks, recorded so that training and inference align too', {
  skip: hasShared ? false : 'needs ../shared',
}, async () => {
  const src = await linkFaces(3);
  const plain = path.join(tempDir(), 'plain');
  const aligned = path.join(tempDir(), 'aligned');
  const common = ['--no-detect', '--size', '48', '--split', 'random', '--augment', 'rotate=10', '--json'];
  assert.equal(runCli(['prepare', src, '--out', plain, ...common]).code, 0);
  const r = runCli(['prepare', src, '--out', aligned, ...common, '--align']);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.unaligned, 0, 'every CK+ face has plausible landmarks');
  const manifest = await manifestOf(aligned);
  assert.equal(manifest.options.align, true);
  assert.equal((await manifestOf(plain)).options.align, undefined, 'absent when not asked for: older datasets still resume');
  assert.deepEqual((await datasetFaceCut(aligned)).cut, { method: 'landmarks' });
  // Aligned crops are other pixels than the centre squares, and each rotated copy differs from its original.
  const differ = async (a: string, b: string) => !(await fs.readFile(a)).equals(await fs.readFile(b));
  const first = manifest.images.find((im) => im.augmentation === null)!;
  assert.ok(await differ(path.join(aligned, first.file), path.join(plain, first.file)));
  const rotated = manifest.images.find((im) => im.augmentation?.type === 'rotate');
  if (rotated) assert.ok(await differ(path.join(aligned, rotated.file), path.join(aligned, rotated.file.replace(/_r[^/]*\.png$/, '.png'))));
  // A changed --align is a different dataset: refused without --force.
  const again = runCli(['prepare', src, '--out', aligned, ...common]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /align/);
});

test('prepare keeps every image when output names would collide, and a re-run redoes none', { skip: hasShared ? false : 'needs ../shared' }, async () => {
  const src = tempDir();
  const [face] = await firstFaces('happiness', 1);
  for (const cls of CLASSES) {
    await fs.mkdir(path.join(src, cls));
    // Three pairs that slug alike: extension only, space vs underscore, and non-Latin names.
    for (const name of ['S010_a.jpg', 'S010_a.png', 'S011 b.jpg', 'S011_b.jpg', 'S012_笑.jpg', 'S012_泣.jpg'])
      await fs.copyFile(face!, path.join(src, cls, name));
  }
  const out = path.join(tempDir(), 'dataset');
  const args = ['prepare', src, '--out', out, '--no-detect', '--size', '32', '--augment', 'none', '--split', 'random', '--json'];
  const r = runCli(args);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.imagesWritten, 12);
  const manifest = await manifestOf(out);
  assert.equal(new Set(manifest.images.map((im) => im.file)).size, 12, 'twelve distinct output names');
  const onDisk = (await scanImageFolder(out)).items.length;
  assert.equal(onDisk, 12, 'every manifest entry is a file on disk');
  const again = JSON.parse(runCli(args).stdout);
  assert.equal(again.resumed, 12, 'a re-run finds every unit done');
  assert.equal(again.imagesWritten, 0);
});

test('an image bomb fails its unit with its size, the run goes on, and a re-run skips it unless --retry-failed', {
  skip: hasShared ? false : 'needs ../shared',
}, async () => {
  const src = await linkFaces(2);
  // 9000×9000 pixels in a few hundred KB: over the decoder's budget, refused from its header.
  await (await import('sharp'))
    .default({ create: { width: 9000, height: 9000, channels: 3, background: { r: 9, g: 9, b: 9 } } })
    .grayscale()
    .png()
    .toFile(path.join(src, 'happiness', 'S999_bomb.png'));
  const out = path.join(tempDir(), 'dataset');
  const args = ['prepare', src, '--out', out, '--no-detect', '--size', '32', '--augment', 'none', '--split', 'random', '--json'];
  const first = runCli(args);
  assert.equal(first.code, 1, 'a failed unit makes the exit status 1');
  const s1 = JSON.parse(first.stdout);
  assert.equal(s1.processed, 4);
  assert.equal(s1.failed.length, 1);
  assert.match(s1.failed[0].error, /9000×9000 \(81 megapixels\), over the 64/);
  const second = runCli(args);
  assert.equal(second.code, 1);
  const s2 = JSON.parse(second.stdout);
  assert.deepEqual([s2.resumed, s2.failedEarlier, s2.processed], [4, 1, 0], 'nothing is redone, the bomb is not tried again');
  assert.match(s2.failed[0].error, /in an earlier run; --retry-failed/);
  const retried = JSON.parse(runCli([...args, '--retry-failed']).stdout);
  assert.deepEqual([retried.resumed, retried.failedEarlier, retried.failed.length], [4, 0, 1]);
});
