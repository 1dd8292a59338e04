import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir, writeGrayPng } from '../../test/helpers.js';
import { VisemoError } from '../util/errors.js';
import { parseClassOption, PAPER_CLASSES } from './classes.js';
import { decodeItems, pixelStats } from './decoded-set.js';
import { scanImageFolder } from './image-folder.js';

const flat = (v: number) => () => v;

async function makeFolder(spec: Record<string, number>): Promise<string> {
  const root = tempDir();
  for (const [cls, n] of Object.entries(spec)) {
    await fs.mkdir(path.join(root, cls), { recursive: true });
    for (let i = 0; i < n; i++) await writeGrayPng(path.join(root, cls, `S${i}_img${i}.png`), 12, 12, flat(40 * i));
  }
  return root;
}

test('class folder names are normalised and filtered', async () => {
  const root = await makeFolder({ happy: 2, Angry: 1, sad: 1, neutral: 1 });
  await fs.writeFile(path.join(root, 'happy', 'notes.txt'), 'not an image');
  const all = await scanImageFolder(root);
  assert.deepEqual(all.classes, ['anger', 'happiness', 'neutral', 'sadness']);
  assert.equal(all.items.length, 5, 'the .txt file is not an image');
  const some = await scanImageFolder(root, { classes: parseClassOption('happiness,anger') });
  assert.deepEqual(some.classes, ['happiness', 'anger']);
  assert.deepEqual(some.ignoredClasses, ['neutral', 'sadness']);
  assert.deepEqual(parseClassOption('paper'), [...PAPER_CLASSES]);
});

test('bad dataset folders give one actionable error each', async () => {
  const expectError = async (p: Promise<unknown>, re: RegExp) => {
    await assert.rejects(p, (err: unknown) => err instanceof VisemoError && re.test(err.toLine()));
  };
  await expectError(scanImageFolder('/no/such/folder'), /not found: \/no\/such\/folder/);
  await expectError(scanImageFolder(await makeFolder({ happy: 2 })), /at least two are needed/);
  await expectError(scanImageFolder(await makeFolder({ happy: 2, sad: 0 })), /no images for class sadness .*--classes/);
  await expectError(scanImageFolder(await makeFolder({ happy: 2, sad: 1 }), { classes: ['happiness', 'fear'] }), /fear not found.*has: happiness, sadness/);
});

test('a train/val/test folder is used as given', async () => {
  const root = tempDir();
  for (const split of ['train', 'val', 'test'])
    for (const cls of ['a', 'b']) await writeGrayPng(path.join(root, split, cls, `${split}-${cls}.png`), 8, 8, flat(9));
  const f = await scanImageFolder(root);
  assert.equal(f.layout, 'split');
  assert.deepEqual(f.items.map((it) => `${it.split}:${it.label}`).sort(), ['test:a', 'test:b', 'train:a', 'train:b', 'val:a', 'val:b']);
});

test('corrupt images are skipped with their name; pixels are decoded once to uint8', async () => {
  const root = await makeFolder({ a: 2, b: 1 });
  await fs.writeFile(path.join(root, 'b', 'broken.png'), Buffer.from('\x89PNG\r\n\x1a\n garbage'));
  const folder = await scanImageFolder(root);
  const seen: string[] = [];
  const { set, skipped } = await decodeItems(folder.items, folder.classes, 10, { onSkip: (s) => seen.push(s.path) });
  assert.equal(skipped.length, 1);
  assert.match(skipped[0]!.path, /broken\.png$/);
  assert.deepEqual(seen, [skipped[0]!.path]);
  assert.equal(set.labels.length, 3);
  assert.equal(set.pixels.length, 3 * 10 * 10);
  assert.ok(set.pixels instanceof Uint8Array);
  // Images are flat 0, 40 (class a) and 0 (class b): mean 40/3/255 on 0–1.
  const stats = pixelStats(set, 3);
  assert.equal(stats.mean.length, 3);
  assert.ok(Math.abs(stats.mean[0]! - 40 / 3 / 255) < 1e-3, `mean ${stats.mean[0]}`);
  const expectedStd = Math.sqrt((2 * (40 / 3 / 255) ** 2 + (80 / 3 / 255) ** 2) / 3);
  assert.ok(Math.abs(stats.std[0]! - expectedStd) < 1e-3, `std ${stats.std[0]} vs ${expectedStd}`);
});

test('class folders that are links count like real ones (all linked, or mixed)', async () => {
  const real = await makeFolder({ happy: 2, sad: 3, angry: 1 });
  const allLinked = tempDir();
  for (const c of ['happy', 'sad', 'angry']) await fs.symlink(path.join(real, c), path.join(allLinked, c));
  const a = await scanImageFolder(allLinked);
  assert.deepEqual(a.classes, ['anger', 'happiness', 'sadness']);
  assert.equal(a.items.length, 6);
  const mixed = await makeFolder({ happy: 2, sad: 1 });
  await fs.symlink(path.join(real, 'angry'), path.join(mixed, 'angry'));
  await fs.symlink(path.join(real, 'happy', 'S0_img0.png'), path.join(mixed, 'not-a-folder'));
  const m = await scanImageFolder(mixed);
  assert.deepEqual(m.classes, ['anger', 'happiness', 'sadness'], 'the linked class is kept, a linked file is no class');
  assert.equal(m.items.length, 4);
});
