/** scripts/wild-data.ts: the seven-class training mix is links only, and no person, film or CK+ subject is on two sides. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fePerson, sfewFilm } from '../scripts/data-links.js';
import { hasShared, REPO, SHARED, tempDir } from './helpers.js';

const SEVEN = ['anger', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise'];

test('wild-data links FER2013, SFEW, facial_expressions and CK+, holding people, films and subjects out', {
  skip: hasShared && (await fs.stat(path.join(SHARED, 'sfew')).catch(() => null)) ? false : 'needs ../shared/datasets with sfew and facial_expressions',
}, async () => {
  const out = tempDir();
  const log = execFileSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'scripts', 'wild-data.ts'), out], {
    cwd: REPO,
    encoding: 'utf8',
    stdio: 'pipe',
  });
  /** Groups (film, person, CK+ subject) per source, from each link's target; every entry must be a link. */
  const groups = async (dir: string) => {
    const g: Record<string, Set<string>> = { sfew: new Set(), fe: new Set(), ck: new Set(), fer: new Set() };
    for (const c of await fs.readdir(dir)) {
      for (const f of await fs.readdir(path.join(dir, c))) {
        const target = await fs.readlink(path.join(dir, c, f));
        assert.equal(path.basename(path.dirname(target)), c, `${f} keeps its class`);
        const name = path.basename(target);
        if (target.includes('/sfew/')) g.sfew!.add(sfewFilm(name));
        else if (target.includes('/facial_expressions/')) g.fe!.add(fePerson(name));
        else if (target.includes('/ckplus48/')) g.ck!.add(name.split('_')[0]!);
        else if (target.includes('/fer2013/train/')) g.fer!.add(name);
        else assert.fail(`unexpected link target ${target}`);
      }
    }
    return g;
  };
  const train = await groups(path.join(out, 'wild7', 'train'));
  const val = await groups(path.join(out, 'wild7', 'val'));
  const feTest = await groups(path.join(out, 'fe-heldout'));
  const ckTest = await groups(path.join(out, 'ckplus-heldout'));
  const overlap = (a: Set<string>, b: Set<string>) => [...a].filter((x) => b.has(x));
  assert.deepEqual(overlap(train.sfew!, val.sfew!), [], 'a film in train and val');
  assert.deepEqual(overlap(train.fe!, val.fe!), [], 'a person in train and val');
  assert.deepEqual(overlap(train.fe!, feTest.fe!), [], 'a held-out person in training');
  assert.deepEqual(overlap(val.fe!, feTest.fe!), [], 'a held-out person in validation');
  assert.deepEqual(overlap(train.ck!, ckTest.ck!), [], 'a held-out CK+ subject in training');
  assert.deepEqual(overlap(train.fer!, val.fer!), [], 'a FER2013 image in train and val');
  assert.ok(
    train.sfew!.size > 25 && val.sfew!.size > 5 && feTest.fe!.size > 300,
    `${train.sfew!.size} / ${val.sfew!.size} films, ${feTest.fe!.size} held-out people`,
  );
  assert.equal(ckTest.ck!.size, 35, 'the same 35 held-out CK+ subjects as the six-class chain');
  // SFEW's own val films never appear: that folder is the SFEW test set.
  const sfewValFilms = new Set((await Promise.all(SEVEN.map((c) => fs.readdir(path.join(SHARED, 'sfew', 'val', c))))).flat().map(sfewFilm));
  assert.deepEqual(overlap(train.sfew!, sfewValFilms), [], 'an SFEW test film in training');
  assert.deepEqual((await fs.readdir(path.join(out, 'wild7', 'train'))).sort(), SEVEN);
  assert.match(log, /wild7\/train: \d+ FER2013 \+ 3 × \d+ SFEW/);
  const sfewTrainLinks = (await Promise.all(SEVEN.map((c) => fs.readdir(path.join(out, 'wild7', 'train', c)))))
    .flat()
    .filter((f) => /-c[123]\.jpg$/.test(f) && !/^S\d+_/.test(f));
  assert.equal(sfewTrainLinks.length, 3 * Number(/3 × (\d+) SFEW/.exec(log)![1]), 'each SFEW training image is linked three times');
  // The ablations' lite mix: wild7 with a quarter of its FER2013 images, nothing from outside it.
  const lite = await groups(path.join(out, 'wild7-lite', 'train'));
  assert.deepEqual(lite.sfew, train.sfew);
  assert.deepEqual(lite.fe, train.fe);
  assert.deepEqual(lite.ck, train.ck);
  assert.deepEqual(overlap(lite.fer!, train.fer!).length, lite.fer!.size, 'lite FER2013 images are wild7 training images');
  assert.ok(Math.abs(lite.fer!.size / train.fer!.size - 0.25) < 0.01, `${lite.fer!.size} of ${train.fer!.size} FER2013 images`);
  assert.deepEqual(await groups(path.join(out, 'wild7-lite', 'val')), val);
});
