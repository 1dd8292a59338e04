import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../test/helpers.js';
import { labelTargets, parseSoftTargets, readSoftTargets, SOFT_TARGETS_FILE } from './soft-targets.js';

const close = (a: ArrayLike<number>, b: number[]) => b.forEach((v, i) => assert.ok(Math.abs(a[i]! - v) < 1e-6, `[${i}] ${a[i]} vs ${v}`));

test('votes become shares over the run classes; columns the run leaves out are dropped first', () => {
  // FER+-like: contempt is not a class of the run, so its vote goes before normalising.
  const rows = parseSoftTargets('file,neutral,happy,contempt\ntrain/neutral/a.png,6,2,2\ntrain/happiness/b.png,0,10,0\n', ['happiness', 'neutral'], 'x.csv');
  close(rows.get('train/neutral/a.png')!, [0.25, 0.75]);
  close(rows.get('train/happiness/b.png')!, [1, 0]);
  assert.equal(rows.size, 2);
});

test('a bad soft-targets file is named with its line and what to do', () => {
  const classes = ['anger', 'disgust'];
  assert.throws(() => parseSoftTargets('name,anger\n', classes, 'x.csv'), /x\.csv: the first line must be 'file,<class>/);
  assert.throws(() => parseSoftTargets('file,anger,disgust\na.png,1\n', classes, 'x.csv'), /x\.csv line 2 has 2 fields, the header 3/);
  assert.throws(() => parseSoftTargets('file,anger,disgust\na.png,1,-2\n', classes, 'x.csv'), /line 2: '-2' is not a non-negative number/);
  assert.throws(() => parseSoftTargets('file,anger,fear\na.png,0,3\n', classes, 'x.csv'), /line 2: a\.png has no weight on any class of this run/);
  assert.throws(() => parseSoftTargets('file,anger,disgust\na.png,1,0\na.png,0,1\n', classes, 'x.csv'), /line 3: a\.png is listed twice/);
});

test('label targets: the soft row where listed, one-hot otherwise, zeros for unlabeled rows', () => {
  const soft = { file: 'x', hash: 'h', rows: new Map([['a.png', Float32Array.from([0.5, 0.5, 0])]]) };
  const y = labelTargets(['a.png', 'b.png', 'a.png'], Int32Array.from([1, 2, -1]), 3, soft);
  close(y, [0.5, 0.5, 0, 0, 0, 1, 0, 0, 0]);
  close(labelTargets(['a.png'], Int32Array.from([0]), 3, null), [1, 0, 0]);
});

test('a dataset without soft-targets.csv has none; one with it is read with its hash', async () => {
  const dir = tempDir();
  assert.equal(await readSoftTargets(dir, ['a', 'b']), null);
  await fs.writeFile(path.join(dir, SOFT_TARGETS_FILE), 'file,a,b\nx/a/1.png,3,1\n');
  const soft = await readSoftTargets(dir, ['a', 'b']);
  assert.ok(soft && /^[0-9a-f]{16}$/.test(soft.hash));
  close(soft.rows.get('x/a/1.png')!, [0.75, 0.25]);
});
