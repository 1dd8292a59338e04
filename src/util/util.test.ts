import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../test/helpers.js';
import { argmax } from './argmax.js';
import { exists, readJson, readJsonIfPresent, writeDirAtomic, writeFileAtomic, writeJsonAtomic } from './atomic.js';
import { firstLine, userLine, VisemoError } from './errors.js';
import { hashFileHex, hashHex } from './hash.js';
import { createRng, gaussian, shuffleInPlace } from './random.js';
import { fixed, formatTable, pct } from './table.js';

test('atomic writes leave the whole file or the old one, and no temporary file behind', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'sub', 'a.json');
  await writeJsonAtomic(file, { n: 1 });
  await writeFileAtomic(file, '{"n": 2}');
  assert.deepEqual(await readJson(file), { n: 2 });
  assert.deepEqual(await fs.readdir(path.dirname(file)), ['a.json']);
  // A write that fails (the target is a folder) keeps nothing half-written.
  await fs.mkdir(path.join(dir, 'taken'));
  await assert.rejects(writeFileAtomic(path.join(dir, 'taken'), 'x'));
  assert.deepEqual((await fs.readdir(dir)).sort(), ['sub', 'taken']);
  assert.equal(await exists(file), true);
  assert.equal(await exists(path.join(dir, 'nope')), false);
});

test("a folder written atomically appears whole; a second writer leaves the first one's and gets false", async () => {
  const dir = tempDir();
  const target = path.join(dir, 'key', 'result');
  assert.equal(await writeDirAtomic(target, { 'a.json': '{"n": 1}', 'b.txt': 'one' }), true);
  assert.equal(await writeDirAtomic(target, { 'a.json': '{"n": 2}' }), false);
  assert.deepEqual((await fs.readdir(target)).sort(), ['a.json', 'b.txt']);
  assert.deepEqual(await readJson(path.join(target, 'a.json')), { n: 1 });
  assert.deepEqual(await fs.readdir(path.join(dir, 'key')), ['result'], 'no temporary folder left');
  assert.equal(await hashFileHex(path.join(target, 'b.txt')), hashHex('one'));
});

test('the one JSON reader names the file and says what to do; optional files read as undefined', async () => {
  const dir = tempDir();
  const bad = path.join(dir, 'bad.json');
  await fs.writeFile(bad, '{ not json');
  await assert.rejects(
    readJson(bad, 'write it again'),
    (e: unknown) => e instanceof VisemoError && e.message.startsWith(`cannot read ${bad}: `) && e.hint === 'write it again',
  );
  await assert.rejects(readJson(path.join(dir, 'missing.json')), (e: unknown) => e instanceof VisemoError && /ENOENT/.test(e.message));
  assert.equal(await readJsonIfPresent(path.join(dir, 'missing.json')), undefined);
  assert.equal(await readJsonIfPresent(bad), undefined);
});

test('errors: first line of a message; one-line form with the hint', () => {
  assert.equal(firstLine(new Error('one\ntwo')), 'one');
  assert.equal(firstLine('plain'), 'plain');
  assert.equal(new VisemoError('bad file x', 'fix it').toLine(), 'bad file x — fix it');
  assert.equal(new VisemoError('bad file x').toLine(), 'bad file x');
  assert.equal(userLine(new VisemoError('bad file x', 'fix it')), 'bad file x — fix it');
  assert.equal(userLine(new Error('one\ntwo')), 'one');
});

test('hash: sha256 hex, cut to length, parts hashed in order', () => {
  assert.equal(hashHex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(hashHex(['a', 'bc'], 16), hashHex('abc', 16));
  assert.equal(hashHex(new TextEncoder().encode('abc'), 8), 'ba7816bf');
  assert.notEqual(hashHex(['ab', 'c']), hashHex(['c', 'ab']));
});

test('argmax, percent and tables', () => {
  assert.equal(argmax([0.1, 0.7, 0.2]), 1);
  assert.equal(argmax(Float32Array.from([0.5, 0.5])), 0, 'the first on ties');
  assert.equal(pct(0.90625), '90.63%');
  assert.equal(pct(0.896, 1), '89.6%');
  assert.equal(fixed(0.12345), '0.123');
  assert.equal(
    formatTable(
      ['model', 'acc'],
      [
        ['a', '1.0'],
        ['long', '10.0'],
      ],
    ),
    'model   acc\n-----  ----\na       1.0\nlong   10.0',
  );
});

test('seeded randomness repeats exactly for a seed and differs across seeds', () => {
  const draw = (seed: number) => Array.from({ length: 5 }, createRng(seed));
  assert.deepEqual(draw(7), draw(7));
  assert.notDeepEqual(draw(7), draw(8));
  const a = shuffleInPlace([1, 2, 3, 4, 5, 6], createRng(1));
  assert.deepEqual([...a].sort(), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(a, shuffleInPlace([1, 2, 3, 4, 5, 6], createRng(1)));
  const rng = createRng(3);
  const xs = Array.from({ length: 4000 }, () => gaussian(rng));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
  assert.ok(Math.abs(mean) < 0.06 && Math.abs(sd - 1) < 0.06, `mean ${mean}, sd ${sd}`);
});
