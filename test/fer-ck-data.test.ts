/** scripts/fer-ck-data.ts: the bundled visemo model's training, oversampled, focus and held-out CK+ folders are links, and no CK+ subject is on both sides. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CKPLUS, FER_TRAIN, hasShared, REPO, tempDir } from './helpers.js';

test('fer-ck-data links FER2013 train and CK+ training subjects, and holds the other CK+ subjects out', {
  skip: hasShared ? false : 'needs ../shared/datasets',
}, async () => {
  const out = tempDir();
  const script = () =>
    execFileSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'scripts', 'fer-ck-data.ts'), out], { cwd: REPO, encoding: 'utf8', stdio: 'pipe' });
  const log = script();
  const subjectsOf = async (dir: string) => {
    const subjects = new Set<string>();
    for (const c of await fs.readdir(dir)) {
      for (const f of await fs.readdir(path.join(dir, c))) {
        const target = await fs.readlink(path.join(dir, c, f)); // throws if not a link: nothing is copied
        assert.ok(target.startsWith(CKPLUS) || target.startsWith(FER_TRAIN), target);
        if (target.startsWith(CKPLUS)) {
          assert.equal(path.basename(path.dirname(target)), c, 'a link keeps its class');
          subjects.add(f.split('_')[0]!);
        }
      }
    }
    return subjects;
  };
  const train = await subjectsOf(path.join(out, 'fer-ck-train'));
  const heldOut = await subjectsOf(path.join(out, 'ckplus-heldout'));
  assert.deepEqual(await subjectsOf(path.join(out, 'ck-focus')), train, 'the focus folder has the same CK+ training subjects');
  assert.deepEqual(await subjectsOf(path.join(out, 'fer-ck-x6')), train, 'the oversampled folder has the same CK+ training subjects');
  const ckCount = Number(/\+ (\d+) CK\+ images/.exec(log)?.[1]);
  const x6Ck = (await Promise.all((await fs.readdir(path.join(out, 'fer-ck-x6'))).map((c) => fs.readdir(path.join(out, 'fer-ck-x6', c)))))
    .flat()
    .filter((f) => /^S\d+_/.test(f));
  assert.equal(x6Ck.length, 6 * ckCount, 'each CK+ training image is linked six times');
  assert.ok(
    x6Ck.every((f) => /-c[1-6]\.png$/.test(f)),
    'copies are named -c1 … -c6',
  );
  assert.ok(train.size > 50 && heldOut.size > 20, `${train.size} training and ${heldOut.size} held-out subjects`);
  assert.deepEqual(
    [...heldOut].filter((s) => train.has(s)),
    [],
    'a subject on both sides',
  );
  assert.deepEqual((await fs.readdir(path.join(out, 'fer-ck-train'))).sort(), ['anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise']);
  assert.match(log, /23744 FER2013 \+ \d+ CK\+ images/);
  // 1000 per class, but FER2013 train has only 436 disgust images.
  assert.match(log, /ck-focus: 5436 FER2013 \+ the same \d+ CK\+ images/);

  // Run again: its own links are replaced; a real file in its folders stops it, untouched.
  script();
  const mine = path.join(out, 'ckplus-heldout', 'anger', 'mine.txt');
  await fs.writeFile(mine, 'user data');
  assert.throws(script, /is not a link this script made/);
  assert.equal(await fs.readFile(mine, 'utf8'), 'user data');
});
