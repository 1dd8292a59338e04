/**
 * scripts/posed-mix-data.ts on a made-up posed7 folder: matched FER+ faces get 0.5 × votes/Σvotes +
 * 0.5 × FER2013's label, every other row is copied as it was, train/ and val/ link to posed7's, and
 * the matched validation faces are filed under FER2013's label.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO, tempDir, writeGrayPng } from './helpers.js';

const CLASSES = ['anger', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise'];

test('posed7m: mixed targets for matched FER+ faces, other rows as they were, validation faces by FER2013 label', async () => {
  const out = tempDir('visemo-posed-mix-');
  const posed = path.join(out, 'posed7');
  for (const f of [
    'train/neutral/fer0000001.png',
    'train/happiness/fer0000002.png',
    'train/anger/cfee_id1.jpg',
    'val/neutral/fer0000009.png',
    'val/sadness/fer0000010.png',
  ]) {
    await fs.mkdir(path.dirname(path.join(posed, f)), { recursive: true });
    await writeGrayPng(path.join(posed, f), 48, 48, (x, y) => (x + y) % 256);
  }
  const rows = [
    `file,${CLASSES.join(',')}`,
    'train/neutral/fer0000001.png,2,0,0,0,6,2,0', // matched, FER2013 says sad
    'train/happiness/fer0000002.png,0,0,0,10,0,0,0', // not matched: kept
    'train/anger/cfee_id1.jpg,0.5,0.5,0,0,0,0,0', // not a FER+ face: kept
  ];
  await fs.writeFile(path.join(posed, 'soft-targets.csv'), `${rows.join('\n')}\n`);
  await fs.writeFile(path.join(out, 'ferplus-fer2013-labels.csv'), 'file,label,corr\nfer0000001.png,sad,0.99\nfer0000009.png,angry,0.98\n');

  const log = execFileSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'scripts', 'posed-mix-data.ts'), out, '0.5'], { encoding: 'utf8' });
  assert.match(log, /1 FER\+ targets mixed .*1 validation faces by FER2013's label/);

  const mixed = (await fs.readFile(path.join(out, 'posed7m', 'soft-targets.csv'), 'utf8')).trim().split('\n');
  assert.equal(mixed[0], rows[0]);
  const target = mixed[1]!.split(',').slice(1).map(Number);
  // votes 2/10 anger, 6/10 neutral, 2/10 sadness, halved; FER2013's sadness adds 0.5.
  assert.deepEqual(target, [0.1, 0, 0, 0, 0.3, 0.6, 0]);
  assert.equal(mixed[2], rows[2]);
  assert.equal(mixed[3], rows[3]);
  assert.equal(await fs.realpath(path.join(out, 'posed7m', 'train')), await fs.realpath(path.join(posed, 'train')));
  assert.deepEqual(await fs.readdir(path.join(out, 'posed7m-val-fer2013')), ['anger']);
  assert.deepEqual(await fs.readdir(path.join(out, 'posed7m-val-fer2013', 'anger')), ['fer0000009.png']);
  await fs.rm(out, { recursive: true, force: true });
});
